//! `alert_log`: one row per final outcome of a delivery (alert, resolved or test message).

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::message::Alert;
use super::sender::Outcome;

/// How many entries the log endpoint shows (the spec: the last 100).
pub const RECENT: i64 = 100;

pub async fn record(
    client: &impl GenericClient,
    rule_id: Option<Uuid>,
    channel_id: Option<Uuid>,
    alert: &Alert,
    outcome: &Outcome,
    sent_at: DateTime<Utc>,
) -> anyhow::Result<()> {
    // A rule or channel deleted while its message was on the way: the row stays, unlinked.
    client
        .execute(
            "INSERT INTO alert_log (rule_id, channel_id, message, success, error_detail,
                 sent_at, kind, host, http_status, attempts, sent_by)
             VALUES ((SELECT id FROM alert_rules WHERE id = $1),
                     (SELECT id FROM notification_channels WHERE id = $2),
                     $3, $4, $5, $6, $7, $8, $9, $10, 'sidecar')",
            &[
                &rule_id,
                &channel_id,
                &alert.message(),
                &outcome.delivered,
                &outcome.error,
                &sent_at,
                &alert.kind.as_str(),
                &alert.host,
                &outcome.http_status.map(i32::from),
                &i32::try_from(outcome.attempts).unwrap_or(i32::MAX),
            ],
        )
        .await
        .context("writing an alert_log row")?;
    Ok(())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AlertLogEntry)]
pub struct Entry {
    pub id: Uuid,
    pub rule_id: Option<Uuid>,
    pub rule_name: Option<String>,
    pub channel_id: Option<Uuid>,
    pub channel_name: Option<String>,
    pub channel_type: Option<String>,
    /// alert, resolved or test.
    pub kind: String,
    pub host: Option<String>,
    pub message: String,
    pub success: bool,
    pub http_status: Option<i32>,
    pub error_detail: Option<String>,
    pub attempts: i32,
    pub sent_at: DateTime<Utc>,
    /// `sidecar`, or `cinevault` for a message CineVault's own alert evaluator sent (it
    /// evaluates the same rules and cannot be switched off).
    pub sent_by: String,
}

/// The newest `RECENT` entries, newest first, with their rule's and channel's names.
pub async fn recent(client: &impl GenericClient) -> anyhow::Result<Vec<Entry>> {
    let rows = client
        .query(
            "SELECT l.id, l.rule_id, r.name, l.channel_id, c.name, c.channel_type, l.kind,
                    l.host, l.message, l.success, l.http_status, l.error_detail, l.attempts,
                    l.sent_at, l.sent_by::text
             FROM alert_log l
             LEFT JOIN alert_rules r ON r.id = l.rule_id
             LEFT JOIN notification_channels c ON c.id = l.channel_id
             ORDER BY l.sent_at DESC, l.id DESC
             LIMIT $1",
            &[&RECENT],
        )
        .await
        .context("reading the alert log")?;
    Ok(rows
        .iter()
        .map(|r| Entry {
            id: r.get(0),
            rule_id: r.get(1),
            rule_name: r.get(2),
            channel_id: r.get(3),
            channel_name: r.get(4),
            channel_type: r.get(5),
            kind: r.get(6),
            host: r.get(7),
            message: r.get(8),
            success: r.get(9),
            http_status: r.get(10),
            error_detail: r.get(11),
            attempts: r.get(12),
            sent_at: r.get(13),
            sent_by: r.get(14),
        })
        .collect())
}
