//! `alert_rules`: the model and its queries.

use anyhow::Context;
use chrono::{DateTime, Utc};
use tokio_postgres::error::SqlState;
use tokio_postgres::{GenericClient, Row};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: Uuid,
    pub name: String,
    /// As stored (checked on the way in; a row written by someone else may hold anything).
    pub condition_type: String,
    /// The column is REAL.
    pub threshold: f32,
    pub cooldown_minutes: i32,
    pub channel_id: Uuid,
    pub is_enabled: bool,
    pub send_resolved: bool,
    pub last_triggered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Rule {
    fn from_row(row: &Row) -> Self {
        Self {
            id: row.get("id"),
            name: row.get("name"),
            condition_type: row.get("condition_type"),
            threshold: row.get("threshold"),
            cooldown_minutes: row.get("cooldown_minutes"),
            channel_id: row.get("channel_id"),
            is_enabled: row.get("is_enabled"),
            send_resolved: row.get("send_resolved"),
            last_triggered_at: row.get("last_triggered_at"),
            created_at: row.get("created_at"),
            updated_at: row.get("updated_at"),
        }
    }
}

/// A REAL as the decimal it was written as (50.2, not 50.200000762939453).
pub fn real_to_f64(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(f64::from(x))
}

const COLUMNS: &str = "id, name, condition_type, threshold, cooldown_minutes, channel_id, \
                       is_enabled, send_resolved, last_triggered_at, created_at, updated_at";

pub async fn list(client: &impl GenericClient) -> anyhow::Result<Vec<Rule>> {
    let rows = client
        .query(
            &format!("SELECT {COLUMNS} FROM alert_rules ORDER BY created_at, id"),
            &[],
        )
        .await
        .context("listing alert rules")?;
    Ok(rows.iter().map(Rule::from_row).collect())
}

pub async fn get_for_update(client: &impl GenericClient, id: Uuid) -> anyhow::Result<Option<Rule>> {
    let row = client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM alert_rules WHERE id = $1 FOR UPDATE"),
            &[&id],
        )
        .await
        .context("reading an alert rule")?;
    Ok(row.as_ref().map(Rule::from_row))
}

/// Creates the rule; `None` when `rule.channel_id` names no channel. `id`, timestamps and
/// `last_triggered_at` of `rule` are ignored.
pub async fn insert(client: &impl GenericClient, rule: &Rule) -> anyhow::Result<Option<Rule>> {
    let res = client
        .query_one(
            &format!(
                "INSERT INTO alert_rules (name, condition_type, threshold, cooldown_minutes,
                     channel_id, is_enabled, send_resolved)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
            ),
            &[
                &rule.name,
                &rule.condition_type,
                &rule.threshold,
                &rule.cooldown_minutes,
                &rule.channel_id,
                &rule.is_enabled,
                &rule.send_resolved,
            ],
        )
        .await;
    match res {
        Ok(row) => Ok(Some(Rule::from_row(&row))),
        Err(e) if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => Ok(None),
        Err(e) => Err(e).context("creating an alert rule"),
    }
}

/// Writes every editable column back; `None` when `rule.channel_id` names no channel.
pub async fn save(client: &impl GenericClient, rule: &Rule) -> anyhow::Result<Option<Rule>> {
    let res = client
        .query_one(
            &format!(
                "UPDATE alert_rules SET name = $2, condition_type = $3, threshold = $4,
                     cooldown_minutes = $5, channel_id = $6, is_enabled = $7,
                     send_resolved = $8, updated_at = now()
                 WHERE id = $1 RETURNING {COLUMNS}"
            ),
            &[
                &rule.id,
                &rule.name,
                &rule.condition_type,
                &rule.threshold,
                &rule.cooldown_minutes,
                &rule.channel_id,
                &rule.is_enabled,
                &rule.send_resolved,
            ],
        )
        .await;
    match res {
        Ok(row) => Ok(Some(Rule::from_row(&row))),
        Err(e) if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => Ok(None),
        Err(e) => Err(e).context("updating an alert rule"),
    }
}

/// Forgets what the evaluator knew about the rule (its condition changed: other subjects).
pub async fn clear_state(client: &impl GenericClient, id: Uuid) -> anyhow::Result<()> {
    client
        .execute("DELETE FROM alert_rule_state WHERE rule_id = $1", &[&id])
        .await
        .context("clearing an alert rule's state")?;
    Ok(())
}

/// True when a rule was deleted (its log entries stay, with the rule shown as null).
pub async fn delete(client: &impl GenericClient, id: Uuid) -> anyhow::Result<bool> {
    let n = client
        .execute("DELETE FROM alert_rules WHERE id = $1", &[&id])
        .await
        .context("deleting an alert rule")?;
    Ok(n > 0)
}
