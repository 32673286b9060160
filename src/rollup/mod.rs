//! The daily rollup (spec "Daily Rollup", issue 4): one `daily_stats` row per day of the
//! configured time zone, computed at start-up for every missing day and each night at 00:05.
//! Each day is written twice in one statement: into `daily_stats` (the spec's table, which
//! CineVault's own rollup also writes) and into the sidecar's own `sidecar_daily_stats`,
//! which is what "computed" means here and what the trends endpoint reads.
//!
//! **Several replicas.** Each day is computed in its own transaction that first takes
//! `pg_advisory_xact_lock` on a key derived from the date ([`day_lock_key`]), so two replicas
//! (or the nightly run and a `rollup` backfill) never compute the same day at once. The lock
//! *waits* rather than skips (`pg_try_…`): a caller that returns `Ok` has had every day it
//! asked for computed by itself, from data committed no earlier than its own call started.
//! A skip would hand the day to whichever replica held the lock, whose snapshot may predate
//! a backfill's data repair, and whose failure would leave a hole the skipper reported as
//! filled. Waiting costs one extra computation of a day (an index range scan, milliseconds)
//! when two replicas collide; catch-up avoids even that for past days by re-checking, once
//! it holds a day's lock, whether another replica wrote the missing row meanwhile.
//! The lock is transaction-scoped, so a dropped or failed run can never leave it held.

mod compute;
mod days;
mod scheduler;

use anyhow::Context;
use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use deadpool_postgres::Pool;

pub use compute::{compute_day, load_day, upsert_day, DailyStat, COMPUTE_SQL};
pub use days::{day_bounds, day_start, days_between, next_run_after, resolve_local, yesterday};
pub use scheduler::run;

/// How many days the start-up catch-up fills in at most (`--rollup-max-days`' default).
pub const DEFAULT_MAX_CATCH_UP_DAYS: u32 = 35;

/// Per-day advisory lock keys: this prefix plus the day's number (days since 0001-01-01).
/// Other workers' keys are in `db::locks`, below this range.
const DAY_LOCK_PREFIX: i64 = 0x0c1e_7a02_0000_0000;

/// A day's transaction gives up waiting for another replica's lock after this long.
const LOCK_TIMEOUT: &str = "120s";

/// The advisory lock key that serialises every computation of `day` across replicas.
pub fn day_lock_key(day: NaiveDate) -> i64 {
    DAY_LOCK_PREFIX + days::day_number(day)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Compute the day whatever is stored.
    Always,
    /// Compute it only if no row exists once the day's lock is held (catch-up of past days).
    IfMissing,
}

/// A day is computed once both its rows are there: the sidecar's own and `daily_stats`
/// (someone deleting a `daily_stats` row makes the catch-up compute it again).
async fn is_stored(
    client: &impl tokio_postgres::GenericClient,
    day: NaiveDate,
) -> anyhow::Result<bool> {
    Ok(client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM sidecar_daily_stats WHERE stat_date = $1)
                AND EXISTS (SELECT 1 FROM daily_stats WHERE stat_date = $1)",
            &[&day],
        )
        .await
        .with_context(|| format!("looking for the rows of {day}"))?
        .get(0))
}

/// Computes and upserts `day` in one transaction holding the day's lock; `None` when
/// `Mode::IfMissing` found the row already written.
async fn rollup_day(
    client: &mut deadpool_postgres::Object,
    tz: Tz,
    day: NaiveDate,
    mode: Mode,
) -> anyhow::Result<Option<DailyStat>> {
    let tx = client
        .transaction()
        .await
        .context("starting a transaction")?;
    tx.batch_execute(&format!("SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        .await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&day_lock_key(day)])
        .await
        .with_context(|| format!("waiting for the rollup lock of {day}"))?;
    if mode == Mode::IfMissing && is_stored(&*tx, day).await? {
        tx.commit().await?;
        return Ok(None);
    }
    let stat = compute_day(&*tx, tz, day).await?;
    upsert_day(&*tx, &stat).await?;
    tx.commit()
        .await
        .with_context(|| format!("committing the rollup of {day}"))?;
    Ok(Some(stat))
}

/// Computes `days` in ascending order, each in its own transaction; stops at the first
/// failure so no later day is written after a missing one. Returns the days written.
async fn rollup_days(
    pool: &Pool,
    tz: Tz,
    days: &[(NaiveDate, Mode)],
    mut progress: impl FnMut(NaiveDate, usize, usize),
) -> anyhow::Result<usize> {
    if days.is_empty() {
        return Ok(0);
    }
    let mut client = pool.get().await.context("getting a database connection")?;
    let mut written = 0;
    for (i, &(day, mode)) in days.iter().enumerate() {
        let stat = rollup_day(&mut client, tz, day, mode)
            .await
            .with_context(|| format!("rolling up {day}"))?;
        if let Some(stat) = stat {
            written += 1;
            tracing::debug!(?stat, "rolled up a day");
        }
        progress(day, i + 1, days.len());
    }
    Ok(written)
}

/// Recomputes every day from `from` to `to` (both included), whatever is stored, each day in
/// its own transaction under the day's lock. `progress(day, done, total)` is called after each
/// day. Returns the days written; an error names the day that failed (the days before it
/// stay written).
pub async fn rollup_range(
    pool: &Pool,
    tz: Tz,
    from: NaiveDate,
    to: NaiveDate,
    progress: impl FnMut(NaiveDate, usize, usize),
) -> anyhow::Result<usize> {
    anyhow::ensure!(from <= to, "the range starts ({from}) after it ends ({to})");
    let days: Vec<_> = days_between(from, to)
        .into_iter()
        .map(|d| (d, Mode::Always))
        .collect();
    rollup_days(pool, tz, &days, progress).await
}

/// The start-up and nightly run: recomputes yesterday (it may have been computed while it
/// was still going on) and computes every missing day before it, at most `max_days` days in
/// all (0 counts as 1), oldest first. Missing days are looked for back to the first day ever
/// computed (so a hole left by an outage or an old failure is filled, not only the days after
/// the last computed one); with no rows at all, back to the day of the earliest play (only yesterday when there is none). Returns the days written.
pub async fn catch_up(
    pool: &Pool,
    tz: Tz,
    now: DateTime<Utc>,
    max_days: u32,
) -> anyhow::Result<usize> {
    let days = catch_up_days(pool, tz, now, max_days).await?;
    rollup_days(pool, tz, &days, |_, _, _| {}).await
}

/// The days `catch_up` computes, oldest first, yesterday last.
async fn catch_up_days(
    pool: &Pool,
    tz: Tz,
    now: DateTime<Utc>,
    max_days: u32,
) -> anyhow::Result<Vec<(NaiveDate, Mode)>> {
    let last = yesterday(tz, now);
    let window_start = last
        .checked_sub_days(Days::new(u64::from(max_days.max(1) - 1)))
        .unwrap_or(NaiveDate::MIN);
    let client = pool.get().await.context("getting a database connection")?;
    let first_computed: Option<NaiveDate> = client
        .query_one("SELECT min(stat_date) FROM sidecar_daily_stats", &[])
        .await
        .context("reading the first computed day")?
        .get(0);
    let history_start = match first_computed {
        Some(d) => d,
        None => {
            let earliest: Option<DateTime<Utc>> = client
                .query_one(
                    "SELECT LEAST(
                         (SELECT min(started_at) FROM stream_sessions WHERE source <> 'cinevault'),
                         (SELECT min(started_at) FROM cinevault_plays))",
                    &[],
                )
                .await
                .context("reading the earliest stream session")?
                .get(0);
            earliest.map_or(last, |t| t.with_timezone(&tz).date_naive())
        }
    };
    let start = window_start.max(history_start);
    let mut days = Vec::new();
    if start < last {
        let before_last = last.pred_opt().unwrap_or(last);
        let stored: Vec<NaiveDate> = client
            .query(
                "SELECT o.stat_date FROM sidecar_daily_stats o
                 JOIN daily_stats d ON d.stat_date = o.stat_date
                 WHERE o.stat_date >= $1 AND o.stat_date < $2",
                &[&start, &last],
            )
            .await
            .context("reading the computed days")?
            .iter()
            .map(|r| r.get(0))
            .collect();
        days.extend(
            days_between(start, before_last)
                .into_iter()
                .filter(|d| !stored.contains(d))
                .map(|d| (d, Mode::IfMissing)),
        );
    }
    days.push((last, Mode::Always));
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_lock_keys_are_distinct_and_apart_from_other_workers() {
        let a: NaiveDate = "2026-03-29".parse().unwrap();
        let b = a.succ_opt().unwrap();
        assert_ne!(day_lock_key(a), day_lock_key(b));
        for other in crate::db::locks::ALL {
            assert!(day_lock_key(NaiveDate::MIN) > other);
        }
        assert!(day_lock_key(NaiveDate::MAX) < 0x0c1e_7a03_0000_0000);
    }
}
