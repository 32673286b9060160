//! The per-user summaries behind `users/activity` (migration 030) must always equal a scan of
//! every session: before the deltas are folded, after, after a rebuild, and while ingest and
//! folds run at once.

use std::time::Duration;

use cinevault_analytics::analytics::users;
use cinevault_analytics::workers::summaries;
use tokio_postgres::Client;
use uuid::Uuid;

use super::seed::{item, seed, session, user};
use crate::common::TestDb;

/// The per-user figures computed from every session, as the endpoint did before migration
/// 030: the reference the summaries must match.
const USERS_BY_SCAN: &str = "\
WITH plays AS (
    SELECT user_id, count(*) AS plays, COALESCE(sum(duration_seconds), 0) / 60 AS minutes,
           max(CASE WHEN is_active THEN GREATEST(started_at, last_reported_at)
                    ELSE GREATEST(started_at, ended_at) END) AS last_active
    FROM stream_sessions GROUP BY user_id
), genre_plays AS (
    SELECT s.user_id, g.genre, count(*) AS n
    FROM stream_sessions s
    JOIN media_items m ON m.id = s.media_item_id
    CROSS JOIN LATERAL (SELECT DISTINCT x FROM unnest(m.genres) AS x WHERE btrim(x) <> '')
        AS g(genre)
    GROUP BY s.user_id, g.genre
), favorite AS (
    SELECT DISTINCT ON (user_id) user_id, genre FROM genre_plays ORDER BY user_id, n DESC, genre
)
SELECT u.id, u.username, COALESCE(p.plays, 0)::int8, COALESCE(p.minutes, 0)::int8,
       p.last_active, f.genre
FROM users u LEFT JOIN plays p ON p.user_id = u.id LEFT JOIN favorite f ON f.user_id = u.id
ORDER BY 3 DESC, u.username, u.id";

type UserRow = (
    Uuid,
    String,
    i64,
    i64,
    Option<chrono::DateTime<chrono::Utc>>,
    Option<String>,
);

async fn by_scan(c: &Client) -> Vec<UserRow> {
    c.query(USERS_BY_SCAN, &[])
        .await
        .expect("users by scan")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect()
}

async fn by_summary(c: &Client) -> Vec<UserRow> {
    users::summaries(c)
        .await
        .expect("users")
        .users
        .into_iter()
        .map(|u| {
            (
                u.user_id,
                u.username,
                u.total_plays,
                u.watch_minutes,
                u.last_active,
                u.favorite_genre,
            )
        })
        .collect()
}

async fn pending(c: &Client) -> i64 {
    c.query_one(
        "SELECT (SELECT count(*) FROM user_activity_deltas)
              + (SELECT count(*) FROM user_genre_deltas)",
        &[],
    )
    .await
    .expect("pending")
    .get(0)
}

/// Checks the answer against the scan with the deltas unfolded, then folded.
async fn check(db: &TestDb, pool: &deadpool_postgres::Pool, step: &str) {
    let c = db.client().await;
    let expected = by_scan(&c).await;
    let before = by_summary(&c).await;
    assert_eq!(before, expected, "{step}: before the fold");
    summaries::fold_once(pool).await.expect("fold");
    assert_eq!(pending(&c).await, 0, "{step}: the fold leaves no delta");
    assert_eq!(by_summary(&c).await, expected, "{step}: after the fold");
}

fn pool(db: &TestDb) -> deadpool_postgres::Pool {
    cinevault_analytics::db::connect_pool(&db.url, 4, Duration::from_secs(10), chrono_tz::Tz::UTC).expect("pool")
}

#[tokio::test]
async fn summaries_match_a_full_scan_through_every_kind_of_change() {
    let db = TestDb::migrated().await;
    let pool = pool(&db);
    let c = db.client().await;
    check(&db, &pool, "empty").await;
    let s = seed(&c).await;
    check(&db, &pool, "seeded").await;

    // Several sessions in one statement, two users, genre lists with a repeat and a blank.
    let dup = item(
        &c,
        Some(s.shows),
        "Repeats",
        "'episode', 1200, '{Comedy,Comedy,\"  \",Horror}', 'x', '/p.jpg', 2020, 'h264', 'aac',
         '720p', NULL, NULL, 42",
    )
    .await;
    c.execute(
        "INSERT INTO stream_sessions (user_id, media_item_id, started_at, duration_seconds,
             is_active, ended_at, last_reported_at)
         SELECT u, $3, '2026-03-29T13:00:00Z'::timestamptz + n * interval '1 minute', 90 * n,
                false, '2026-03-29T14:00:00Z'::timestamptz + n * interval '1 minute',
                '2026-03-29T14:00:00Z'::timestamptz
         FROM unnest(ARRAY[$1::uuid, $2::uuid, $1::uuid]) WITH ORDINALITY AS x(u, n)",
        &[&s.carol, &s.bob, &dup],
    )
    .await
    .expect("bulk insert");
    check(&db, &pool, "bulk insert").await;

    // Progress on the active session (s4), then its stop with an end before its last report:
    // the user's last activity moves back.
    let s4 = s.sessions[3];
    c.execute(
        "UPDATE stream_sessions SET duration_seconds = duration_seconds + 600,
             last_reported_at = last_reported_at + interval '10 minutes' WHERE id = $1",
        &[&s4],
    )
    .await
    .expect("progress");
    check(&db, &pool, "progress").await;
    c.execute(
        "UPDATE stream_sessions SET is_active = false, ended_at = started_at + interval '1 minute'
         WHERE id = $1",
        &[&s4],
    )
    .await
    .expect("stop");
    check(&db, &pool, "stop earlier than the last report").await;

    // A session moved to another user, another to another item.
    c.execute(
        "UPDATE stream_sessions SET user_id = $2 WHERE id = $1",
        &[&s.sessions[0], &s.carol],
    )
    .await
    .expect("move user");
    c.execute(
        "UPDATE stream_sessions SET media_item_id = $2 WHERE id = $1",
        &[&s.sessions[1], &s.pilot],
    )
    .await
    .expect("move item");
    check(&db, &pool, "sessions moved").await;

    // The catalogue changes under the sessions: an item's genres edited directly in the
    // table (as CineVault does; an edit through the ingest API is applied at once, see
    // tests/it/ingest.rs) is taken in by the recompute; a new and a deleted item change nothing.
    c.execute(
        "UPDATE media_items SET genres = '{Thriller,Action}' WHERE id = $1",
        &[&s.storm],
    )
    .await
    .expect("genres");
    let unplayed = item(
        &c,
        Some(s.movies),
        "Unplayed",
        "'movie', 100, '{Drama}', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1000",
    )
    .await;
    c.execute("DELETE FROM media_items WHERE id = $1", &[&unplayed])
        .await
        .expect("delete item");
    assert!(summaries::rebuild(&pool).await.expect("rebuild"));
    check(&db, &pool, "catalogue edits").await;

    // Sessions deleted, among them a user's latest.
    c.execute(
        "DELETE FROM stream_sessions WHERE id = ANY($1)",
        &[&vec![s.sessions[2], s.sessions[6]]],
    )
    .await
    .expect("delete sessions");
    check(&db, &pool, "sessions deleted").await;

    // A rolled-back transaction leaves nothing behind.
    c.batch_execute(
        "BEGIN; UPDATE stream_sessions SET duration_seconds = duration_seconds + 1000000;
         UPDATE media_items SET file_size_bytes = 1; ROLLBACK;",
    )
    .await
    .expect("rollback");
    check(&db, &pool, "rolled back").await;

    // A rebuild from scratch gives the same figures; a damaged summary heals with it.
    c.batch_execute(
        "UPDATE user_activity_totals SET plays = plays + 100; DELETE FROM user_genre_plays;",
    )
    .await
    .expect("damage");
    assert_ne!(by_summary(&c).await, by_scan(&c).await);
    assert!(summaries::rebuild(&pool).await.expect("rebuild"));
    check(&db, &pool, "rebuilt").await;
}

#[tokio::test]
async fn summaries_stay_exact_while_ingest_and_folds_run_at_once() {
    let db = TestDb::migrated().await;
    let pool = pool(&db);
    let c = db.client().await;
    let s = seed(&c).await;
    let names = ["u0", "u1", "u2", "u3", "u4", "u5"];
    let mut people = vec![s.alice, s.bob];
    for n in names {
        people.push(user(&c, n).await);
    }
    let items = [s.harbor, s.storm, s.pilot, s.loose];

    let stop = tokio_util::sync::CancellationToken::new();
    let folder = {
        let (pool, stop) = (pool.clone(), stop.clone());
        tokio::spawn(async move {
            let mut folds = 0;
            while !stop.is_cancelled() {
                summaries::fold_once(&pool).await.expect("fold");
                folds += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            folds
        })
    };
    let mut writers = Vec::new();
    for w in 0..6usize {
        let db_url = db.url.clone();
        let people = people.clone();
        writers.push(tokio::spawn(async move {
            let mut c = crate::common::connect(&db_url).await;
            for i in 0..40usize {
                let tx = c.transaction().await.expect("tx");
                // Each transaction touches two users in an order that differs by writer.
                let (a, b) = (people[(w + i) % people.len()], people[(w * 3 + i) % people.len()]);
                let it = items[(w + i) % items.len()];
                let id = session(&tx, a, it, "direct_play", "2026-03-20T10:00:00Z", 60, 1, true).await;
                session(&tx, b, it, "transcode", "2026-03-21T10:00:00Z", 30, 1, false).await;
                tx.execute(
                    "UPDATE stream_sessions SET duration_seconds = duration_seconds + $2,
                         last_reported_at = last_reported_at + interval '1 minute' WHERE id = $1",
                    &[&id, &(i as i32)],
                )
                .await
                .expect("progress");
                if i % 5 == 0 {
                    tx.execute(
                        "UPDATE media_items SET file_size_bytes = file_size_bytes + 1 WHERE id = $1",
                        &[&it],
                    )
                    .await
                    .expect("resize");
                }
                tx.commit().await.expect("commit");
            }
        }));
    }
    for w in writers {
        w.await.expect("writer");
    }
    stop.cancel();
    let folds = folder.await.expect("folder");
    assert!(
        folds > 1,
        "the folder ran during the writes ({folds} folds)"
    );
    check(&db, &pool, "after concurrent ingest").await;
}

#[tokio::test]
async fn the_sidecars_sessions_never_jit_compile() {
    let db = TestDb::migrated().await;
    let pool = pool(&db);
    let c = pool.get().await.expect("connection");
    let jit: String = c.query_one("SHOW jit", &[]).await.expect("show").get(0);
    assert_eq!(jit, "off");
    // Options given in the URL are kept.
    let url = format!("{}?options=-c%20work_mem%3D7MB", db.url);
    let pool =
        cinevault_analytics::db::connect_pool(&url, 1, Duration::from_secs(10), chrono_tz::Tz::UTC).expect("pool");
    let c = pool.get().await.expect("connection");
    let row = c
        .query_one(
            "SELECT current_setting('jit'), current_setting('work_mem')",
            &[],
        )
        .await
        .expect("settings");
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("off".into(), "7MB".into())
    );
}
