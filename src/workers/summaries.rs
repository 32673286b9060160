//! Keeps the activity and library summaries of migration 030 small to read: folds the
//! deltas its triggers append into the totals every few seconds, and once a day recomputes
//! everything from the source tables, so a summary damaged by hand (a trigger dropped, rows
//! removed by a cascade the triggers cannot see) heals by itself. Readers add the unfolded
//! deltas themselves, so answers are exact whether or not this worker has run.

use std::time::Duration;

use anyhow::Context;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_postgres::IsolationLevel;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

const SUMMARIES_LOCK: i64 = crate::db::locks::SUMMARIES;
pub const FOLD_PERIOD: Duration = Duration::from_secs(5);
pub const REBUILD_PERIOD: Duration = Duration::from_secs(24 * 60 * 60);

pub async fn run(state: AppState, cancel: CancellationToken) -> anyhow::Result<()> {
    let mut ticker = tokio::time::interval(FOLD_PERIOD);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut next_rebuild = Instant::now() + REBUILD_PERIOD;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = ticker.tick() => {
                if Instant::now() >= next_rebuild {
                    next_rebuild = Instant::now() + REBUILD_PERIOD;
                    match rebuild(&state.pool).await {
                        Ok(true) => tracing::info!("activity summaries recomputed"),
                        Ok(false) => {}
                        Err(err) => tracing::warn!(error = format!("{err:#}"), "recomputing the summaries failed; next attempt in a day"),
                    }
                }
                if let Err(err) = fold_once(&state.pool).await {
                    tracing::warn!(error = format!("{err:#}"), "folding summary deltas failed; retrying next period");
                }
            }
        }
    }
}

/// Folds the pending deltas; returns how many delta rows were folded (0 when another
/// replica holds the lock).
pub async fn fold_once(pool: &deadpool_postgres::Pool) -> anyhow::Result<i64> {
    let mut client = pool.get().await.context("getting a database connection")?;
    let tx = client.transaction().await?;
    let locked = crate::db::try_xact_lock(&tx, SUMMARIES_LOCK).await?;
    if !locked {
        return Ok(0);
    }
    let folded: i64 = tx
        .query_one("SELECT cv_fold_summaries()", &[])
        .await
        .context("folding summary deltas")?
        .get(0);
    tx.commit().await?;
    Ok(folded)
}

/// Recomputes every summary from the source tables in one REPEATABLE READ snapshot, the lock
/// taken before the snapshot so no fold can slip between. Returns false when another replica
/// holds the lock (it is folding or rebuilding itself).
pub async fn rebuild(pool: &deadpool_postgres::Pool) -> anyhow::Result<bool> {
    let mut client = pool.get().await.context("getting a database connection")?;
    let locked: bool = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&SUMMARIES_LOCK])
        .await?
        .get(0);
    if !locked {
        return Ok(false);
    }
    let result = async {
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .start()
            .await?;
        tx.execute("SELECT cv_rebuild_summaries()", &[])
            .await
            .context("recomputing the summaries")?;
        tx.commit().await?;
        anyhow::Ok(())
    }
    .await;
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&SUMMARIES_LOCK])
        .await;
    result?;
    unlocked.context("releasing the summaries lock")?;
    Ok(true)
}
