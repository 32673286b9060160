//! The alert evaluator (spec "Alert Evaluation Loop", decisions.md §5 and §6): every
//! `--alert-interval`, on one replica at a time, judge every enabled rule, deliver what
//! fires or clears concurrently, and record each final outcome as it comes in.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::decide::{self, Action};
use super::sender::{Outcome, Sender, Target};
use super::{inputs, log, rule_state};
use crate::metrics::EvaluationLabel;
use crate::state::AppState;

const EVALUATOR_LOCK: i64 = crate::db::locks::EVALUATOR;
/// Deliveries in flight at once: a slow receiver holds one slot, never the others.
const MAX_CONCURRENT_DELIVERIES: usize = 8;

/// The worker: evaluates at start-up and then every `alert_interval` until `cancel` fires.
/// A failed evaluation is logged and counted; the next one starts afresh.
pub async fn run(state: AppState, cancel: CancellationToken) -> anyhow::Result<()> {
    if !state.config.evaluate_alerts {
        tracing::info!(
            "--evaluate-alerts false: the sidecar sends no alert (CineVault's own evaluator may)"
        );
        return Ok(());
    }
    let sender = Sender::for_state(&state).context("building the webhook client")?;
    let mut ticker = tokio::time::interval(state.config.alert_interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = ticker.tick() => {
                let result = match evaluate_once(&state, &sender, &cancel).await {
                    Ok(Evaluation::Skipped) => "skipped",
                    Ok(Evaluation::Done { .. }) => "evaluated",
                    Err(err) => {
                        tracing::warn!(error = format!("{err:#}"), "alert evaluation failed; retrying next interval");
                        "failed"
                    }
                };
                state.metrics.alert_evaluations.get_or_create(&EvaluationLabel { result }).inc();
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evaluation {
    /// Another replica holds the evaluator lock.
    Skipped,
    Done {
        firing: usize,
        delivered: usize,
        failed: usize,
    },
}

/// Tolerance on cooldowns for the jitter of evaluation times.
fn cooldown_slack(alert_interval: Duration) -> chrono::Duration {
    chrono::Duration::from_std((alert_interval / 10).min(Duration::from_secs(30)))
        .unwrap_or_else(|_| chrono::Duration::zero())
}

/// How long Alertmanager keeps a firing alert without hearing from us again: past the next
/// re-send (after the cooldown) with room for two evaluations.
fn hold_for(cooldown: chrono::Duration, alert_interval: Duration) -> chrono::Duration {
    let interval =
        chrono::Duration::from_std(alert_interval).unwrap_or(chrono::Duration::minutes(5));
    cooldown + interval * 2
}

struct Job {
    rule_id: Uuid,
    channel_id: Uuid,
    subject: String,
    value: f64,
    action: Action,
}

/// One evaluation. Holds a session advisory lock on one connection for its duration, so
/// two replicas never deliver the same alert; each outcome (its `alert_log` row and, on
/// success, the rule's state) commits as soon as it is known.
pub async fn evaluate_once(
    state: &AppState,
    sender: &Sender,
    cancel: &CancellationToken,
) -> anyhow::Result<Evaluation> {
    let Some(mut lock) = EvaluatorLock::try_acquire(&state.pool).await? else {
        return Ok(Evaluation::Skipped);
    };
    let (rules, readings, states) = {
        let client = lock.client()?;
        (
            inputs::enabled_rules(client).await?,
            inputs::readings(client, state.config.collect_interval * 3).await?,
            inputs::states(client).await?,
        )
    };
    let now = Utc::now();
    let plan = decide::plan(
        &rules,
        &readings,
        &states,
        now,
        cooldown_slack(state.config.alert_interval),
    );
    state
        .metrics
        .alert_rules_firing
        .set(i64::try_from(plan.firing).unwrap_or(i64::MAX));

    let limit = Arc::new(Semaphore::new(MAX_CONCURRENT_DELIVERIES));
    let mut deliveries = JoinSet::new();
    for step in plan.steps {
        let rule = &rules[step.rule];
        if step.action == Action::Forget {
            rule_state::record_cleared(lock.client()?, rule.id, &step.subject, step.value, now)
                .await?;
            continue;
        }
        let Some(channel_type) = rule.channel.channel_type else {
            continue;
        };
        let previous = states.get(&(rule.id, step.subject.clone()));
        let hold = hold_for(rule.cooldown, state.config.alert_interval);
        let alert = decide::alert_for(rule, &step, previous, now, hold);
        let target = Target {
            channel_type,
            webhook_url: rule.channel.webhook_url.clone(),
            signing_secret: rule.channel.signing_secret.clone(),
        };
        let job = Job {
            rule_id: rule.id,
            channel_id: rule.channel.id,
            subject: step.subject,
            value: step.value,
            action: step.action,
        };
        let (sender, cancel, limit) = (sender.clone(), cancel.clone(), limit.clone());
        deliveries.spawn(async move {
            let _slot = limit.acquire_owned().await;
            let outcome = sender.deliver(&target, &alert, &cancel).await;
            (job, alert, outcome)
        });
    }

    let (mut delivered, mut failed) = (0, 0);
    while let Some(joined) = deliveries.join_next().await {
        let (job, alert, outcome) = joined.context("a delivery task failed")?;
        if outcome.cancelled {
            continue;
        }
        record(lock.client_mut()?, &job, &alert, &outcome, now).await?;
        if outcome.delivered {
            delivered += 1;
        } else {
            failed += 1;
            tracing::warn!(
                rule.id = %job.rule_id,
                channel.id = %job.channel_id,
                kind = alert.kind.as_str(),
                http_status = outcome.http_status,
                attempts = outcome.attempts,
                error = outcome.error.as_deref().unwrap_or(""),
                "alert delivery failed; it stays pending for the next evaluation"
            );
        }
    }
    lock.release().await;
    Ok(Evaluation::Done {
        firing: plan.firing,
        delivered,
        failed,
    })
}

/// One outcome, atomically: its log row and, when delivered, the rule's new state.
async fn record(
    client: &mut tokio_postgres::Client,
    job: &Job,
    alert: &super::message::Alert,
    outcome: &Outcome,
    evaluated_at: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    let tx = client
        .transaction()
        .await
        .context("starting a transaction")?;
    log::record(
        &tx,
        Some(job.rule_id),
        Some(job.channel_id),
        alert,
        outcome,
        Utc::now(),
    )
    .await?;
    if outcome.delivered {
        match job.action {
            Action::Fire => {
                rule_state::record_fired(&tx, job.rule_id, &job.subject, job.value, evaluated_at)
                    .await?
            }
            Action::Resolve | Action::Forget => {
                rule_state::record_cleared(&tx, job.rule_id, &job.subject, job.value, evaluated_at)
                    .await?
            }
        }
    }
    tx.commit().await.context("committing a delivery outcome")?;
    Ok(())
}

/// The evaluator's session-level advisory lock and the connection holding it. Released
/// explicitly; if an evaluation ends any other way (an error, a panic, an abort), the
/// connection is closed instead of going back to the pool, which releases the lock.
struct EvaluatorLock {
    client: Option<deadpool_postgres::Object>,
}

impl EvaluatorLock {
    async fn try_acquire(pool: &deadpool_postgres::Pool) -> anyhow::Result<Option<Self>> {
        let client = pool.get().await.context("getting a database connection")?;
        let mut lock = Self {
            client: Some(client),
        };
        let got: bool = lock
            .client()?
            .query_one("SELECT pg_try_advisory_lock($1)", &[&EVALUATOR_LOCK])
            .await
            .context("taking the evaluator lock")?
            .get(0);
        if got {
            Ok(Some(lock))
        } else {
            // Nothing held: the connection can go back to the pool.
            lock.client.take();
            Ok(None)
        }
    }

    fn client(&self) -> anyhow::Result<&tokio_postgres::Client> {
        self.client
            .as_deref()
            .map(|w| &**w)
            .context("the evaluator lock was already released")
    }

    fn client_mut(&mut self) -> anyhow::Result<&mut tokio_postgres::Client> {
        self.client
            .as_deref_mut()
            .map(|w| &mut **w)
            .context("the evaluator lock was already released")
    }

    async fn release(mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        let unlocked = client
            .query_one("SELECT pg_advisory_unlock($1)", &[&EVALUATOR_LOCK])
            .await
            .map(|r| r.get::<_, bool>(0))
            .unwrap_or(false);
        if !unlocked {
            drop(deadpool_postgres::Object::take(client));
        }
    }
}

impl Drop for EvaluatorLock {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            drop(deadpool_postgres::Object::take(client));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alertmanager_holds_firing_alerts_past_the_next_resend() {
        let hold = hold_for(chrono::Duration::minutes(60), Duration::from_secs(300));
        assert_eq!(hold, chrono::Duration::minutes(70));
        assert_eq!(
            cooldown_slack(Duration::from_secs(300)),
            chrono::Duration::seconds(30)
        );
        assert_eq!(
            cooldown_slack(Duration::from_secs(1)),
            chrono::Duration::milliseconds(100)
        );
    }
}
