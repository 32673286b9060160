//! Plays from CineVault's own rows (decisions.md §2; README "Running beside CineVault").
//!
//! CineVault's stream handlers write one `stream_sessions` row per HTTP request for direct
//! play and direct stream (every range request, seek and restart is a row, ended when the
//! request returns, with no bytes) and one row per HLS transcode that nothing ever ends.
//! This worker, on CineVault's database only, every few seconds:
//!
//! 1. closes the rows CineVault will never end ([`sql::CLOSE_ROWS`]: at the player's last
//!    progress report in `watch_history`, or once the item's runtime has passed, with no
//!    time watched known);
//! 2. groups the consecutive rows of one user and item into plays in `cinevault_plays`
//!    ([`sql::REGROUP`]), which every figure reads through the `plays` view beside the
//!    ingest API's sessions, and keeps the users' summaries exact.
//!
//! Only the pairs whose rows changed since the last pass are regrouped (a margin covers
//! clocks that disagree); the first pass, and one a day, regroups everything.

mod sql;

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::state::AppState;

const PLAYS_LOCK: i64 = crate::db::locks::PLAYS;
pub const PERIOD: Duration = Duration::from_secs(5);
const FULL_PASS_EVERY: Duration = Duration::from_secs(24 * 60 * 60);
/// Rows are looked at again this long after the last pass: CineVault stamps its rows with
/// its own clock, and a statement may commit a little after the time it wrote.
const MARGIN: chrono::Duration = chrono::Duration::minutes(5);
/// Pairs regrouped per statement.
const BATCH: usize = 500;

/// How a pass went.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub rows_closed: u64,
    pub pairs: usize,
    pub inserted: i64,
    pub updated: i64,
    pub deleted: i64,
    /// Pairs whose user or item CineVault was deleting: left for the next pass.
    pub deferred: usize,
}

/// The settings a pass needs.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Rows less than this apart are one play.
    pub gap: Duration,
    /// A closed transcode row's last report must be this old (no more reports coming).
    pub stale_after: Duration,
    /// How long a row of an item of unknown runtime may stay open.
    pub unknown_runtime: Duration,
}

impl Rules {
    pub fn from_config(c: &crate::config::Config) -> Self {
        Self {
            gap: c.play_gap,
            stale_after: c.stale_session_after,
            unknown_runtime: c.stale_transcode_after,
        }
    }
}

pub async fn run(state: AppState, cancel: CancellationToken) -> anyhow::Result<()> {
    if !state.is_cinevault() {
        return Ok(());
    }
    let rules = Rules::from_config(&state.config);
    let mut ticker = tokio::time::interval(PERIOD);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut next_full = Instant::now() + FULL_PASS_EVERY;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = ticker.tick() => {
                let full = Instant::now() >= next_full;
                if full {
                    next_full = Instant::now() + FULL_PASS_EVERY;
                }
                match pass(&state.pool, rules, full).await {
                    Ok(Some(p)) => {
                        state.metrics.cinevault_rows_closed.inc_by(p.rows_closed);
                        if p.rows_closed > 0 || p.inserted + p.updated + p.deleted > 0 {
                            tracing::debug!(?p, "plays from CineVault's rows updated");
                        }
                    }
                    Ok(None) => {}
                    Err(err) => {
                        state.metrics.plays_pass_failures.inc();
                        tracing::warn!(error = format!("{err:#}"), "grouping CineVault's rows into plays failed; retrying next period");
                    }
                }
            }
        }
    }
}

/// One pass; `None` when another replica holds the lock. `full` regroups every pair, as does
/// the first pass on a database.
///
/// The pass never waits on a lock one of CineVault's statements holds, so it can never be
/// part of a deadlock with CineVault (which would then risk losing its statement): closing
/// rows skips rows locked by others and commits at once; before regrouping a pair it takes a
/// key-share lock on the pair's user and item with SKIP LOCKED (CineVault deleting either
/// holds it, and its delete's cascades then wait for the pass, never the other way round),
/// and a pair it could not lock is left for the next pass.
pub async fn pass(pool: &Pool, rules: Rules, full: bool) -> anyhow::Result<Option<Pass>> {
    let mut client = pool.get().await.context("getting a database connection")?;
    let stale = rules.stale_after.as_secs_f64();
    let unknown = rules.unknown_runtime.as_secs_f64();
    let rows_closed = {
        let tx = client.transaction().await?;
        if !crate::db::try_xact_lock(&tx, PLAYS_LOCK).await? {
            return Ok(None);
        }
        let n = tx
            .execute(sql::CLOSE_ROWS, &[&stale, &unknown])
            .await
            .context("closing CineVault's rows it never ends")?;
        tx.commit().await?;
        n
    };
    let tx = client.transaction().await?;
    if !crate::db::try_xact_lock(&tx, PLAYS_LOCK).await? {
        return Ok(None);
    }
    // A safety net: no statement of the pass should ever wait, but if one does, the pass
    // gives up long before PostgreSQL's deadlock check could pick CineVault's statement.
    tx.batch_execute("SET LOCAL lock_timeout = '500ms'").await?;
    let started: DateTime<Utc> = tx.query_one("SELECT now()", &[]).await?.get(0);
    let scanned_to: Option<DateTime<Utc>> = tx
        .query_opt("SELECT scanned_to FROM cinevault_plays_state", &[])
        .await?
        .and_then(|r| r.get(0));
    let since = if full {
        None
    } else {
        scanned_to.map(|t| t - MARGIN)
    };
    let pairs: Vec<(Uuid, Uuid)> = tx
        .query(sql::DIRTY_PAIRS, &[&since])
        .await
        .context("finding the plays to regroup")?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let gap = rules.gap.as_secs_f64();
    let mut result = Pass {
        rows_closed,
        pairs: pairs.len(),
        ..Pass::default()
    };
    let mut deferred = 0;
    for chunk in pairs.chunks(BATCH) {
        let users: Vec<Uuid> = chunk.iter().map(|p| p.0).collect();
        let items: Vec<Uuid> = chunk.iter().map(|p| p.1).collect();
        let locked = tx
            .query_one(sql::LOCK_PAIRS, &[&users, &items])
            .await
            .context("locking the plays' users and items")?;
        let (locked_users, locked_items): (Vec<Uuid>, Vec<Uuid>) = (locked.get(0), locked.get(1));
        let (users, items): (Vec<Uuid>, Vec<Uuid>) = chunk
            .iter()
            .filter(|(u, m)| locked_users.contains(u) && locked_items.contains(m))
            .copied()
            .unzip();
        deferred += chunk.len() - users.len();
        let row = tx
            .query_one(sql::REGROUP, &[&users, &items, &gap])
            .await
            .context("regrouping CineVault's rows into plays")?;
        result.inserted += row.get::<_, i64>(0);
        result.updated += row.get::<_, i64>(1);
        result.deleted += row.get::<_, i64>(2);
    }
    // With pairs left for later, the next pass looks as far back as this one did.
    if deferred == 0 {
        tx.execute(
            "INSERT INTO cinevault_plays_state (id, scanned_to, rebuilt_at)
             VALUES (true, $1::timestamptz, CASE WHEN $2::bool THEN $1::timestamptz END)
             ON CONFLICT (id) DO UPDATE SET scanned_to = EXCLUDED.scanned_to,
                 rebuilt_at = COALESCE(EXCLUDED.rebuilt_at, cinevault_plays_state.rebuilt_at)",
            &[&started, &since.is_none()],
        )
        .await?;
    }
    result.deferred = deferred;
    tx.commit().await?;
    Ok(Some(result))
}
