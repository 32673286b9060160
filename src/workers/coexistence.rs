//! Beside CineVault's always-on workers (README "Running beside CineVault"). CineVault starts
//! a metrics collector, a nightly rollup and an alert evaluator unconditionally (its
//! main.go; nothing switches them off), over the same tables as the sidecar. On CineVault's
//! database this worker looks for each of them once a minute, from what they write:
//!
//! - **collector**: `system_metrics` rows with the host `''` (its INSERT does not name the
//!   column). The sidecar's answers and alerts never use them; CineVault's 30-day purge is
//!   met by keeping this host's older rows in `system_metrics_archive` (src/collector/store.rs).
//! - **rollup**: `daily_stats` rows that differ from the sidecar's own copy
//!   (`sidecar_daily_stats`). Each is written back with the sidecar's figures, so its
//!   figures are never lost and CineVault's own trends show them too.
//! - **alert evaluator**: `alert_log` rows it wrote (`sent_by` `'cinevault'`, the default)
//!   and rules whose `last_triggered_at` it moved. Both evaluate the same rules: unless
//!   `--evaluate-alerts false`, an alert may then arrive twice, and the admin is told so.
//!
//! What it found is in `/api/v1/status`, on the dashboard and in /metrics.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tokio::time::MissedTickBehavior;
use tokio_postgres::GenericClient;
use tokio_util::sync::CancellationToken;

use crate::metrics::WorkerLabel;
use crate::state::AppState;

pub const PERIOD: Duration = Duration::from_secs(60);
const RESTORE_LOCK: i64 = crate::db::locks::RESTORE;
/// A worker seen writing within this long is reported as running.
const RUNNING_WITHIN: chrono::Duration = chrono::Duration::minutes(15);

/// What was seen of one of CineVault's workers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Seen {
    /// Seen writing at some time.
    pub detected: bool,
    /// Seen writing within the last 15 minutes (the collector every minute; the rollup at
    /// CineVault's start and 00:05; the evaluator only when a rule fires).
    pub running: bool,
    pub last_seen: Option<DateTime<Utc>>,
    /// What the sidecar does about it, in a sentence.
    pub note: String,
}

/// CineVault's workers as last seen; `checked_at` is null until the first look.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CineVaultWorkers {
    pub checked_at: Option<DateTime<Utc>>,
    pub collector: Seen,
    pub rollup: Seen,
    pub alert_evaluator: Seen,
    /// Days whose daily_stats row CineVault's rollup overwrote and the sidecar wrote back,
    /// newest first (at most 30).
    pub days_restored: Vec<NaiveDate>,
    /// daily_stats rows of days the sidecar has not computed (CineVault's own UTC days).
    pub daily_stats_rows_not_ours: i64,
    /// True when both the sidecar and CineVault send the rules' alerts.
    pub duplicate_alerts: bool,
}

pub async fn run(state: AppState, cancel: CancellationToken) -> anyhow::Result<()> {
    if !state.is_cinevault() {
        return Ok(());
    }
    let mut ticker = tokio::time::interval(PERIOD);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = ticker.tick() => {
                if let Err(err) = look_once(&state).await {
                    tracing::warn!(error = format!("{err:#}"), "looking for CineVault's workers failed; retrying next minute");
                }
            }
        }
    }
}

/// One look: reads what CineVault's workers wrote, writes back overwritten days, and
/// updates the shared status and metrics. Returns what it found.
pub async fn look_once(state: &AppState) -> anyhow::Result<CineVaultWorkers> {
    let mut client = state
        .pool
        .get()
        .await
        .context("getting a database connection")?;
    let now: DateTime<Utc> = client.query_one("SELECT now()", &[]).await?.get(0);
    let collector_seen: Option<DateTime<Utc>> = client
        .query_one(
            "SELECT max(recorded_at) FROM system_metrics WHERE host = ''",
            &[],
        )
        .await
        .context("looking for CineVault's collector")?
        .get(0);
    let restored = restore_days(&mut client).await?;
    // Days CineVault wrote that the sidecar never computed (its UTC days, or history from
    // before the sidecar came) show its rollup ran, if not when.
    let days_not_ours: i64 = client
        .query_one(
            "SELECT count(*) FROM daily_stats d
             WHERE NOT EXISTS (SELECT 1 FROM sidecar_daily_stats o WHERE o.stat_date = d.stat_date)",
            &[],
        )
        .await
        .context("looking for CineVault's rollup")?
        .get(0);
    let evaluator_seen = evaluator_last_seen(&**client).await?;
    let previous = state.cinevault_workers();

    let mut found = CineVaultWorkers {
        checked_at: Some(now),
        ..CineVaultWorkers::default()
    };
    found.collector = seen(
        collector_seen.or(previous.collector.last_seen),
        now,
        "its rows (host '', other units) are left out of the sidecar's answers and alerts; \
         this host's rows are kept from its 30-day purge",
    );
    let rollup_seen = if restored.is_empty() {
        previous.rollup.last_seen
    } else {
        Some(now)
    };
    found.rollup = seen(
        rollup_seen,
        now,
        "days it overwrites in daily_stats are written back with the sidecar's figures; \
         the trends endpoint reads the sidecar's own copy",
    );
    found.rollup.detected |= days_not_ours > 0;
    found.daily_stats_rows_not_ours = days_not_ours;
    found.alert_evaluator = seen(
        evaluator_seen.or(previous.alert_evaluator.last_seen),
        now,
        if state.config.evaluate_alerts {
            "it evaluates the same rules and cannot be switched off: each alert may arrive \
             twice (set --evaluate-alerts false to leave them to CineVault)"
        } else {
            "the sidecar sends no alert (--evaluate-alerts false); CineVault's evaluator does"
        },
    );
    found.duplicate_alerts = found.alert_evaluator.detected && state.config.evaluate_alerts;
    let mut days: Vec<NaiveDate> = restored.clone();
    days.extend(previous.days_restored.iter().copied());
    days.sort_unstable_by(|a, b| b.cmp(a));
    days.dedup();
    days.truncate(30);
    found.days_restored = days;

    let m = &state.metrics;
    m.daily_stats_restored.inc_by(restored.len() as u64);
    for (worker, s, was) in [
        ("collector", &found.collector, &previous.collector),
        ("rollup", &found.rollup, &previous.rollup),
        (
            "alert_evaluator",
            &found.alert_evaluator,
            &previous.alert_evaluator,
        ),
    ] {
        let label = WorkerLabel { worker };
        m.cinevault_worker_detected
            .get_or_create(&label)
            .set(i64::from(s.detected));
        if let Some(t) = s.last_seen {
            m.cinevault_worker_last_seen
                .get_or_create(&label)
                .set(t.timestamp_millis() as f64 / 1000.0);
        }
        if s.detected && !was.detected {
            tracing::warn!(worker, note = %s.note, "CineVault's own worker writes the shared tables");
        }
    }
    if !restored.is_empty() {
        tracing::info!(days = ?restored, "daily_stats rows overwritten by CineVault's rollup written back");
    }
    state.set_cinevault_workers(found.clone());
    Ok(found)
}

fn seen(last: Option<DateTime<Utc>>, now: DateTime<Utc>, note: &str) -> Seen {
    Seen {
        detected: last.is_some(),
        running: last.is_some_and(|t| now - t <= RUNNING_WITHIN),
        last_seen: last,
        note: note.to_owned(),
    }
}

/// Writes the sidecar's figures back into every `daily_stats` row that differs from its own
/// copy; returns those days. One replica at a time.
async fn restore_days(client: &mut deadpool_postgres::Object) -> anyhow::Result<Vec<NaiveDate>> {
    let tx = client.transaction().await?;
    if !crate::db::try_xact_lock(&tx, RESTORE_LOCK).await? {
        return Ok(Vec::new());
    }
    let days = tx
        .query(
            "UPDATE daily_stats d SET
                 total_plays = o.total_plays, unique_users = o.unique_users,
                 total_watch_minutes = o.total_watch_minutes,
                 total_bytes_served = o.total_bytes_served, transcodes = o.transcodes,
                 direct_plays = o.direct_plays, direct_streams = o.direct_streams,
                 transcode_failures = o.transcode_failures, new_media_added = o.new_media_added,
                 library_size_total = o.library_size_total,
                 storage_used_bytes = o.storage_used_bytes
             FROM sidecar_daily_stats o
             WHERE d.stat_date = o.stat_date
               AND (d.total_plays, d.unique_users, d.total_watch_minutes, d.total_bytes_served,
                    d.transcodes, d.direct_plays, d.direct_streams, d.transcode_failures,
                    d.new_media_added, d.library_size_total, d.storage_used_bytes)
                   IS DISTINCT FROM
                   (o.total_plays, o.unique_users, o.total_watch_minutes, o.total_bytes_served,
                    o.transcodes, o.direct_plays, o.direct_streams, o.transcode_failures,
                    o.new_media_added, o.library_size_total, o.storage_used_bytes)
             RETURNING d.stat_date",
            &[],
        )
        .await
        .context("writing back daily_stats rows CineVault's rollup overwrote")?
        .iter()
        .map(|r| r.get(0))
        .collect();
    tx.commit().await?;
    Ok(days)
}

/// The last time CineVault's evaluator was seen: an alert_log row it wrote, or a rule whose
/// last_triggered_at it moved past the sidecar's own record (the rule's state, which a change
/// of condition forgets, or the sidecar's own log rows of it, written after it moves the rule).
async fn evaluator_last_seen(client: &impl GenericClient) -> anyhow::Result<Option<DateTime<Utc>>> {
    let row = client
        .query_one(
            "SELECT GREATEST(
                 (SELECT max(sent_at) FROM alert_log WHERE sent_by = 'cinevault'),
                 (SELECT max(r.last_triggered_at) FROM alert_rules r
                  WHERE r.last_triggered_at > COALESCE(GREATEST(
                      (SELECT max(s.last_triggered_at) FROM alert_rule_state s
                       WHERE s.rule_id = r.id),
                      (SELECT max(l.sent_at) FROM alert_log l
                       WHERE l.rule_id = r.id AND l.sent_by = 'sidecar')),
                      '-infinity'::timestamptz)))",
            &[],
        )
        .await
        .context("looking for CineVault's alert evaluator")?;
    Ok(row.get(0))
}
