//! What one evaluation reads: the enabled rules with their channels, each host's fresh
//! readings, the last hour's failure counts, and the evaluator's per-rule state.

use std::time::Duration;

use anyhow::Context;
use tokio_postgres::GenericClient;

use super::decide::{ChannelView, HostReading, Readings, RuleView, States, SubjectState};
use super::kinds::{ChannelType, ConditionType, Events};
use super::rules::real_to_f64;

pub async fn enabled_rules(client: &impl GenericClient) -> anyhow::Result<Vec<RuleView>> {
    let rows = client
        .query(
            "SELECT r.id, r.name, r.condition_type, r.threshold, r.cooldown_minutes,
                    r.send_resolved, c.id, c.channel_type, c.webhook_url, c.is_enabled,
                    c.events, c.signing_secret
             FROM alert_rules r JOIN notification_channels c ON c.id = r.channel_id
             WHERE r.is_enabled
             ORDER BY r.created_at, r.id",
            &[],
        )
        .await
        .context("reading the enabled alert rules")?;
    let mut rules = Vec::with_capacity(rows.len());
    for row in &rows {
        let condition: String = row.get(2);
        // A condition this build does not know (a row written by someone else) is skipped.
        let Some(condition) = ConditionType::parse(&condition) else {
            continue;
        };
        let cooldown_minutes: i32 = row.get(4);
        rules.push(RuleView {
            id: row.get(0),
            name: row.get(1),
            condition,
            threshold: real_to_f64(row.get(3)),
            cooldown: chrono::Duration::minutes(i64::from(cooldown_minutes.max(0))),
            send_resolved: row.get(5),
            channel: ChannelView {
                id: row.get(6),
                channel_type: ChannelType::parse(row.get(7)),
                webhook_url: row.get(8),
                is_enabled: row.get(9),
                events: Events::from_stored(&row.get::<_, serde_json::Value>(10)),
                signing_secret: row.get(11),
            },
        });
    }
    Ok(rules)
}

/// Each host's latest row not older than `fresh_within`, and the counts of the last 60
/// minutes (failed transcodes by completion time, stream errors by occurrence). Rows of
/// CineVault's own collector (host '', GiB) are not readings of the sidecar's.
pub async fn readings(
    client: &impl GenericClient,
    fresh_within: Duration,
) -> anyhow::Result<Readings> {
    let rows = client
        .query(
            "SELECT DISTINCT ON (host) host, disk_total_gb, disk_free_gb, gpu_temp_celsius
             FROM system_metrics
             WHERE recorded_at >= now() - make_interval(secs => $1) AND host <> ''
             ORDER BY host, recorded_at DESC",
            &[&fresh_within.as_secs_f64()],
        )
        .await
        .context("reading the latest system metrics per host")?;
    let hosts = rows
        .iter()
        .map(|r| HostReading {
            host: r.get(0),
            disk_total_gb: f64::from(r.get::<_, f32>(1)),
            disk_free_gb: real_to_f64(r.get(2)),
            gpu_temp_celsius: r.get::<_, Option<f32>>(3).map(real_to_f64),
        })
        .collect();
    let counts = client
        .query_one(
            "SELECT
                 (SELECT count(*) FROM transcode_history
                  WHERE NOT success AND completed_at >= now() - interval '60 minutes'),
                 (SELECT count(*) FROM stream_errors
                  WHERE occurred_at >= now() - interval '60 minutes')",
            &[],
        )
        .await
        .context("counting the last hour's failures")?;
    Ok(Readings {
        hosts,
        transcode_failures: counts.get(0),
        stream_errors: counts.get(1),
    })
}

pub async fn states(client: &impl GenericClient) -> anyhow::Result<States> {
    let rows = client
        .query(
            "SELECT rule_id, subject, notified, firing_since, last_triggered_at
             FROM alert_rule_state",
            &[],
        )
        .await
        .context("reading the alert rules' state")?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                (r.get(0), r.get(1)),
                SubjectState {
                    notified: r.get(2),
                    firing_since: r.get(3),
                    last_triggered_at: r.get(4),
                },
            )
        })
        .collect())
}
