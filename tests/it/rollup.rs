//! The daily rollup against real PostgreSQL: every figure on hand-built data with known
//! answers, DST days, an empty day, re-runs, catch-up after an outage and its bound, two
//! replicas at once, the per-day lock, the started_at index, and the worker.

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use cinevault_analytics::db;
use cinevault_analytics::rollup::{
    self, catch_up, compute_day, day_bounds, day_lock_key, day_start, load_day, rollup_range,
    DailyStat,
};
use deadpool_postgres::Pool;
use tokio_postgres::Client;
use uuid::Uuid;

use crate::common::{test_config, TestDb};

const BERLIN: Tz = chrono_tz::Europe::Berlin;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .with_timezone(&Utc)
}

fn pool(db: &TestDb, size: usize) -> Pool {
    db::connect_pool(&db.url, size, Duration::from_secs(10), chrono_tz::Tz::UTC).expect("pool")
}

async fn user(c: &Client, name: &str) -> Uuid {
    let id = Uuid::new_v4();
    c.execute(
        "INSERT INTO users (id, username) VALUES ($1, $2)",
        &[&id, &name],
    )
    .await
    .expect("user");
    id
}

/// A media item added at `created` (RFC 3339) with `size` bytes.
async fn item(c: &Client, created: &str, size: i64) -> Uuid {
    let id = Uuid::new_v4();
    c.execute(
        "INSERT INTO media_items (id, title, file_size, added_at)
         VALUES ($1, 'Item', $2, $3::text::timestamptz)",
        &[&id, &size, &created],
    )
    .await
    .expect("media item");
    id
}

/// A session of `kind` started at `started`, `secs` long with `bytes` served.
async fn session(
    c: &Client,
    user: Uuid,
    item: Uuid,
    kind: &str,
    started: &str,
    secs: i32,
    bytes: i64,
) -> Uuid {
    let id = Uuid::new_v4();
    c.execute(
        "INSERT INTO stream_sessions (id, user_id, media_item_id, playback_type, started_at,
             duration_seconds, bytes_served, is_active, ended_at)
         VALUES ($1, $2, $3, $4, $5::text::timestamptz, $6, $7, false,
             $5::text::timestamptz + $6::int * interval '1 second')",
        &[&id, &user, &item, &kind, &started, &secs, &bytes],
    )
    .await
    .expect("session");
    id
}

async fn transcode(c: &Client, user: Uuid, item: Uuid, started: &str, success: bool) -> Uuid {
    let id = Uuid::new_v4();
    c.execute(
        "INSERT INTO transcode_history (id, user_id, media_item_id, started_at, success,
             completed_at)
         VALUES ($1, $2, $3, $4::text::timestamptz, $5, $4::text::timestamptz + interval '1 minute')",
        &[&id, &user, &item, &started, &success],
    )
    .await
    .expect("transcode");
    id
}

async fn stored(c: &Client, day: &str) -> Option<DailyStat> {
    load_day(c, d(day)).await.expect("load day")
}

async fn row_count(c: &Client) -> i64 {
    c.query_one("SELECT count(*) FROM daily_stats", &[])
        .await
        .expect("count")
        .get(0)
}

async fn stored_days(c: &Client) -> Vec<NaiveDate> {
    c.query("SELECT stat_date FROM daily_stats ORDER BY stat_date", &[])
        .await
        .expect("days")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// No day computed at all: neither the sidecar's rows nor daily_stats'.
async fn forget_days(c: &Client) {
    c.batch_execute("DELETE FROM daily_stats; DELETE FROM sidecar_daily_stats")
        .await
        .expect("forget days");
}

/// Computes and writes one day, as the worker and the backfill do.
async fn roll(pool: &Pool, tz: Tz, day: &str) -> usize {
    rollup_range(pool, tz, d(day), d(day), |_, _, _| {})
        .await
        .expect("rollup")
}

#[tokio::test]
async fn every_figure_of_a_day_is_exact() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let pool = pool(&db, 2);
    // 2026-03-10 in Berlin (CET, +01:00) is [2026-03-09 23:00Z, 2026-03-10 23:00Z).
    let (a, b, x) = (
        user(&c, "anna").await,
        user(&c, "ben").await,
        user(&c, "carl").await,
    );
    let old = item(&c, "2026-01-01T12:00:00Z", 1_000).await;
    let _just_before = item(&c, "2026-03-09T22:59:59Z", 500).await; // 23:59:59 on the 9th
    let _morning = item(&c, "2026-03-10T09:00:00Z", 2_000).await;
    let _late = item(&c, "2026-03-10T22:30:00Z", 4_000).await; // 23:30 local
    let _next_day = item(&c, "2026-03-10T23:00:00Z", 8_000).await; // 00:00 on the 11th

    // On the day: local midnight sharp, midday, 23:59:59, and one that runs across midnight.
    session(
        &c,
        a,
        old,
        "direct_play",
        "2026-03-09T23:00:00Z",
        100,
        1_000,
    )
    .await;
    session(
        &c,
        a,
        old,
        "transcode",
        "2026-03-10T12:00:00Z",
        3_000,
        5_000_000_000,
    )
    .await;
    session(&c, b, old, "direct_stream", "2026-03-10T22:59:59Z", 59, 10).await;
    session(&c, b, old, "transcode", "2026-03-10T22:30:00Z", 7_200, 7).await;
    // Off the day: the instant before local midnight, and the next local midnight.
    session(&c, x, old, "direct_play", "2026-03-09T22:59:59Z", 600, 1).await;
    session(&c, x, old, "direct_play", "2026-03-10T23:00:00Z", 600, 1).await;

    transcode(&c, a, old, "2026-03-09T23:00:00Z", false).await;
    transcode(&c, a, old, "2026-03-10T12:00:00Z", false).await;
    transcode(&c, b, old, "2026-03-10T13:00:00Z", true).await;
    transcode(&c, b, old, "2026-03-09T22:59:59Z", false).await;
    transcode(&c, b, old, "2026-03-10T23:00:00Z", false).await;

    let expected = DailyStat {
        stat_date: d("2026-03-10"),
        total_plays: 4,
        unique_users: 2,
        // 100 + 3000 + 59 + 7200 = 10359 s = 172.65 min, rounded down.
        total_watch_minutes: 172,
        total_bytes_served: 5_000_001_017,
        transcodes: 2,
        direct_plays: 1,
        direct_streams: 1,
        transcode_failures: 2,
        new_media_added: 2,
        library_size_total: 4,
        storage_used_bytes: 7_500,
    };
    assert_eq!(
        compute_day(&c, BERLIN, d("2026-03-10")).await.unwrap(),
        expected
    );
    assert_eq!(
        stored(&c, "2026-03-10").await,
        None,
        "compute_day only reads"
    );
    assert_eq!(roll(&pool, BERLIN, "2026-03-10").await, 1);
    assert_eq!(stored(&c, "2026-03-10").await, Some(expected));

    // The session that ran across midnight counts on its start day only: the 11th has just
    // the one started at its midnight.
    let next = compute_day(&c, BERLIN, d("2026-03-11")).await.unwrap();
    assert_eq!(
        (
            next.total_plays,
            next.unique_users,
            next.total_watch_minutes
        ),
        (1, 1, 10)
    );
    assert_eq!(
        (
            next.transcode_failures,
            next.new_media_added,
            next.library_size_total,
            next.storage_used_bytes
        ),
        (1, 1, 5, 15_500)
    );
    // The day before has the 23:59:59 session and the item added then.
    let before = compute_day(&c, BERLIN, d("2026-03-09")).await.unwrap();
    assert_eq!(
        (
            before.total_plays,
            before.new_media_added,
            before.library_size_total
        ),
        (1, 1, 2)
    );

    // The same data in UTC days: the midnight-sharp session (23:00Z on the 9th) moves.
    let in_utc = compute_day(&c, Tz::UTC, d("2026-03-10")).await.unwrap();
    assert_eq!(in_utc.total_plays, 4);
    assert_eq!(in_utc.direct_plays, 1); // the 23:00Z one on the 10th, not the 9th's
    assert_eq!(in_utc.total_watch_minutes, (3_000 + 59 + 7_200 + 600) / 60);
}

#[tokio::test]
async fn the_spring_forward_day_has_23_hours() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let pool = pool(&db, 2);
    let u = user(&c, "u").await;
    let i = item(&c, "2026-01-01T00:00:00Z", 0).await;
    // 2026-03-29 in Berlin: 00:00 CET = 2026-03-28 23:00Z to 00:00 CEST = 2026-03-29 22:00Z.
    for (t, secs) in [
        ("2026-03-28T22:59:59Z", 60),  // the 28th, 23:59:59 CET
        ("2026-03-28T23:00:00Z", 120), // the 29th, 00:00 CET
        ("2026-03-29T01:30:00Z", 180), // the 29th, 03:30 CEST (02:00-03:00 does not exist)
        ("2026-03-29T21:59:59Z", 240), // the 29th, 23:59:59 CEST
        ("2026-03-29T22:00:00Z", 300), // the 30th, 00:00 CEST
        ("2026-03-29T22:30:00Z", 360), // the 30th; a 24-hour day from 23:00Z would take it
    ] {
        session(&c, u, i, "direct_play", t, secs, 1).await;
    }
    transcode(&c, u, i, "2026-03-29T22:30:00Z", false).await;
    transcode(&c, u, i, "2026-03-29T21:30:00Z", false).await;

    assert_eq!(
        rollup_range(
            &pool,
            BERLIN,
            d("2026-03-28"),
            d("2026-03-30"),
            |_, _, _| {}
        )
        .await
        .unwrap(),
        3
    );
    let day = stored(&c, "2026-03-29").await.unwrap();
    assert_eq!(day.total_plays, 3);
    assert_eq!(day.total_watch_minutes, (120 + 180 + 240) / 60);
    assert_eq!(day.transcode_failures, 1);
    let next = stored(&c, "2026-03-30").await.unwrap();
    assert_eq!((next.total_plays, next.total_watch_minutes), (2, 11));
    assert_eq!(next.transcode_failures, 1);
    assert_eq!(stored(&c, "2026-03-28").await.unwrap().total_plays, 1);
}

#[tokio::test]
async fn the_fall_back_day_has_25_hours() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let pool = pool(&db, 2);
    let u = user(&c, "u").await;
    let i = item(&c, "2026-01-01T00:00:00Z", 0).await;
    // 2026-10-25 in Berlin: 00:00 CEST = 2026-10-24 22:00Z to 00:00 CET = 2026-10-25 23:00Z.
    for (t, secs) in [
        ("2026-10-24T21:59:59Z", 60),  // the 24th, 23:59:59 CEST
        ("2026-10-24T22:00:00Z", 120), // the 25th, 00:00 CEST
        ("2026-10-25T00:30:00Z", 180), // the 25th, 02:30 CEST (first 02:30)
        ("2026-10-25T01:30:00Z", 240), // the 25th, 02:30 CET (second 02:30)
        ("2026-10-25T02:30:00Z", 300), // the 25th, 03:30 CET
        ("2026-10-25T22:30:00Z", 360), // the 25th, 23:30 CET: its 25th hour
        ("2026-10-25T22:59:59Z", 420), // the 25th, 23:59:59 CET
        ("2026-10-25T23:00:00Z", 480), // the 26th, 00:00 CET
    ] {
        session(&c, u, i, "direct_stream", t, secs, 2).await;
    }
    transcode(&c, u, i, "2026-10-25T22:30:00Z", false).await;

    rollup_range(
        &pool,
        BERLIN,
        d("2026-10-24"),
        d("2026-10-26"),
        |_, _, _| {},
    )
    .await
    .unwrap();
    let day = stored(&c, "2026-10-25").await.unwrap();
    assert_eq!(day.total_plays, 6);
    assert_eq!(day.direct_streams, 6);
    assert_eq!(day.total_bytes_served, 12);
    assert_eq!(
        day.total_watch_minutes,
        (120 + 180 + 240 + 300 + 360 + 420) / 60
    );
    assert_eq!(day.transcode_failures, 1);
    assert_eq!(stored(&c, "2026-10-24").await.unwrap().total_plays, 1);
    assert_eq!(stored(&c, "2026-10-26").await.unwrap().total_plays, 1);
}

#[tokio::test]
async fn an_empty_day_gets_zeros_with_library_figures() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let pool = pool(&db, 2);
    let u = user(&c, "u").await;
    let i = item(&c, "2026-06-01T10:00:00Z", 3_000_000_000).await;
    item(&c, "2026-06-09T21:59:59Z", 4_000_000_000).await; // the 9th, 23:59:59 CEST
    item(&c, "2026-06-10T22:00:00Z", 1).await; // the 11th
    session(&c, u, i, "transcode", "2026-06-09T12:00:00Z", 60, 1).await;
    session(&c, u, i, "transcode", "2026-06-10T22:00:00Z", 60, 1).await;
    transcode(&c, u, i, "2026-06-10T12:00:00Z", true).await; // success: not a failure

    assert_eq!(roll(&pool, BERLIN, "2026-06-10").await, 1);
    assert_eq!(
        stored(&c, "2026-06-10").await,
        Some(DailyStat {
            library_size_total: 2,
            storage_used_bytes: 7_000_000_000,
            ..DailyStat::zero(d("2026-06-10"))
        })
    );
    // No library at all yet: all zeros, still a row.
    assert_eq!(roll(&pool, BERLIN, "2025-06-10").await, 1);
    assert_eq!(
        stored(&c, "2025-06-10").await,
        Some(DailyStat::zero(d("2025-06-10")))
    );
}

#[tokio::test]
async fn rerunning_a_day_overwrites_it() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let pool = pool(&db, 2);
    let (a, b) = (user(&c, "a").await, user(&c, "b").await);
    let i = item(&c, "2026-07-01T08:00:00Z", 100).await;
    let gone = session(&c, a, i, "direct_play", "2026-07-01T09:00:00Z", 600, 10).await;
    let fixed = transcode(&c, a, i, "2026-07-01T10:00:00Z", true).await;

    assert_eq!(roll(&pool, BERLIN, "2026-07-01").await, 1);
    let first = stored(&c, "2026-07-01").await.unwrap();
    assert_eq!(
        (
            first.total_plays,
            first.direct_plays,
            first.total_watch_minutes,
            first.transcode_failures,
            first.new_media_added,
            first.storage_used_bytes
        ),
        (1, 1, 10, 0, 1, 100)
    );

    // The data changes: a session deleted, two added, a transcode turns out failed, the
    // item's file replaced by a bigger one, another item added.
    c.execute("DELETE FROM stream_sessions WHERE id = $1", &[&gone])
        .await
        .unwrap();
    session(&c, a, i, "transcode", "2026-07-01T11:00:00Z", 1_200, 20).await;
    session(&c, b, i, "direct_stream", "2026-07-01T12:00:00Z", 1_800, 30).await;
    c.execute(
        "UPDATE transcode_history SET success = false WHERE id = $1",
        &[&fixed],
    )
    .await
    .unwrap();
    c.execute(
        "UPDATE media_items SET file_size = 1000 WHERE id = $1",
        &[&i],
    )
    .await
    .unwrap();
    item(&c, "2026-07-01T13:00:00Z", 5).await;

    assert_eq!(roll(&pool, BERLIN, "2026-07-01").await, 1);
    assert_eq!(
        stored(&c, "2026-07-01").await,
        Some(DailyStat {
            stat_date: d("2026-07-01"),
            total_plays: 2,
            unique_users: 2,
            total_watch_minutes: 50,
            total_bytes_served: 50,
            transcodes: 1,
            direct_plays: 0,
            direct_streams: 1,
            transcode_failures: 1,
            new_media_added: 2,
            library_size_total: 2,
            storage_used_bytes: 1_005,
        })
    );
    assert_eq!(row_count(&c).await, 1);
}

#[tokio::test]
async fn huge_sums_saturate_instead_of_failing_the_night() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let pool = pool(&db, 2);
    let u = user(&c, "u").await;
    let i = item(&c, "2026-01-01T00:00:00Z", i64::MAX).await;
    item(&c, "2026-01-01T00:00:00Z", i64::MAX).await;
    for _ in 0..3 {
        session(
            &c,
            u,
            i,
            "direct_play",
            "2026-02-01T12:00:00Z",
            i32::MAX,
            i64::MAX,
        )
        .await;
    }
    assert_eq!(roll(&pool, Tz::UTC, "2026-02-01").await, 1);
    let day = stored(&c, "2026-02-01").await.unwrap();
    assert_eq!(day.total_bytes_served, i64::MAX);
    assert_eq!(day.storage_used_bytes, i64::MAX);
    // 3 * (2^31 - 1) s / 60 fits an INT: exact.
    assert_eq!(
        i64::from(day.total_watch_minutes),
        3 * i64::from(i32::MAX) / 60
    );
}

/// One 1-minute session per day at local noon (10:00Z in CEST) from 2026-04-01 to
/// 2026-05-19; the session on day N of the month lasts N minutes, so each row says its day.
async fn daily_sessions(c: &Client) {
    let u = user(c, "daily").await;
    let i = item(c, "2026-01-01T00:00:00Z", 10).await;
    c.execute(
        "INSERT INTO stream_sessions (user_id, media_item_id, started_at, duration_seconds,
             is_active)
         SELECT $1, $2, (day + interval '12 hours') AT TIME ZONE 'Europe/Berlin',
             60 * extract(day FROM day)::int, false
         FROM generate_series(timestamp '2026-04-01', timestamp '2026-05-19',
             interval '1 day') AS day",
        &[&u, &i],
    )
    .await
    .expect("daily sessions");
}

async fn minutes_of(c: &Client, day: &str) -> Option<i32> {
    stored(c, day).await.map(|s| s.total_watch_minutes)
}

#[tokio::test]
async fn catch_up_fills_the_gap_after_an_outage() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let pool = pool(&db, 2);
    daily_sessions(&c).await;
    // Rolled up every night until the 12th; then the sidecar was down for a week.
    rollup_range(
        &pool,
        BERLIN,
        d("2026-04-10"),
        d("2026-05-12"),
        |_, _, _| {},
    )
    .await
    .unwrap();
    // A computed day before the gap is not recomputed: mark it to see that (in the sidecar's
    // own copy, which is what `stored` reads).
    c.execute(
        "UPDATE sidecar_daily_stats SET total_plays = 99 WHERE stat_date = '2026-05-12'",
        &[],
    )
    .await
    .unwrap();

    // Back on the 20th at 12:00 local: yesterday is the 19th.
    let now = utc("2026-05-20T10:00:00Z");
    assert_eq!(catch_up(&pool, BERLIN, now, 35).await.unwrap(), 7);
    for n in 13..=19 {
        let day = format!("2026-05-{n}");
        assert_eq!(minutes_of(&c, &day).await, Some(n), "{day}");
        assert_eq!(stored(&c, &day).await.unwrap().total_plays, 1, "{day}");
    }
    assert_eq!(stored(&c, "2026-05-12").await.unwrap().total_plays, 99);
    assert_eq!(
        stored_days(&c).await,
        rollup::days_between(d("2026-04-10"), d("2026-05-19"))
    );

    // Yesterday is always recomputed: it may have been computed while it was going on.
    let u = user(&c, "late").await;
    let i = item(&c, "2026-01-01T00:00:00Z", 0).await;
    session(&c, u, i, "transcode", "2026-05-19T21:00:00Z", 60, 0).await; // 23:00 local
    assert_eq!(catch_up(&pool, BERLIN, now, 35).await.unwrap(), 1);
    let y = stored(&c, "2026-05-19").await.unwrap();
    assert_eq!((y.total_plays, y.unique_users, y.transcodes), (2, 2, 1));

    // A hole inside the history (a failed night, a deleted row) is filled too.
    c.execute(
        "DELETE FROM daily_stats WHERE stat_date IN ('2026-05-01', '2026-05-03')",
        &[],
    )
    .await
    .unwrap();
    assert_eq!(catch_up(&pool, BERLIN, now, 35).await.unwrap(), 3);
    assert_eq!(minutes_of(&c, "2026-05-01").await, Some(1));
    assert_eq!(minutes_of(&c, "2026-05-03").await, Some(3));
    // Days before the first computed day are history the rollup never had: left alone.
    assert_eq!(stored(&c, "2026-04-09").await, None);
}

#[tokio::test]
async fn catch_up_stops_at_the_bound() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let pool = pool(&db, 2);
    daily_sessions(&c).await;
    let now = utc("2026-05-20T10:00:00Z");

    // Last computed day long ago: only the last `max_days` days are filled.
    roll(&pool, BERLIN, "2026-04-01").await;
    assert_eq!(catch_up(&pool, BERLIN, now, 5).await.unwrap(), 5);
    let mut expected = vec![d("2026-04-01")];
    expected.extend(rollup::days_between(d("2026-05-15"), d("2026-05-19")));
    assert_eq!(stored_days(&c).await, expected);
    for n in 15..=19 {
        assert_eq!(minutes_of(&c, &format!("2026-05-{n}")).await, Some(n));
    }

    // No daily_stats at all: back `max_days` days, or to the earliest session if later.
    forget_days(&c).await;
    assert_eq!(catch_up(&pool, BERLIN, now, 35).await.unwrap(), 35);
    assert_eq!(
        stored_days(&c).await,
        rollup::days_between(d("2026-04-15"), d("2026-05-19"))
    );
    forget_days(&c).await;
    assert_eq!(catch_up(&pool, BERLIN, now, 100).await.unwrap(), 49);
    assert_eq!(
        stored_days(&c).await.first().copied(),
        Some(d("2026-04-01"))
    );
    // A bound of 1 (or 0) is yesterday alone.
    forget_days(&c).await;
    assert_eq!(catch_up(&pool, BERLIN, now, 0).await.unwrap(), 1);
    assert_eq!(stored_days(&c).await, vec![d("2026-05-19")]);

    // No sessions ever: yesterday alone, zeros with library figures.
    forget_days(&c).await;
    c.execute("DELETE FROM stream_sessions", &[]).await.unwrap();
    assert_eq!(catch_up(&pool, BERLIN, now, 35).await.unwrap(), 1);
    assert_eq!(
        stored(&c, "2026-05-19").await,
        Some(DailyStat {
            library_size_total: 1,
            storage_used_bytes: 10,
            ..DailyStat::zero(d("2026-05-19"))
        })
    );
}

#[tokio::test]
async fn two_replicas_rolling_up_at_once_leave_one_correct_row_per_day() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    // Two replicas: separate pools, separate sessions.
    let (pa, pb) = (pool(&db, 4), pool(&db, 4));
    let u = user(&c, "u").await;
    let i = item(&c, "2026-01-01T00:00:00Z", 7).await;
    // Day N of 2026-08-0N has N sessions.
    for n in 1..=6u32 {
        for k in 0..n {
            let t = format!("2026-08-0{n}T{:02}:00:00Z", 6 + k);
            session(&c, u, i, "direct_play", &t, 60, 1).await;
        }
    }
    let now = utc("2026-08-07T08:00:00Z"); // yesterday: the 6th
    let (from, to) = (d("2026-08-01"), d("2026-08-06"));
    for _ in 0..3 {
        forget_days(&c).await;
        let (ra, rb, ca, cb) = tokio::join!(
            rollup_range(&pa, BERLIN, from, to, |_, _, _| {}),
            rollup_range(&pb, BERLIN, from, to, |_, _, _| {}),
            catch_up(&pa, BERLIN, now, 35),
            catch_up(&pb, BERLIN, now, 35),
        );
        assert_eq!(ra.unwrap(), 6);
        assert_eq!(rb.unwrap(), 6);
        // Catch-up writes yesterday always, and each missing day unless another replica
        // wrote it while it waited for the day's lock.
        for n in [ca.unwrap(), cb.unwrap()] {
            assert!((1..=6).contains(&n), "catch-up wrote {n}");
        }
        let per_day: Vec<(NaiveDate, i64)> = c
            .query(
                "SELECT stat_date, count(*) FROM daily_stats GROUP BY 1 ORDER BY 1",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert_eq!(
            per_day,
            rollup::days_between(from, to)
                .into_iter()
                .map(|d| (d, 1))
                .collect::<Vec<_>>()
        );
        for n in 1..=6 {
            let s = stored(&c, &format!("2026-08-0{n}")).await.unwrap();
            assert_eq!((s.total_plays, s.total_watch_minutes), (n, n));
            assert_eq!((s.library_size_total, s.storage_used_bytes), (1, 7));
        }
    }
}

#[tokio::test]
async fn a_day_being_computed_by_another_replica_is_waited_for() {
    let db = TestDb::migrated().await;
    let mut other = db.client().await;
    let c = db.client().await;
    let pool = pool(&db, 2);
    let u = user(&c, "u").await;
    let i = item(&c, "2026-01-01T00:00:00Z", 0).await;
    session(&c, u, i, "direct_play", "2026-09-01T10:00:00Z", 60, 1).await;

    // Another replica holds the 1st's lock (mid-computation).
    let tx = other.transaction().await.unwrap();
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&day_lock_key(d("2026-09-01"))],
    )
    .await
    .unwrap();
    let p = pool.clone();
    let mut task = tokio::spawn(async move {
        rollup_range(&p, BERLIN, d("2026-09-01"), d("2026-09-01"), |_, _, _| {}).await
    });
    let waited = tokio::time::timeout(Duration::from_millis(500), &mut task).await;
    assert!(waited.is_err(), "the rollup did not wait for the lock");
    assert_eq!(stored(&c, "2026-09-01").await, None);
    // Another day is not blocked by it.
    assert_eq!(roll(&pool, BERLIN, "2026-09-02").await, 1);

    tx.commit().await.unwrap();
    let written = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the rollup goes on once the lock is free")
        .unwrap()
        .unwrap();
    assert_eq!(written, 1);
    assert_eq!(stored(&c, "2026-09-01").await.unwrap().total_plays, 1);
}

/// Every node of an EXPLAIN (FORMAT JSON) plan.
fn plan_nodes<'a>(plan: &'a serde_json::Value, out: &mut Vec<&'a serde_json::Value>) {
    out.push(plan);
    if let Some(children) = plan.get("Plans").and_then(|p| p.as_array()) {
        for child in children {
            plan_nodes(child, out);
        }
    }
}

#[tokio::test]
async fn a_day_is_an_index_range_scan_and_matches_an_independent_count() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let pool = pool(&db, 2);
    c.batch_execute(
        "INSERT INTO users (username) SELECT 'user' || g FROM generate_series(1, 10) g;
         INSERT INTO media_items (title, file_size, added_at)
             SELECT 'item' || g, g * 1000, timestamptz '2024-12-01 00:00Z' + g * interval '1 day'
             FROM generate_series(1, 100) g;",
    )
    .await
    .unwrap();
    // 100,000 sessions every 346 s over 400 days (about 250 a day), 25,000 transcodes.
    let started = Instant::now();
    c.batch_execute(
        "INSERT INTO stream_sessions (user_id, media_item_id, playback_type, started_at,
             duration_seconds, bytes_served, is_active)
         SELECT u.ids[1 + g % 10], m.ids[1 + g % 100],
             (ARRAY['direct_play', 'direct_stream', 'transcode'])[1 + g % 3],
             timestamptz '2025-01-01 00:00Z' + g * interval '346 seconds',
             g % 7200, g::bigint * 1000, false
         FROM generate_series(1, 100000) g,
             (SELECT array_agg(id ORDER BY username) AS ids FROM users) u,
             (SELECT array_agg(id ORDER BY title) AS ids FROM media_items) m;
         INSERT INTO transcode_history (user_id, media_item_id, started_at, success)
         SELECT u.ids[1 + g % 10], m.ids[1 + g % 100],
             timestamptz '2025-01-01 00:00Z' + g * interval '1384 seconds', g % 5 <> 0
         FROM generate_series(1, 25000) g,
             (SELECT array_agg(id ORDER BY username) AS ids FROM users) u,
             (SELECT array_agg(id ORDER BY title) AS ids FROM media_items) m;
         ANALYZE;",
    )
    .await
    .unwrap();
    eprintln!("generated 125k rows in {:?}", started.elapsed());

    // The plan of the rollup's own statement for one day: index range scans on started_at.
    let (from, to) = day_bounds(BERLIN, d("2025-06-15"));
    let explain = format!("EXPLAIN (FORMAT JSON) {}", rollup::COMPUTE_SQL.as_str());
    let plan: serde_json::Value = c
        .query_one(explain.as_str(), &[&from, &to])
        .await
        .unwrap()
        .get(0);
    let mut nodes = Vec::new();
    plan_nodes(&plan[0]["Plan"], &mut nodes);
    let index_scans = ["Index Scan", "Index Only Scan", "Bitmap Index Scan"];
    // The ingest API's sessions are read through the `plays` view: either index on their start
    // (the partial one covering the figures, or the spec's), as the planner prefers.
    for (table, indexes) in [
        (
            "stream_sessions",
            &[
                "idx_stream_sessions_ingest_started",
                "idx_stream_sessions_started",
            ][..],
        ),
        ("transcode_history", &["idx_transcode_history_started"][..]),
    ] {
        assert!(
            nodes
                .iter()
                .any(|n| indexes.iter().any(|i| n["Index Name"] == *i)
                    && index_scans.contains(&n["Node Type"].as_str().unwrap_or(""))),
            "no index scan on {indexes:?}: {plan:#}"
        );
        assert!(
            !nodes
                .iter()
                .any(|n| n["Node Type"] == "Seq Scan" && n["Relation Name"] == table),
            "sequential scan of {table}: {plan:#}"
        );
    }
    let t = Instant::now();
    let one = compute_day(&c, BERLIN, d("2025-06-15")).await.unwrap();
    eprintln!("one day of ~250 sessions computed in {:?}", t.elapsed());
    assert!(one.total_plays > 200 && one.total_plays < 300, "{one:?}");

    // Every day of the 400, DST days included, against PostgreSQL's own time zone rules.
    let (first, last) = (d("2025-01-01"), d("2026-02-04"));
    let t = Instant::now();
    let days = rollup_range(&pool, BERLIN, first, last, |_, _, _| {})
        .await
        .unwrap();
    eprintln!("{days} days rolled up in {:?}", t.elapsed());
    assert_eq!(days, rollup::days_between(first, last).len());
    let rows = c
        .query(
            "WITH s AS (
                 SELECT (started_at AT TIME ZONE 'Europe/Berlin')::date AS d,
                     count(*)::int AS plays, count(DISTINCT user_id)::int AS users,
                     (sum(duration_seconds) / 60)::int AS minutes,
                     sum(bytes_served)::bigint AS bytes,
                     count(*) FILTER (WHERE playback_type = 'transcode')::int AS transcodes
                 FROM stream_sessions GROUP BY 1),
             t AS (
                 SELECT (started_at AT TIME ZONE 'Europe/Berlin')::date AS d,
                     count(*) FILTER (WHERE NOT success)::int AS failures
                 FROM transcode_history GROUP BY 1),
             m AS (
                 SELECT g::date AS d,
                     (SELECT count(*)::int FROM media_items
                      WHERE (added_at AT TIME ZONE 'UTC' AT TIME ZONE 'Europe/Berlin')::date
                          <= g::date) AS size
                 FROM generate_series(date '2025-01-01', date '2026-02-04', interval '1 day') g)
             SELECT m.d, COALESCE(s.plays, 0), COALESCE(s.users, 0), COALESCE(s.minutes, 0),
                 COALESCE(s.bytes, 0), COALESCE(s.transcodes, 0), COALESCE(t.failures, 0),
                 m.size
             FROM m LEFT JOIN s USING (d) LEFT JOIN t USING (d) ORDER BY m.d",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), days);
    for r in rows {
        let day: NaiveDate = r.get(0);
        let s = load_day(&c, day).await.unwrap().expect("row");
        let got = (
            s.total_plays,
            s.unique_users,
            s.total_watch_minutes,
            s.total_bytes_served,
            s.transcodes,
            s.transcode_failures,
            s.library_size_total,
        );
        let want: (i32, i32, i32, i64, i32, i32, i32) = (
            r.get(1),
            r.get(2),
            r.get(3),
            r.get(4),
            r.get(5),
            r.get(6),
            r.get(7),
        );
        assert_eq!(got, want, "{day}");
    }
    // The 25-hour day has about two hours' more sessions (~21) than the 23-hour one.
    let fall = load_day(&c, d("2025-10-26")).await.unwrap().unwrap();
    let spring = load_day(&c, d("2025-03-30")).await.unwrap().unwrap();
    assert!(
        fall.total_plays > spring.total_plays + 15,
        "{fall:?} {spring:?}"
    );
}

#[tokio::test]
async fn the_worker_catches_up_at_start_updates_metrics_and_stops_at_once() {
    use cinevault_analytics::{ingest::IngestWriter, metrics::Metrics, state::AppState};
    use tokio_util::sync::CancellationToken;

    let db = TestDb::migrated().await;
    let c = db.client().await;
    let config = test_config(&db.url, &["--rollup-max-days", "3"]);
    let pool = pool(&db, 4);
    let metrics = Metrics::new("test-host");
    let stop = CancellationToken::new();
    let (ingest, writers) = IngestWriter::start(pool.clone(), metrics.clone(), 1, stop.clone());
    let state = AppState::new(config, pool, metrics, ingest);
    assert_eq!(state.time_zone, BERLIN);

    let now = Utc::now();
    let yesterday = rollup::yesterday(BERLIN, now);
    let u = user(&c, "u").await;
    let i = item(&c, "2020-01-01T00:00:00Z", 0).await;
    // Sessions on each of the last 5 days; the bound (3) leaves the two oldest out.
    for back in 0..5u64 {
        let day = yesterday - chrono::Days::new(back);
        let at = day_start(BERLIN, day) + chrono::Duration::hours(12);
        session(&c, u, i, "direct_play", &at.to_rfc3339(), 120, 1).await;
    }

    let cancel = CancellationToken::new();
    let worker = tokio::spawn(rollup::run(state.clone(), cancel.clone()));
    let deadline = Instant::now() + Duration::from_secs(20);
    while state.metrics.rollup_last_success_timestamp.get() == 0.0 {
        assert!(
            Instant::now() < deadline,
            "the start-up rollup never succeeded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let y = load_day(&c, yesterday).await.unwrap().expect("yesterday");
    assert_eq!((y.total_plays, y.total_watch_minutes), (1, 2));
    assert_eq!(
        stored_days(&c).await,
        rollup::days_between(yesterday - chrono::Days::new(2), yesterday)
    );
    let m = &state.metrics;
    assert_eq!(m.rollup_runs.get(), 1);
    assert_eq!(m.rollup_failures.get(), 0);
    assert_eq!(
        m.rollup_last_day_timestamp.get(),
        day_start(BERLIN, yesterday).timestamp() as f64
    );
    assert!((m.rollup_last_success_timestamp.get() - now.timestamp() as f64).abs() < 60.0);
    assert!(m.rollup_duration.get() > 0.0 && m.rollup_duration.get() < 20.0);

    // Now it sleeps until 00:05; shutdown does not wait for that.
    let t = Instant::now();
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(2), worker)
        .await
        .expect("the worker stops at once")
        .unwrap()
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(1));
    stop.cancel();
    for w in writers {
        let _ = w.await;
    }
}

#[tokio::test]
async fn a_failed_run_is_counted_and_the_worker_goes_on() {
    use cinevault_analytics::{ingest::IngestWriter, metrics::Metrics, state::AppState};
    use tokio_util::sync::CancellationToken;

    // An empty database: no tables, so the rollup fails.
    let db = TestDb::empty().await;
    let config = test_config(&db.url, &[]);
    let pool = pool(&db, 2);
    let metrics = Metrics::new("test-host");
    let stop = CancellationToken::new();
    let (ingest, writers) = IngestWriter::start(pool.clone(), metrics.clone(), 1, stop.clone());
    let state = AppState::new(config, pool, metrics, ingest);
    let cancel = CancellationToken::new();
    let worker = tokio::spawn(rollup::run(state.clone(), cancel.clone()));
    let deadline = Instant::now() + Duration::from_secs(20);
    while state.metrics.rollup_failures.get() == 0 {
        assert!(Instant::now() < deadline, "the failure was never counted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state.metrics.rollup_runs.get(), 1);
    assert_eq!(state.metrics.rollup_last_success_timestamp.get(), 0.0);
    // The worker is still alive (waiting to retry), and stops when asked.
    assert!(!worker.is_finished());
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(2), worker)
        .await
        .expect("the worker stops at once")
        .unwrap()
        .unwrap();
    stop.cancel();
    for w in writers {
        let _ = w.await;
    }
}
