//! The rollup worker (spec "Background Workers"): catch-up at start-up, then every night at
//! 00:05 in the configured time zone; failures are logged, counted and retried.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio_util::sync::CancellationToken;

use super::{catch_up, day_start, next_run_after, yesterday};
use crate::state::AppState;

/// The rollup worker: catches up at start-up, then each night at 00:05 local time. A failed
/// run is logged and counted, retried after a backoff (1 minute, doubling up to an hour) and
/// in any case at the next 00:05, whose catch-up fills whatever is still missing.
pub async fn run(state: AppState, cancel: CancellationToken) -> anyhow::Result<()> {
    let tz = state.time_zone;
    let max_days = state.config.rollup_max_days;
    let mut backoff = Duration::from_secs(60);
    loop {
        let ok = tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            ok = run_once(&state, tz, max_days) => ok,
        };
        let now = Utc::now();
        let mut next = next_run_after(tz, now);
        if ok {
            backoff = Duration::from_secs(60);
        } else {
            let retry = now + chrono::Duration::from_std(backoff).unwrap_or_default();
            next = next.min(retry);
            backoff = (backoff * 2).min(Duration::from_secs(3600));
        }
        tracing::debug!(%next, "next rollup");
        if !sleep_until(next, &cancel).await {
            return Ok(());
        }
    }
}

/// One catch-up with its metrics and log lines; true when it succeeded.
async fn run_once(state: &AppState, tz: Tz, max_days: u32) -> bool {
    let started = Instant::now();
    let now = Utc::now();
    let m = &state.metrics;
    m.rollup_runs.inc();
    let res = catch_up(&state.pool, tz, now, max_days).await;
    let took = started.elapsed().as_secs_f64();
    m.rollup_duration.set(took);
    match res {
        Ok(written) => {
            let day = yesterday(tz, now);
            m.rollup_last_success_timestamp
                .set(Utc::now().timestamp_millis() as f64 / 1000.0);
            m.rollup_last_day_timestamp
                .set(day_start(tz, day).timestamp() as f64);
            tracing::info!(%day, days_written = written, seconds = took, "daily rollup done");
            true
        }
        Err(err) => {
            m.rollup_failures.inc();
            tracing::error!(
                error = format!("{err:#}"),
                seconds = took,
                "daily rollup failed; it will be retried"
            );
            false
        }
    }
}

/// Sleeps until the wall clock reaches `at`, in steps of at most a minute so a clock that is
/// stepped (NTP) or a host that was suspended does not push the run late. False if cancelled.
async fn sleep_until(at: DateTime<Utc>, cancel: &CancellationToken) -> bool {
    loop {
        let left = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        if left.is_zero() {
            return true;
        }
        tokio::select! {
            _ = cancel.cancelled() => return false,
            _ = tokio::time::sleep(left.min(Duration::from_secs(60))) => {}
        }
    }
}
