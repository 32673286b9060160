//! `cinevault-analytics demo`: seeds once, reuses its own data, refuses foreign data; the
//! standalone demo on the sidecar's own database, the CineVault demo (`--cinevault`) the way
//! CineVault itself fills its database.

use std::process::Command;
use std::time::Duration;

use cinevault_analytics::config::DemoArgs;
use cinevault_analytics::demo::cinevault;
use cinevault_analytics::{db, plays};

use crate::common::{test_config, TestDb};

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
            "SELECT count(*) FROM media_items WHERE description IS NULL"
        )
        .await
            > 0
    );
    // CineVault's names and types: enums for roles and kinds, genres as tags.
    assert_eq!(
        count(&c, "SELECT count(*) FROM users WHERE role = 'admin'").await,
        1
    );
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM media_items WHERE media_type = 'tv_shows'"
        )
        .await,
        1120
    );
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM libraries WHERE media_type IN ('movies', 'tv_shows')"
        )
        .await,
        4
    );
    assert_eq!(
        count(&c, "SELECT count(*) FROM tags WHERE category = 'genre'").await,
        16
    );
    assert_eq!(
        count(
            &c,
            "SELECT count(DISTINCT media_item_id) FROM media_tags mt
             JOIN tags t ON t.id = mt.tag_id WHERE t.category = 'genre'"
        )
        .await,
        2000
    );
    assert!(
        count(
            &c,
            "SELECT count(*) FROM tags WHERE slug = 'science-fiction' AND name = 'Science Fiction'"
        )
        .await
            == 1
    );
    // The standalone demo stands for a server reporting through the ingest API.
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM stream_sessions WHERE source <> 'ingest'"
        )
        .await,
        0
    );
    assert_eq!(
        count(&c, "SELECT count(*) FROM plays").await,
        sessions,
        "every ingest session is a play"
    );
    // The per-user summaries were rebuilt from the seeded plays.
    assert_eq!(
        count(
            &c,
            "SELECT COALESCE(sum(plays), 0)::bigint FROM user_activity_totals"
        )
        .await,
        sessions
    );
    assert!(count(&c, "SELECT count(*) FROM user_genre_plays").await > 0);

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

/// CineVault's core tables, which the sidecar never creates or changes in its database.
const CORE_TABLES: &[&str] = &[
    "users",
    "libraries",
    "media_items",
    "tags",
    "media_tags",
    "watch_history",
];

/// Columns, indexes, constraints and enums of CineVault's core tables, one line each.
async fn core_shape(c: &tokio_postgres::Client) -> Vec<String> {
    let core: Vec<String> = CORE_TABLES.iter().map(|t| (*t).to_owned()).collect();
    let mut shape = Vec::new();
    for sql in [
        "SELECT concat_ws(' | ', table_name, column_name, data_type, udt_name,
                character_maximum_length, is_nullable, COALESCE(column_default, '-'))
         FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = ANY($1)
         ORDER BY table_name, ordinal_position",
        "SELECT tablename || ' | ' || indexdef FROM pg_indexes
         WHERE schemaname = current_schema() AND tablename = ANY($1) ORDER BY 1",
        "SELECT conrelid::regclass::text || ' | ' || conname || ' | ' || pg_get_constraintdef(oid)
         FROM pg_constraint WHERE conrelid::regclass::text = ANY($1) ORDER BY 1",
    ] {
        for row in c.query(sql, &[&core]).await.expect(sql) {
            shape.push(row.get::<_, String>(0));
        }
    }
    for row in c
        .query(
            "SELECT t.typname || ' | ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
             FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
             WHERE t.typname IN ('user_role', 'media_type', 'tag_category', 'library_access')
             GROUP BY t.typname ORDER BY 1",
            &[],
        )
        .await
        .expect("enums")
    {
        shape.push(row.get::<_, String>(0));
    }
    shape
}

async fn tables(c: &tokio_postgres::Client) -> Vec<String> {
    c.query(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1",
        &[],
    )
    .await
    .expect("tables")
    .iter()
    .map(|r| r.get(0))
    .collect()
}

#[tokio::test]
async fn cinevault_demo_writes_what_cinevault_writes_and_the_sidecar_groups_it() {
    let db = TestDb::empty().await;
    let config = test_config(&db.url, &["--database-mode", "cinevault"]);
    let args = DemoArgs {
        force: false,
        seed_only: true,
        seed: 25,
        cinevault: true,
    };
    let mut c = db.client().await;
    let summary = match cinevault::seed(&mut c, &args, config.time_zone())
        .await
        .expect("seed the CineVault demo")
    {
        cinevault::Outcome::Seeded(s) => s,
        other => panic!("expected a seeding, got {other:?}"),
    };
    assert!(summary.created_schema);
    assert_eq!(summary.media_items, 1000);
    assert_eq!(summary.users, 15);
    assert_eq!(count(&c, "SELECT count(*) FROM media_items").await, 1000);
    assert_eq!(count(&c, "SELECT count(*) FROM users").await, 15);
    assert!(
        count(
            &c,
            "SELECT count(*) FROM users WHERE parent_user_id IS NOT NULL AND is_kids_profile"
        )
        .await
            >= 1
    );
    assert!(count(&c, "SELECT count(DISTINCT media_type) FROM libraries").await >= 4);
    // CineVault's own rollup: every request row of the UTC day is a play; it never writes
    // transcode_history.
    assert_eq!(count(&c, "SELECT count(*) FROM daily_stats").await, 30);
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM daily_stats d
             WHERE total_plays <> (SELECT count(*) FROM stream_sessions s
                 WHERE s.started_at >= d.stat_date::timestamp AT TIME ZONE 'UTC'
                   AND s.started_at < (d.stat_date + 1)::timestamp AT TIME ZONE 'UTC')"
        )
        .await,
        0
    );
    assert_eq!(count(&c, "SELECT count(*) FROM transcode_history").await, 0);

    // The sidecar beside it, in cinevault mode.
    let reference = TestDb::empty().await;
    let r = reference.client().await;
    r.batch_execute(cinevault::SCHEMA)
        .await
        .expect("CineVault's schema alone");
    let prepared = db::prepare_schema(&config)
        .await
        .expect("prepare the schema");
    assert_eq!(prepared.kind, db::schema::Kind::Cinevault);
    // The sidecar created no core table and changed none: they are exactly what
    // cinevault_schema.sql made.
    assert_eq!(core_shape(&c).await, core_shape(&r).await);
    let ours = tables(&c).await;
    for t in tables(&r).await {
        assert!(ours.contains(&t), "{t} is gone");
    }

    // What CineVault wrote, as it wrote it: no `source`, no `host` named.
    let rows = count(&c, "SELECT count(*) FROM stream_sessions").await;
    assert!(rows > 5000, "{rows} rows");
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM stream_sessions WHERE source = 'cinevault'"
        )
        .await,
        rows
    );
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM stream_sessions WHERE bytes_served <> 0"
        )
        .await,
        0
    );
    assert_eq!(
        count(&c, "SELECT count(*) FROM system_metrics WHERE host = ''").await,
        24 * 60
    );
    assert!(
        count(
            &c,
            "SELECT count(*) FROM stream_sessions WHERE playback_type = 'direct_play'
               AND container NOT IN ('mp4', 'webm', 'm4v')"
        )
        .await
            == 0
    );

    // Transcode rows CineVault never ends, older than their item's runtime (and the stale
    // margin): the pass closes them.
    let stale_transcodes = "SELECT count(*) FROM stream_sessions s
        JOIN media_items m ON m.id = s.media_item_id
        WHERE s.playback_type = 'transcode' AND s.is_active
          AND s.started_at < now() - make_interval(secs => m.duration_seconds + 600 + 120)";
    let before = count(&c, stale_transcodes).await;
    assert!(before > 50, "{before} old transcode rows open");
    let pool =
        db::connect_pool(&db.url, 2, Duration::from_secs(5), config.db_timezone).expect("pool");
    let pass = plays::pass(&pool, plays::Rules::from_config(&config), true)
        .await
        .expect("plays pass")
        .expect("no other sidecar holds the lock");
    assert!(pass.rows_closed as i64 >= before, "{pass:?}");
    assert!(pass.inserted > 0, "{pass:?}");
    assert_eq!(count(&c, stale_transcodes).await, 0);
    // The viewings of the last hour are still playing.
    assert!(
        count(
            &c,
            "SELECT count(*) FROM stream_sessions
             WHERE is_active AND started_at > now() - interval '1 hour'"
        )
        .await
            >= 3
    );
    assert!(count(&c, "SELECT count(*) FROM cinevault_plays WHERE is_active").await >= 3);

    // Request rows grouped into plays: fewer plays than direct requests, every row in one.
    let direct = count(
        &c,
        "SELECT count(*) FROM stream_sessions WHERE playback_type <> 'transcode'",
    )
    .await;
    let cv_plays = count(&c, "SELECT count(*) FROM cinevault_plays").await;
    assert!(cv_plays > 1000, "{cv_plays} plays");
    assert!(
        cv_plays < direct,
        "{cv_plays} plays from {direct} request rows"
    );
    assert_eq!(
        count(
            &c,
            "SELECT COALESCE(sum(request_rows), 0)::bigint FROM cinevault_plays"
        )
        .await,
        rows
    );
    assert_eq!(count(&c, "SELECT count(*) FROM plays").await, cv_plays);
    assert!(
        count(
            &c,
            "SELECT count(*) FROM cinevault_plays WHERE position_seconds IS NOT NULL"
        )
        .await
            > 0
    );

    // A second seeding leaves the demo as it is.
    assert_eq!(
        cinevault::seed(&mut c, &args, config.time_zone())
            .await
            .expect("second seed"),
        cinevault::Outcome::AlreadySeeded
    );
    assert_eq!(
        count(&c, "SELECT count(*) FROM stream_sessions").await,
        rows
    );
}

#[tokio::test]
async fn cinevault_demo_command_seeds_groups_and_rolls_up_once() {
    let db = TestDb::empty().await;
    let out = demo(&db.url, &["--cinevault"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("CineVault demo data seeded (CineVault's schema created): 5 libraries, 1000 media items"),
        "{stdout}"
    );
    assert!(stdout.contains("plays: "), "{stdout}");
    assert!(stdout.contains("for 61 days"), "{stdout}");
    let c = db.client().await;
    assert!(count(&c, "SELECT count(*) FROM cinevault_plays").await > 1000);
    assert_eq!(
        count(&c, "SELECT count(*) FROM sidecar_daily_stats").await,
        61
    );
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM stream_sessions WHERE source <> 'cinevault'"
        )
        .await,
        0
    );

    let again = demo(&db.url, &["--cinevault"]);
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("already present"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
}

#[tokio::test]
async fn cinevault_demo_refuses_a_database_with_a_users_table() {
    let db = TestDb::migrated().await;
    let out = demo(&db.url, &["--cinevault"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refusing"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = db.client().await;
    assert_eq!(count(&c, "SELECT count(*) FROM media_items").await, 0);
}
