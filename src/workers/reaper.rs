//! The stale-session and stale-transcode reaper (decisions.md §3): a crashed media server
//! must not leave streams "active" or transcodes "running" forever.

use std::time::Duration;

use anyhow::Context;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

const REAPER_LOCK: i64 = crate::db::locks::REAPER;

/// Checks twice per stale timeout, at most once a minute, at least once a second.
pub fn period(stale_after: Duration) -> Duration {
    (stale_after / 2).clamp(Duration::from_secs(1), Duration::from_secs(60))
}

pub async fn run(state: AppState, cancel: CancellationToken) -> anyhow::Result<()> {
    let mut ticker = tokio::time::interval(period(state.config.stale_session_after));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = ticker.tick() => {
                if let Err(err) = reap_once(&state).await {
                    tracing::warn!(error = format!("{err:#}"), "reaper run failed; retrying next period");
                }
            }
        }
    }
}

/// Ends silent sessions and closes abandoned transcodes; returns how many of each.
pub async fn reap_once(state: &AppState) -> anyhow::Result<(u64, u64)> {
    let session_after = state.config.stale_session_after.as_secs_f64();
    let transcode_after = state.config.stale_transcode_after.as_secs_f64();
    let mut client = state
        .pool
        .get()
        .await
        .context("getting a database connection")?;
    let tx = client.transaction().await?;
    let locked = crate::db::try_xact_lock(&tx, REAPER_LOCK).await?;
    if !locked {
        return Ok((0, 0));
    }
    // ended_at is the last report: the moment the session was last known to be playing.
    // CineVault's own rows report nothing (they are closed by src/plays by their own rules).
    // Rows an ingest transaction holds are skipped (reaped next time), never waited for:
    // waiting for them while holding others is how the reaper and an ingest group that
    // stops sessions deadlocked under load (one of them then failed).
    let sessions = tx
        .execute(
            "UPDATE stream_sessions s SET is_active = false,
                 ended_at = GREATEST(s.last_reported_at, s.started_at)
             FROM (SELECT id FROM stream_sessions
                   WHERE is_active AND source <> 'cinevault'
                     AND last_reported_at < now() - make_interval(secs => $1)
                   FOR UPDATE SKIP LOCKED) stale
             WHERE s.id = stale.id",
            &[&session_after],
        )
        .await
        .context("ending stale sessions")?;
    let message = format!(
        "closed by cinevault-analytics: no completion reported within {}",
        humantime::format_duration(state.config.stale_transcode_after)
    );
    let transcodes = tx
        .execute(
            "UPDATE transcode_history t SET success = false,
                 error_message = $2,
                 completed_at = now(),
                 duration_seconds = LEAST(2147483647, EXTRACT(EPOCH FROM now() - t.started_at))::int
             FROM (SELECT id FROM transcode_history
                   WHERE completed_at IS NULL AND started_at < now() - make_interval(secs => $1)
                   FOR UPDATE SKIP LOCKED) stale
             WHERE t.id = stale.id",
            &[&transcode_after, &message],
        )
        .await
        .context("closing stale transcodes")?;
    tx.commit().await?;
    if sessions > 0 || transcodes > 0 {
        tracing::info!(sessions, transcodes, "reaped stale sessions and transcodes");
    }
    state.metrics.sessions_reaped.inc_by(sessions);
    state.metrics.transcodes_reaped.inc_by(transcodes);
    Ok((sessions, transcodes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_is_half_the_timeout_within_bounds() {
        assert_eq!(period(Duration::from_secs(600)), Duration::from_secs(60));
        assert_eq!(period(Duration::from_secs(10)), Duration::from_secs(5));
        assert_eq!(period(Duration::from_secs(1)), Duration::from_secs(1));
    }
}
