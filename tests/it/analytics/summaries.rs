//! The per-user summaries behind `users/activity` (migration 030) must always equal a scan of
//! every play: after each change the sidecar's own writers make (the ingest API's
//! statements, the plays worker on CineVault's rows), before the deltas are folded and
//! after, while writers and folds run at once; and after a recompute, whatever was changed
//! behind the sidecar's back (CineVault's deletes, genres edited in its tables).

use std::time::Duration;

use cinevault_analytics::analytics::users;
use cinevault_analytics::ingest::{apply, Event};
use cinevault_analytics::workers::summaries;
use serde_json::json;
use tokio_postgres::Client;
use uuid::Uuid;

use super::seed::{item, rebuild_summaries, seed, set_genres, user};
use crate::common::TestDb;

/// The per-user figures computed from every play: the reference the summaries must match.
const USERS_BY_SCAN: &str = "\
WITH per_user AS (
    SELECT user_id, count(*) AS plays, COALESCE(sum(watch_seconds), 0) / 60 AS minutes,
           max(last_active) AS last_active
    FROM plays GROUP BY user_id
), genre_plays AS (
    SELECT p.user_id, g.genre, count(*) AS n
    FROM plays p
    CROSS JOIN LATERAL (
        SELECT DISTINCT btrim(t.name::text) FROM media_tags mt JOIN tags t ON t.id = mt.tag_id
        WHERE mt.media_item_id = p.media_item_id AND t.category = 'genre'
          AND btrim(t.name::text) <> '') AS g(genre)
    GROUP BY p.user_id, g.genre
), favorite AS (
    SELECT DISTINCT ON (user_id) user_id, genre FROM genre_plays ORDER BY user_id, n DESC, genre
)
SELECT u.id, u.username::text, COALESCE(p.plays, 0)::int8, COALESCE(p.minutes, 0)::int8,
       p.last_active, f.genre
FROM users u LEFT JOIN per_user p ON p.user_id = u.id LEFT JOIN favorite f ON f.user_id = u.id
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
    cinevault_analytics::db::connect_pool(&db.url, 4, Duration::from_secs(10), chrono_tz::Tz::UTC)
        .expect("pool")
}

/// Applies events through the ingest API's own statements, in one transaction.
async fn ingest(pool: &deadpool_postgres::Pool, events: &[serde_json::Value]) {
    let mut c = pool.get().await.expect("connection");
    let tx = c.transaction().await.expect("transaction");
    for e in events {
        let event: Event = serde_json::from_value(e.clone()).expect("event");
        apply::apply(&tx, &event)
            .await
            .unwrap_or_else(|r| panic!("{e}: {:?}", r.into_app_error("")));
    }
    tx.commit().await.expect("commit");
}

fn start(id: Uuid, user: Uuid, item: Uuid, at: &str) -> serde_json::Value {
    json!({"type": "session_start", "id": id, "user_id": user, "media_item_id": item,
           "playback_type": "direct_play", "started_at": at})
}

#[tokio::test]
async fn summaries_match_a_full_scan_through_every_kind_of_change() {
    let db = TestDb::migrated().await;
    let pool = pool(&db);
    let c = db.client().await;
    check(&db, &pool, "empty").await;
    let s = seed(&c).await;
    check(&db, &pool, "seeded").await;

    // Several starts in one transaction, two users, an item whose genres repeat.
    let dup = item(
        &c,
        Some(s.shows),
        "Repeats",
        "'episode', 1200, '{Comedy,comedy,\"  \",Horror}', 'x', '/p.jpg', 2020, 'h264', 'aac',
         '720p', NULL, NULL, 42",
    )
    .await;
    let (a, b, d) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    ingest(
        &pool,
        &[
            start(a, s.carol, dup, "2026-03-29T13:01:00Z"),
            start(b, s.bob, dup, "2026-03-29T13:02:00Z"),
            start(d, s.carol, dup, "2026-03-29T13:03:00Z"),
            // A retry changes nothing.
            start(a, s.carol, dup, "2026-03-29T13:01:00Z"),
        ],
    )
    .await;
    check(&db, &pool, "starts").await;

    // Progress, then a stop whose end is before the last report: the last activity moves back.
    ingest(
        &pool,
        &[
            json!({"type": "session_progress", "session_id": a, "bytes_served": 10,
                   "duration_seconds": 600, "reported_at": "2026-03-29T13:20:00Z"}),
            json!({"type": "session_progress", "session_id": d, "bytes_served": 10,
                   "duration_seconds": 60, "reported_at": "2026-03-29T13:30:00Z"}),
        ],
    )
    .await;
    check(&db, &pool, "progress").await;
    ingest(
        &pool,
        &[
            json!({"type": "session_stop", "session_id": d, "duration_seconds": 70,
                   "ended_at": "2026-03-29T13:04:00Z"}),
            json!({"type": "session_stop", "session_id": a}),
        ],
    )
    .await;
    check(&db, &pool, "stop earlier than the last report").await;

    // A genre edit through the ingest API moves the item's plays at once.
    ingest(
        &pool,
        &[
            json!({"type": "media_item", "id": dup, "library_id": s.shows, "title": "Repeats",
                 "media_type": "tv_shows", "genres": ["Thriller", "horror", "Action"]}),
        ],
    )
    .await;
    check(&db, &pool, "genres edited through the ingest API").await;

    // A rolled-back transaction leaves nothing behind.
    {
        let mut conn = pool.get().await.expect("connection");
        let tx = conn.transaction().await.expect("tx");
        let event: Event = serde_json::from_value(start(
            Uuid::new_v4(),
            s.alice,
            s.harbor,
            "2026-03-29T15:00:00Z",
        ))
        .expect("event");
        apply::apply(&tx, &event).await.expect("applied");
        tx.rollback().await.expect("rollback");
    }
    check(&db, &pool, "rolled back").await;

    // Changes behind the sidecar's back (CineVault deleting an item, which takes its sessions;
    // genres edited in its tables) are taken in by the recompute.
    c.execute("DELETE FROM media_items WHERE id = $1", &[&s.storm])
        .await
        .expect("delete item");
    set_genres(&c, s.pilot, &["Drama".into(), "Satire".into()]).await;
    assert_ne!(
        by_summary(&c).await,
        by_scan(&c).await,
        "stale until recomputed"
    );
    assert!(summaries::rebuild(&pool).await.expect("rebuild"));
    check(&db, &pool, "recomputed").await;

    // A damaged summary heals with the recompute too.
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
    let mut people = vec![s.alice, s.bob];
    for n in ["u0", "u1", "u2", "u3", "u4", "u5"] {
        people.push(user(&c, n).await);
    }
    rebuild_summaries(&c).await;
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
        let pool = pool.clone();
        let people = people.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..40usize {
                // Each transaction touches two users in an order that differs by writer.
                let (a, b) = (
                    people[(w + i) % people.len()],
                    people[(w * 3 + i) % people.len()],
                );
                let it = items[(w + i) % items.len()];
                let (x, y) = (Uuid::new_v4(), Uuid::new_v4());
                ingest(
                    &pool,
                    &[
                        start(x, a, it, "2026-03-20T10:00:00Z"),
                        start(y, b, it, "2026-03-21T10:00:00Z"),
                        json!({"type": "session_progress", "session_id": x, "bytes_served": 1,
                               "duration_seconds": i, "reported_at": "2026-03-20T10:05:00Z"}),
                        json!({"type": "session_stop", "session_id": y, "duration_seconds": 30,
                               "ended_at": "2026-03-21T10:00:30Z"}),
                    ],
                )
                .await;
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
        cinevault_analytics::db::connect_pool(&url, 1, Duration::from_secs(10), chrono_tz::Tz::UTC)
            .expect("pool");
    let c = pool.get().await.expect("connection");
    let row = c
        .query_one(
            "SELECT current_setting('jit'), current_setting('work_mem'),
                    current_setting('cinevault_analytics.db_timezone')",
            &[],
        )
        .await
        .expect("settings");
    assert_eq!(
        (
            row.get::<_, String>(0),
            row.get::<_, String>(1),
            row.get::<_, String>(2)
        ),
        ("off".into(), "7MB".into(), "UTC".into())
    );
}
