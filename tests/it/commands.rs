//! The command line: `rollup` backfills and reports; bad arguments are refused by name.

use std::process::Command;

use crate::common::TestDb;

fn cli(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cinevault-analytics"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("CINEVAULT_TIMEZONE", "Europe/Berlin")
        .env("CINEVAULT_LOG", "warn")
        .output()
        .expect("run the binary")
}

#[tokio::test]
async fn rollup_backfills_a_range_idempotently_and_says_how_many_days() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    c.batch_execute(
        "INSERT INTO users (id, username) VALUES ('00000000-0000-0000-0000-0000000000a1', 'ann');
         INSERT INTO media_items (id, title, file_size, added_at)
             VALUES ('00000000-0000-0000-0000-0000000000b1', 'Film', 1000, '2026-01-01T00:00:00Z');
         INSERT INTO stream_sessions (user_id, media_item_id, playback_type, duration_seconds, started_at)
             VALUES ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000b1',
                     'transcode', 600, '2026-03-10T22:30:00Z'),  -- 23:30 in Berlin: March 10
                    ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000b1',
                     'direct_play', 125, '2026-03-10T23:30:00Z'); -- 00:30 in Berlin: March 11",
    )
    .await
    .expect("data");
    for _ in 0..2 {
        let out = cli(
            &db.url,
            &["rollup", "--from", "2026-03-09", "--to", "2026-03-12"],
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("wrote 4 day(s) from 2026-03-09 to 2026-03-12 (Europe/Berlin)"),
            "{stdout}"
        );
    }
    let rows = c
        .query("SELECT stat_date::text, total_plays, transcodes, direct_plays, total_watch_minutes, library_size_total FROM daily_stats ORDER BY 1", &[])
        .await
        .expect("rows");
    let got: Vec<(String, i32, i32, i32, i32, i32)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect();
    assert_eq!(
        got,
        vec![
            ("2026-03-09".into(), 0, 0, 0, 0, 1),
            ("2026-03-10".into(), 1, 1, 0, 10, 1),
            ("2026-03-11".into(), 1, 0, 1, 2, 1),
            ("2026-03-12".into(), 0, 0, 0, 0, 1),
        ]
    );
    let out = cli(&db.url, &["rollup", "--date", "2026-03-10"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("wrote 1 day(s)"));
}

#[tokio::test]
async fn bad_arguments_are_refused_naming_them() {
    let db = TestDb::migrated().await;
    for (args, needle) in [
        (
            vec!["rollup", "--from", "2026-03-12", "--to", "2026-03-01"],
            "--from 2026-03-12 is after --to",
        ),
        (vec!["rollup", "--date", "2026-02-30"], "--date"),
        (vec!["rollup", "--from", "2026-03-01"], "--to"),
        (
            vec!["serve", "--collect-interval", "soon"],
            "--collect-interval",
        ),
        (vec!["serve", "--timezone", "Mars/Olympus"], "--timezone"),
    ] {
        let out = cli(&db.url, &args);
        assert!(!out.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}
