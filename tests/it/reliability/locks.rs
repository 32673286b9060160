//! Background work never waits for rows an ingest transaction is writing. Found by the
//! load run: the reaper's one-statement UPDATE of every stale session waited for a session
//! an ingest group was stopping while holding others that group wanted, PostgreSQL detected
//! the deadlock after a second, and an ingest request was answered 500.

use std::time::Duration;

use uuid::Uuid;

use super::eventually;
use crate::common::{test_config, TestApp, TestDb};

#[tokio::test]
async fn the_reaper_skips_sessions_and_transcodes_locked_by_a_writer_and_reaps_them_later() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let (user, item) = (Uuid::new_v4(), Uuid::new_v4());
    c.execute(
        "INSERT INTO users (id, username) VALUES ($1, 'locks')",
        &[&user],
    )
    .await
    .expect("user");
    c.execute(
        "INSERT INTO media_items (id, title, media_type) VALUES ($1, 'Locks', 'movies')",
        &[&item],
    )
    .await
    .expect("item");
    // Two stale sessions and two abandoned transcodes.
    let sessions: Vec<Uuid> = (0..2).map(|_| Uuid::new_v4()).collect();
    let transcodes: Vec<Uuid> = (0..2).map(|_| Uuid::new_v4()).collect();
    for id in &sessions {
        c.execute(
            "INSERT INTO stream_sessions (id, user_id, media_item_id, started_at, last_reported_at)
             VALUES ($1, $2, $3, now() - interval '1 hour', now() - interval '1 hour')",
            &[id, &user, &item],
        )
        .await
        .expect("session");
    }
    for id in &transcodes {
        c.execute(
            "INSERT INTO transcode_history (id, user_id, media_item_id, started_at)
             VALUES ($1, $2, $3, now() - interval '2 days')",
            &[id, &user, &item],
        )
        .await
        .expect("transcode");
    }
    // "An ingest transaction" holds the first of each, as a group stopping it would.
    let mut writer = db.client().await;
    let tx = writer.transaction().await.expect("tx");
    tx.execute(
        "UPDATE stream_sessions SET bytes_served = bytes_served WHERE id = $1",
        &[&sessions[0]],
    )
    .await
    .expect("lock session");
    tx.execute(
        "UPDATE transcode_history SET file_size_bytes = file_size_bytes WHERE id = $1",
        &[&transcodes[0]],
    )
    .await
    .expect("lock transcode");

    let app = TestApp::spawn(test_config(
        &db.url,
        &[
            "--stale-session-after",
            "2s",
            "--stale-transcode-after",
            "1h",
            "--collect-interval",
            "1h",
        ],
    ))
    .await;
    let active = |id: Uuid, sql: &'static str| {
        let c = &c;
        async move {
            c.query_one(sql, &[&id])
                .await
                .expect("state")
                .get::<_, bool>(0)
        }
    };
    const SESSION: &str = "SELECT is_active FROM stream_sessions WHERE id = $1";
    const TRANSCODE: &str = "SELECT completed_at IS NULL FROM transcode_history WHERE id = $1";
    // The unlocked ones are reaped while the locked ones are held.
    eventually(
        "the unlocked session reaped",
        Duration::from_secs(10),
        || async { !active(sessions[1], SESSION).await },
    )
    .await;
    eventually(
        "the unlocked transcode closed",
        Duration::from_secs(10),
        || async { !active(transcodes[1], TRANSCODE).await },
    )
    .await;
    assert!(
        active(sessions[0], SESSION).await,
        "a locked session was waited for"
    );
    assert!(active(transcodes[0], TRANSCODE).await);
    // Once the writer is done, the next run reaps the rest.
    tx.commit().await.expect("commit");
    eventually("the rest reaped", Duration::from_secs(10), || async {
        !active(sessions[0], SESSION).await && !active(transcodes[0], TRANSCODE).await
    })
    .await;
    app.stop().await;
}
