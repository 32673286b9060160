//! What one evaluation does, decided from what the database holds (rules, fresh readings,
//! per-rule state) without any I/O: which conditions hold, which alerts and resolved
//! messages go out. The evaluator loads the inputs and carries the steps out.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::kinds::{ChannelType, ConditionType, Events};
use super::message::{Alert, AlertKind};

/// An enabled rule with its channel.
#[derive(Debug, Clone)]
pub struct RuleView {
    pub id: Uuid,
    pub name: String,
    pub condition: ConditionType,
    pub threshold: f64,
    pub cooldown: Duration,
    pub send_resolved: bool,
    pub channel: ChannelView,
}

#[derive(Clone)]
pub struct ChannelView {
    pub id: Uuid,
    /// `None` for a type this build does not know (a row written by someone else).
    pub channel_type: Option<ChannelType>,
    pub webhook_url: String,
    pub is_enabled: bool,
    pub events: Events,
    pub signing_secret: Option<String>,
}

impl std::fmt::Debug for ChannelView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelView")
            .field("id", &self.id)
            .field("channel_type", &self.channel_type)
            .field("webhook_url", &super::fields::mask_url(&self.webhook_url))
            .field("is_enabled", &self.is_enabled)
            .field("events", &self.events)
            .field("signing_secret_set", &self.signing_secret.is_some())
            .finish()
    }
}

impl ChannelView {
    /// decisions.md §5: enabled, and `events` holds "all" or the rule's condition.
    pub fn accepts(&self, condition: ConditionType) -> bool {
        self.is_enabled && self.channel_type.is_some() && self.events.allows(condition)
    }
}

/// A host's latest `system_metrics` row, only when it is fresh (not older than three
/// collection intervals): a stale host is judged on nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct HostReading {
    pub host: String,
    pub disk_total_gb: f64,
    pub disk_free_gb: f64,
    pub gpu_temp_celsius: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Readings {
    pub hosts: Vec<HostReading>,
    /// Failed transcodes and stream errors in the last 60 minutes.
    pub transcode_failures: i64,
    pub stream_errors: i64,
}

/// What the evaluator remembers per rule and subject (host, or "" for server-wide counts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectState {
    /// The receiver was told it fires and not yet that it cleared.
    pub notified: bool,
    pub firing_since: Option<DateTime<Utc>>,
    pub last_triggered_at: Option<DateTime<Utc>>,
}

pub type States = HashMap<(Uuid, String), SubjectState>;

/// The subjects a condition can be judged on now, with their values. Hosts without a GPU,
/// and hosts whose disk reading failed (a zero-sized disk), have nothing to judge.
pub fn observe(condition: ConditionType, readings: &Readings) -> Vec<(String, f64)> {
    match condition {
        ConditionType::DiskSpaceLow => readings
            .hosts
            .iter()
            .filter(|h| h.disk_total_gb > 0.0)
            .map(|h| (h.host.clone(), h.disk_free_gb))
            .collect(),
        ConditionType::GpuTempHigh => readings
            .hosts
            .iter()
            .filter_map(|h| h.gpu_temp_celsius.map(|t| (h.host.clone(), t)))
            .collect(),
        ConditionType::TranscodeFailure => {
            vec![(String::new(), readings.transcode_failures as f64)]
        }
        ConditionType::StreamError => vec![(String::new(), readings.stream_errors as f64)],
    }
}

/// The spec's table: free disk below, temperature above, counts above the threshold.
pub fn holds(condition: ConditionType, threshold: f64, value: f64) -> bool {
    match condition {
        ConditionType::DiskSpaceLow => value < threshold,
        ConditionType::GpuTempHigh
        | ConditionType::TranscodeFailure
        | ConditionType::StreamError => value > threshold,
    }
}

/// `slack` absorbs the jitter of evaluation times, so a 60-minute cooldown evaluated every
/// 5 minutes re-alerts after 60 minutes, not 65.
pub fn cooldown_passed(
    last: Option<DateTime<Utc>>,
    cooldown: Duration,
    now: DateTime<Utc>,
    slack: Duration,
) -> bool {
    match last {
        None => true,
        Some(last) => now - last + slack >= cooldown,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send the alert.
    Fire,
    /// The condition cleared after an alert: send the resolved message.
    Resolve,
    /// The condition cleared and the rule sends no resolved messages: just forget.
    Forget,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Index into the rules given to [`plan`].
    pub rule: usize,
    pub subject: String,
    pub value: f64,
    pub action: Action,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Rule and subject pairs whose condition holds now.
    pub firing: usize,
    pub steps: Vec<Step>,
}

pub fn plan(
    rules: &[RuleView],
    readings: &Readings,
    states: &States,
    now: DateTime<Utc>,
    slack: Duration,
) -> Plan {
    let mut out = Plan::default();
    for (i, rule) in rules.iter().enumerate() {
        let accepts = rule.channel.accepts(rule.condition);
        for (subject, value) in observe(rule.condition, readings) {
            let state = states
                .get(&(rule.id, subject.clone()))
                .cloned()
                .unwrap_or_default();
            let firing = holds(rule.condition, rule.threshold, value);
            out.firing += usize::from(firing);
            let action = match (firing, state.notified) {
                (true, _)
                    if cooldown_passed(state.last_triggered_at, rule.cooldown, now, slack) =>
                {
                    Some(Action::Fire)
                }
                (false, true) if rule.send_resolved => Some(Action::Resolve),
                (false, true) => Some(Action::Forget),
                _ => None,
            };
            // A channel that does not take this rule's alerts gets nothing; the state waits.
            let action = action.filter(|a| *a == Action::Forget || accepts);
            if let Some(action) = action {
                out.steps.push(Step {
                    rule: i,
                    subject,
                    value,
                    action,
                });
            }
        }
    }
    out
}

/// The message for a Fire or Resolve step. A firing alert holds until `hold_for` from now
/// (Alertmanager's `endsAt`) unless re-sent.
pub fn alert_for(
    rule: &RuleView,
    step: &Step,
    state: Option<&SubjectState>,
    now: DateTime<Utc>,
    hold_for: Duration,
) -> Alert {
    let resolved = step.action != Action::Fire;
    let starts_at = state
        .filter(|s| s.notified)
        .and_then(|s| s.firing_since)
        .unwrap_or(now);
    Alert {
        kind: if resolved {
            AlertKind::Resolved
        } else {
            AlertKind::Firing
        },
        rule_id: Some(rule.id),
        name: rule.name.clone(),
        condition: Some(rule.condition),
        host: rule.condition.per_host().then(|| step.subject.clone()),
        value: Some(step.value),
        threshold: Some(rule.threshold),
        at: now,
        starts_at,
        ends_at: if resolved { now } else { now + hold_for },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(condition: ConditionType, threshold: f64) -> RuleView {
        RuleView {
            id: Uuid::new_v4(),
            name: "r".into(),
            condition,
            threshold,
            cooldown: Duration::minutes(60),
            send_resolved: true,
            channel: ChannelView {
                id: Uuid::new_v4(),
                channel_type: Some(ChannelType::Generic),
                webhook_url: "http://127.0.0.1:9/".into(),
                is_enabled: true,
                events: Events::all(),
                signing_secret: None,
            },
        }
    }

    fn host(name: &str, free: f64, temp: Option<f64>) -> HostReading {
        HostReading {
            host: name.into(),
            disk_total_gb: 1000.0,
            disk_free_gb: free,
            gpu_temp_celsius: temp,
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-03-01T12:00:00Z".parse().expect("time")
    }

    fn steps(rules: &[RuleView], readings: &Readings, states: &States) -> Vec<(String, Action)> {
        plan(rules, readings, states, now(), Duration::zero())
            .steps
            .into_iter()
            .map(|s| (s.subject, s.action))
            .collect()
    }

    #[test]
    fn thresholds_are_strict_at_the_edge() {
        assert!(holds(ConditionType::DiskSpaceLow, 50.0, 49.9));
        assert!(!holds(ConditionType::DiskSpaceLow, 50.0, 50.0));
        assert!(holds(ConditionType::GpuTempHigh, 80.0, 80.5));
        assert!(!holds(ConditionType::GpuTempHigh, 80.0, 80.0));
        assert!(holds(ConditionType::TranscodeFailure, 3.0, 4.0));
        assert!(!holds(ConditionType::TranscodeFailure, 3.0, 3.0));
        assert!(holds(ConditionType::StreamError, 0.0, 1.0));
        assert!(!holds(ConditionType::StreamError, 0.0, 0.0));
    }

    #[test]
    fn disk_and_gpu_rules_are_judged_per_host_with_a_reading() {
        let readings = Readings {
            hosts: vec![
                host("media1", 41.2, None),
                host("media2", 50.0, Some(90.0)),
                HostReading {
                    disk_total_gb: 0.0,
                    disk_free_gb: 0.0,
                    ..host("broken-disk", 0.0, None)
                },
            ],
            ..Readings::default()
        };
        let rules = [
            rule(ConditionType::DiskSpaceLow, 50.0),
            rule(ConditionType::GpuTempHigh, 0.0),
        ];
        let got = steps(&rules, &readings, &States::new());
        assert_eq!(
            got,
            vec![
                ("media1".to_owned(), Action::Fire),
                ("media2".to_owned(), Action::Fire)
            ]
        );
        assert_eq!(
            plan(&rules, &readings, &States::new(), now(), Duration::zero()).firing,
            2
        );
    }

    #[test]
    fn cooldown_holds_back_a_repeat() {
        let r = rule(ConditionType::StreamError, 0.0);
        let readings = Readings {
            stream_errors: 3,
            ..Readings::default()
        };
        let mut states = States::new();
        let mut state = SubjectState {
            notified: true,
            firing_since: Some(now() - Duration::minutes(59)),
            last_triggered_at: Some(now() - Duration::minutes(59)),
        };
        states.insert((r.id, String::new()), state.clone());
        assert!(steps(std::slice::from_ref(&r), &readings, &states).is_empty());
        state.last_triggered_at = Some(now() - Duration::minutes(60));
        states.insert((r.id, String::new()), state);
        assert_eq!(
            steps(&[r], &readings, &states),
            vec![(String::new(), Action::Fire)]
        );
        let slack = Duration::seconds(1);
        let last = now() - Duration::minutes(60) + Duration::milliseconds(300);
        assert!(cooldown_passed(
            Some(last),
            Duration::minutes(60),
            now(),
            slack
        ));
    }

    #[test]
    fn channels_that_do_not_take_the_alert_get_nothing() {
        let readings = Readings {
            transcode_failures: 5,
            ..Readings::default()
        };
        let mut disabled = rule(ConditionType::TranscodeFailure, 1.0);
        disabled.channel.is_enabled = false;
        let mut filtered = rule(ConditionType::TranscodeFailure, 1.0);
        filtered.channel.events =
            Events::parse_list(vec!["disk_space_low".into()]).expect("events");
        let mut listed = rule(ConditionType::TranscodeFailure, 1.0);
        listed.channel.events =
            Events::parse_list(vec!["transcode_failure".into()]).expect("events");
        let p = plan(
            &[disabled, filtered, listed],
            &readings,
            &States::new(),
            now(),
            Duration::zero(),
        );
        assert_eq!(p.firing, 3);
        assert_eq!(p.steps.len(), 1);
        assert_eq!(p.steps[0].rule, 2);
    }

    #[test]
    fn a_cleared_condition_is_resolved_once_and_only_after_an_alert() {
        let mut r = rule(ConditionType::DiskSpaceLow, 50.0);
        let readings = Readings {
            hosts: vec![host("media1", 80.0, None)],
            ..Readings::default()
        };
        let told = SubjectState {
            notified: true,
            firing_since: Some(now()),
            last_triggered_at: Some(now()),
        };
        let mut states = States::new();
        assert!(steps(std::slice::from_ref(&r), &readings, &states).is_empty());
        states.insert((r.id, "media1".into()), told);
        assert_eq!(
            steps(std::slice::from_ref(&r), &readings, &states),
            vec![("media1".to_owned(), Action::Resolve)]
        );
        r.send_resolved = false;
        assert_eq!(
            steps(std::slice::from_ref(&r), &readings, &states),
            vec![("media1".to_owned(), Action::Forget)]
        );
        // A stale host (absent from the fresh readings) is neither firing nor resolved.
        assert!(steps(&[r], &Readings::default(), &states).is_empty());
    }

    #[test]
    fn alerts_carry_the_host_and_the_window() {
        let r = rule(ConditionType::DiskSpaceLow, 50.0);
        let step = Step {
            rule: 0,
            subject: "media1".into(),
            value: 41.2,
            action: Action::Fire,
        };
        let a = alert_for(&r, &step, None, now(), Duration::minutes(70));
        assert_eq!(a.host.as_deref(), Some("media1"));
        assert_eq!(a.ends_at - a.at, Duration::minutes(70));
        assert_eq!(a.kind, AlertKind::Firing);
        let since = now() - Duration::hours(2);
        let state = SubjectState {
            notified: true,
            firing_since: Some(since),
            last_triggered_at: Some(since),
        };
        let resolve = Step {
            action: Action::Resolve,
            ..step
        };
        let a = alert_for(&r, &resolve, Some(&state), now(), Duration::minutes(70));
        assert_eq!(
            (a.kind, a.starts_at, a.ends_at),
            (AlertKind::Resolved, since, now())
        );
        let g = rule(ConditionType::StreamError, 0.0);
        let s = Step {
            rule: 0,
            subject: String::new(),
            value: 2.0,
            action: Action::Fire,
        };
        assert_eq!(alert_for(&g, &s, None, now(), Duration::zero()).host, None);
    }
}
