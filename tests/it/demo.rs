//! `cinevault-analytics demo`: seeds once, reuses its own data, refuses foreign data.

use std::process::Command;

use crate::common::TestDb;

fn demo(url: &str, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cinevault-analytics"))
        .args(["demo", "--seed-only"])
        .args(extra)
        .env("DATABASE_URL", url)
        .env("CINEVAULT_TIMEZONE", "America/New_York")
        .env("CINEVAULT_HOST_NAME", "demo-host")
        .output()
        .expect("run demo")
}

async fn count(c: &tokio_postgres::Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).await.expect(sql).get(0)
}

#[tokio::test]
async fn demo_seeds_a_realistic_catalogue_once() {
    let db = TestDb::migrated().await;
    let out = demo(&db.url, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("demo data seeded: 4 libraries, 2000 media items, 25 users"),
        "{stdout}"
    );

    let c = db.client().await;
    assert_eq!(count(&c, "SELECT count(*) FROM media_items").await, 2000);
    assert_eq!(count(&c, "SELECT count(*) FROM daily_stats").await, 91);
    assert!(
        count(
            &c,
            "SELECT min(total_plays)::bigint FROM daily_stats WHERE stat_date > current_date - 80"
        )
        .await
            > 20
    );
    assert_eq!(count(&c, "SELECT count(*) FROM users").await, 25);
    let sessions = count(&c, "SELECT count(*) FROM stream_sessions").await;
    assert!(sessions > 4000, "{sessions} sessions");
    assert_eq!(
        count(
            &c,
            "SELECT count(DISTINCT playback_type) FROM stream_sessions"
        )
        .await,
        3
    );
    let days = count(
        &c,
        "SELECT count(DISTINCT (started_at AT TIME ZONE 'America/New_York')::date) FROM stream_sessions",
    )
    .await;
    assert!((89..=91).contains(&days), "{days} days of sessions");
    assert!(count(&c, "SELECT count(*) FROM stream_sessions WHERE is_active").await >= 3);
    assert!(
        count(
            &c,
            "SELECT count(*) FROM transcode_history WHERE NOT success"
        )
        .await
            > 0
    );
    assert!(
        count(
            &c,
            "SELECT count(*) FROM transcode_history WHERE hw_accel IS NOT NULL"
        )
        .await
            > 0
    );
    assert!(count(&c, "SELECT count(*) FROM stream_errors").await > 0);
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM system_metrics WHERE host = 'demo-host'"
        )
        .await,
        7 * 24 * 60
    );
    assert!(
        count(
            &c,
            "SELECT count(*) FROM media_items WHERE hdr_format IS NOT NULL"
        )
        .await
            > 0
    );
    assert!(
        count(
            &c,
            "SELECT count(*) FROM media_items WHERE audio_format = 'Dolby Atmos'"
        )
        .await
            > 0
    );
    assert!(
        count(
            &c,
            "SELECT count(*) FROM media_items WHERE overview IS NULL"
        )
        .await
            > 0
    );
    assert!(
        count(
            &c,
            "SELECT count(*) FROM media_items WHERE cardinality(genres) > 0"
        )
        .await
            == 2000
    );

    // A second run reuses what the first seeded.
    let again = demo(&db.url, &[]);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("already present"));
    assert_eq!(
        count(&c, "SELECT count(*) FROM stream_sessions").await,
        sessions
    );
}

#[tokio::test]
async fn demo_refuses_a_database_with_real_data_unless_forced() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    c.batch_execute("INSERT INTO users (username) VALUES ('a-real-person')")
        .await
        .expect("real user");
    let out = demo(&db.url, &[]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refusing"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&c, "SELECT count(*) FROM media_items").await, 0);

    let forced = demo(&db.url, &["--force"]);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert_eq!(count(&c, "SELECT count(*) FROM media_items").await, 2000);
    assert_eq!(count(&c, "SELECT count(*) FROM daily_stats").await, 91);
    assert!(
        count(
            &c,
            "SELECT min(total_plays)::bigint FROM daily_stats WHERE stat_date > current_date - 80"
        )
        .await
            > 20
    );
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM users WHERE username = 'a-real-person'"
        )
        .await,
        1
    );
}
