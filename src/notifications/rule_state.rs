//! `alert_rule_state` writes: they happen only after a delivery succeeded, so a receiver's
//! outage delays an alert (or a resolved message) but never loses it.

use anyhow::Context;
use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;
use uuid::Uuid;

/// The alert for (`rule_id`, `subject`) was delivered at `at`: the cooldown starts, the
/// receiver knows it fires, and the rule's `last_triggered_at` moves.
pub async fn record_fired(
    client: &impl GenericClient,
    rule_id: Uuid,
    subject: &str,
    value: f64,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    // A rule deleted meanwhile gets no state (the cascade already ran or will).
    client
        .execute(
            "INSERT INTO alert_rule_state
                 (rule_id, subject, notified, firing_since, last_triggered_at, last_value, updated_at)
             SELECT $1::uuid, $2::varchar, true, $3::timestamptz, $3::timestamptz, $4::float8,
                    $3::timestamptz
             WHERE EXISTS (SELECT 1 FROM alert_rules WHERE id = $1::uuid)
             ON CONFLICT (rule_id, subject) DO UPDATE SET
                 notified = true,
                 firing_since = CASE WHEN alert_rule_state.notified
                     THEN COALESCE(alert_rule_state.firing_since, EXCLUDED.firing_since)
                     ELSE EXCLUDED.firing_since END,
                 last_triggered_at = EXCLUDED.last_triggered_at,
                 last_value = EXCLUDED.last_value,
                 updated_at = EXCLUDED.updated_at",
            &[&rule_id, &subject, &at, &value],
        )
        .await
        .context("recording a delivered alert")?;
    client
        .execute(
            "UPDATE alert_rules SET last_triggered_at = $2
             WHERE id = $1 AND (last_triggered_at IS NULL OR last_triggered_at < $2)",
            &[&rule_id, &at],
        )
        .await
        .context("moving the rule's last_triggered_at")?;
    Ok(())
}

/// The receiver was told the condition cleared (or the rule sends no resolved messages).
pub async fn record_cleared(
    client: &impl GenericClient,
    rule_id: Uuid,
    subject: &str,
    value: f64,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    client
        .execute(
            "UPDATE alert_rule_state
             SET notified = false, firing_since = NULL, last_value = $3, updated_at = $4
             WHERE rule_id = $1 AND subject = $2",
            &[&rule_id, &subject, &value, &at],
        )
        .await
        .context("recording a resolved alert")?;
    Ok(())
}
