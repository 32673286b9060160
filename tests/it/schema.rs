//! Migration 025 is the spec's schema to the letter; later migrations only add; CineVault's
//! own tables are left untouched.

use std::collections::BTreeMap;

use cinevault_analytics::db;

use crate::common::TestDb;

/// (column, data type, max length, nullable, default) exactly as the spec's tables list them.
type Col = (
    &'static str,
    &'static str,
    Option<i32>,
    bool,
    Option<&'static str>,
);

fn spec_tables() -> Vec<(&'static str, Vec<Col>)> {
    let uuid_pk = ("id", "uuid", None, false, Some("gen_random_uuid()"));
    let now = Some("CURRENT_TIMESTAMP");
    vec![
        (
            "stream_sessions",
            vec![
                uuid_pk,
                ("user_id", "uuid", None, false, None),
                ("media_item_id", "uuid", None, false, None),
                (
                    "playback_type",
                    "character varying",
                    Some(20),
                    false,
                    Some("'direct_play'::character varying"),
                ),
                ("quality", "character varying", Some(20), true, None),
                ("codec", "character varying", Some(50), true, None),
                ("resolution", "character varying", Some(20), true, None),
                ("container", "character varying", Some(20), true, None),
                ("bytes_served", "bigint", None, false, Some("0")),
                ("duration_seconds", "integer", None, false, Some("0")),
                ("client_info", "character varying", Some(255), true, None),
                ("started_at", "timestamp with time zone", None, false, now),
                ("ended_at", "timestamp with time zone", None, true, None),
                ("is_active", "boolean", None, false, Some("true")),
            ],
        ),
        (
            "transcode_history",
            vec![
                uuid_pk,
                ("media_item_id", "uuid", None, false, None),
                ("user_id", "uuid", None, false, None),
                ("input_codec", "character varying", Some(50), true, None),
                ("output_codec", "character varying", Some(50), true, None),
                (
                    "input_resolution",
                    "character varying",
                    Some(20),
                    true,
                    None,
                ),
                (
                    "output_resolution",
                    "character varying",
                    Some(20),
                    true,
                    None,
                ),
                ("hw_accel", "character varying", Some(50), true, None),
                ("quality", "character varying", Some(20), true, None),
                ("duration_seconds", "integer", None, false, Some("0")),
                ("file_size_bytes", "bigint", None, false, Some("0")),
                ("success", "boolean", None, false, Some("true")),
                ("error_message", "text", None, true, None),
                ("started_at", "timestamp with time zone", None, false, now),
                ("completed_at", "timestamp with time zone", None, true, None),
            ],
        ),
        (
            "system_metrics",
            vec![
                uuid_pk,
                ("cpu_percent", "real", None, false, Some("0")),
                ("memory_percent", "real", None, false, Some("0")),
                ("memory_used_mb", "integer", None, false, Some("0")),
                ("gpu_encoder_percent", "real", None, true, None),
                ("gpu_memory_percent", "real", None, true, None),
                ("gpu_temp_celsius", "real", None, true, None),
                ("disk_total_gb", "real", None, false, Some("0")),
                ("disk_used_gb", "real", None, false, Some("0")),
                ("disk_free_gb", "real", None, false, Some("0")),
                ("active_streams", "integer", None, false, Some("0")),
                ("active_transcodes", "integer", None, false, Some("0")),
                ("recorded_at", "timestamp with time zone", None, false, now),
            ],
        ),
        (
            "daily_stats",
            vec![
                uuid_pk,
                ("stat_date", "date", None, false, None),
                ("total_plays", "integer", None, false, Some("0")),
                ("unique_users", "integer", None, false, Some("0")),
                ("total_watch_minutes", "integer", None, false, Some("0")),
                ("total_bytes_served", "bigint", None, false, Some("0")),
                ("transcodes", "integer", None, false, Some("0")),
                ("direct_plays", "integer", None, false, Some("0")),
                ("direct_streams", "integer", None, false, Some("0")),
                ("transcode_failures", "integer", None, false, Some("0")),
                ("new_media_added", "integer", None, false, Some("0")),
                ("library_size_total", "integer", None, false, Some("0")),
                ("storage_used_bytes", "bigint", None, false, Some("0")),
            ],
        ),
        (
            "notification_channels",
            vec![
                uuid_pk,
                ("name", "character varying", Some(100), false, None),
                ("channel_type", "character varying", Some(20), false, None),
                ("webhook_url", "text", None, false, None),
                ("is_enabled", "boolean", None, false, Some("true")),
                ("events", "jsonb", None, false, Some("'[\"all\"]'::jsonb")),
                ("created_at", "timestamp with time zone", None, false, now),
                ("updated_at", "timestamp with time zone", None, false, now),
            ],
        ),
        (
            "alert_rules",
            vec![
                uuid_pk,
                ("name", "character varying", Some(100), false, None),
                ("condition_type", "character varying", Some(50), false, None),
                ("threshold", "real", None, false, Some("0")),
                ("cooldown_minutes", "integer", None, false, Some("60")),
                ("channel_id", "uuid", None, false, None),
                ("is_enabled", "boolean", None, false, Some("true")),
                (
                    "last_triggered_at",
                    "timestamp with time zone",
                    None,
                    true,
                    None,
                ),
                ("created_at", "timestamp with time zone", None, false, now),
                ("updated_at", "timestamp with time zone", None, false, now),
            ],
        ),
        (
            "alert_log",
            vec![
                uuid_pk,
                ("rule_id", "uuid", None, true, None),
                ("channel_id", "uuid", None, true, None),
                ("message", "text", None, false, None),
                ("success", "boolean", None, false, Some("true")),
                ("error_detail", "text", None, true, None),
                ("sent_at", "timestamp with time zone", None, false, now),
            ],
        ),
    ]
}

/// Columns that migration 026 adds to the spec's tables (decisions.md §3).
const ADDED_COLUMNS: &[(&str, &str)] = &[
    ("stream_sessions", "last_reported_at"),
    ("system_metrics", "host"),
    // Migration 028 (alerting).
    ("notification_channels", "signing_secret"),
    ("alert_rules", "send_resolved"),
    ("alert_log", "kind"),
    ("alert_log", "host"),
    ("alert_log", "http_status"),
    ("alert_log", "attempts"),
];

async fn columns(
    c: &tokio_postgres::Client,
    table: &str,
) -> Vec<(String, String, Option<i32>, bool, Option<String>)> {
    c.query(
        "SELECT column_name::text, data_type::text, character_maximum_length::int,
                is_nullable = 'YES', column_default::text
         FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
        &[&table],
    )
    .await
    .expect("columns")
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
    .collect()
}

#[tokio::test]
async fn migration_025_creates_exactly_the_spec_tables() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    for (table, expected) in spec_tables() {
        let actual: Vec<_> = columns(&c, table)
            .await
            .into_iter()
            .filter(|col| !ADDED_COLUMNS.contains(&(table, col.0.as_str())))
            .collect();
        assert_eq!(actual.len(), expected.len(), "{table}: {actual:?}");
        for (a, e) in actual.iter().zip(&expected) {
            let want = (
                e.0.to_owned(),
                e.1.to_owned(),
                e.2,
                e.3,
                e.4.map(str::to_owned),
            );
            assert_eq!(a, &want, "{table}.{}", e.0);
        }
        let pk: String = c
            .query_one(
                "SELECT string_agg(a.attname, ',') FROM pg_index i
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                 WHERE i.indrelid = $1::text::regclass AND i.indisprimary",
                &[&table],
            )
            .await
            .expect("pk")
            .get(0);
        assert_eq!(pk, "id", "{table} primary key");
    }
    let unique: bool = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'daily_stats'::regclass
               AND contype = 'u' AND pg_get_constraintdef(oid) = 'UNIQUE (stat_date)')",
            &[],
        )
        .await
        .expect("unique")
        .get(0);
    assert!(unique, "daily_stats.stat_date is UNIQUE");
}

#[tokio::test]
async fn foreign_keys_match_the_spec() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let rows = c
        .query(
            "SELECT conrelid::regclass::text, pg_get_constraintdef(oid)
             FROM pg_constraint WHERE contype = 'f'
               AND conrelid::regclass::text IN ('stream_sessions','transcode_history',
                   'alert_rules','alert_log')
             ORDER BY 1, 2",
            &[],
        )
        .await
        .expect("fks");
    let got: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let want: Vec<(String, String)> = [
        (
            "alert_log",
            "FOREIGN KEY (channel_id) REFERENCES notification_channels(id) ON DELETE SET NULL",
        ),
        (
            "alert_log",
            "FOREIGN KEY (rule_id) REFERENCES alert_rules(id) ON DELETE SET NULL",
        ),
        (
            "alert_rules",
            "FOREIGN KEY (channel_id) REFERENCES notification_channels(id)",
        ),
        (
            "stream_sessions",
            "FOREIGN KEY (media_item_id) REFERENCES media_items(id)",
        ),
        (
            "stream_sessions",
            "FOREIGN KEY (user_id) REFERENCES users(id)",
        ),
        (
            "transcode_history",
            "FOREIGN KEY (media_item_id) REFERENCES media_items(id)",
        ),
        (
            "transcode_history",
            "FOREIGN KEY (user_id) REFERENCES users(id)",
        ),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn all_fourteen_spec_indexes_exist_with_their_definitions() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let want: BTreeMap<&str, &str> = [
        (
            "idx_stream_sessions_user",
            "ON public.stream_sessions USING btree (user_id)",
        ),
        (
            "idx_stream_sessions_media",
            "ON public.stream_sessions USING btree (media_item_id)",
        ),
        (
            "idx_stream_sessions_started",
            "ON public.stream_sessions USING btree (started_at)",
        ),
        (
            "idx_stream_sessions_active",
            "ON public.stream_sessions USING btree (is_active) WHERE (is_active = true)",
        ),
        (
            "idx_transcode_history_media",
            "ON public.transcode_history USING btree (media_item_id)",
        ),
        (
            "idx_transcode_history_user",
            "ON public.transcode_history USING btree (user_id)",
        ),
        (
            "idx_transcode_history_started",
            "ON public.transcode_history USING btree (started_at)",
        ),
        (
            "idx_transcode_history_success",
            "ON public.transcode_history USING btree (success)",
        ),
        (
            "idx_system_metrics_recorded",
            "ON public.system_metrics USING btree (recorded_at)",
        ),
        (
            "idx_daily_stats_date",
            "ON public.daily_stats USING btree (stat_date)",
        ),
        (
            "idx_alert_rules_channel",
            "ON public.alert_rules USING btree (channel_id)",
        ),
        (
            "idx_alert_rules_enabled",
            "ON public.alert_rules USING btree (is_enabled) WHERE (is_enabled = true)",
        ),
        (
            "idx_alert_log_sent",
            "ON public.alert_log USING btree (sent_at)",
        ),
        (
            "idx_alert_log_rule",
            "ON public.alert_log USING btree (rule_id)",
        ),
    ]
    .into_iter()
    .collect();
    for (name, def) in &want {
        let row = c
            .query_opt(
                "SELECT indexdef FROM pg_indexes WHERE indexname = $1",
                &[name],
            )
            .await
            .expect("index lookup");
        let indexdef: String = row.unwrap_or_else(|| panic!("index {name} missing")).get(0);
        assert!(
            indexdef.ends_with(def) && indexdef.starts_with(&format!("CREATE INDEX {name} ")),
            "{name}: {indexdef}"
        );
    }
}

#[tokio::test]
async fn later_migration_adds_what_decisions_name() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let errors: Vec<String> = columns(&c, "stream_errors")
        .await
        .into_iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(
        errors,
        [
            "id",
            "session_id",
            "user_id",
            "media_item_id",
            "message",
            "occurred_at"
        ]
    );
    let host = columns(&c, "system_metrics")
        .await
        .into_iter()
        .find(|c| c.0 == "host")
        .expect("host column");
    assert!(!host.3, "host is NOT NULL");
    let reported = columns(&c, "stream_sessions")
        .await
        .into_iter()
        .find(|c| c.0 == "last_reported_at");
    assert!(reported.is_some());
}

#[tokio::test]
async fn rerunning_migrations_changes_nothing() {
    let db = TestDb::migrated().await;
    let mut c = db.client().await;
    let before = columns(&c, "stream_sessions").await;
    let applied = db::migrate::run(&mut c).await.expect("second run");
    assert!(applied.is_empty(), "nothing left to apply: {applied:?}");
    assert_eq!(columns(&c, "stream_sessions").await, before);
    let version: i32 = c
        .query_one("SELECT max(version) FROM refinery_schema_history", &[])
        .await
        .expect("history")
        .get(0);
    assert_eq!(i64::from(version), i64::from(db::migrate::latest_version()));
}

async fn core_snapshot(c: &tokio_postgres::Client) -> Vec<String> {
    let mut out = Vec::new();
    for t in ["users", "libraries", "media_items"] {
        out.push(format!("{:?}", columns(c, t).await));
    }
    let idx: Vec<String> = c
        .query(
            "SELECT indexdef FROM pg_indexes WHERE tablename IN ('users','libraries','media_items') ORDER BY 1",
            &[],
        )
        .await
        .expect("indexes")
        .iter()
        .map(|r| r.get(0))
        .collect();
    out.push(format!("{idx:?}"));
    let triggers: Vec<String> = c
        .query(
            "SELECT tgname::text FROM pg_trigger
             WHERE tgrelid IN ('users'::regclass, 'libraries'::regclass, 'media_items'::regclass)
               AND NOT tgisinternal ORDER BY 1",
            &[],
        )
        .await
        .expect("triggers")
        .iter()
        .map(|r| r.get(0))
        .collect();
    out.push(format!("{triggers:?}"));
    out
}

#[tokio::test]
async fn cinevault_core_tables_are_left_untouched() {
    let db = TestDb::empty().await;
    let mut c = db.client().await;
    // CineVault's own shape: more columns than we read, its own names, its own rows. (Of the
    // contract's columns, migration 030's recompute reads `genres`.)
    c.batch_execute(
        "CREATE TABLE users (id UUID PRIMARY KEY, username TEXT NOT NULL, email TEXT,
             password_hash TEXT, is_admin BOOLEAN NOT NULL DEFAULT false,
             created_at TIMESTAMPTZ NOT NULL DEFAULT now());
         CREATE TABLE libraries (id UUID PRIMARY KEY, name TEXT NOT NULL, library_type TEXT,
             path TEXT, created_at TIMESTAMPTZ NOT NULL DEFAULT now());
         CREATE TABLE media_items (id UUID PRIMARY KEY, library_id UUID REFERENCES libraries(id),
             title TEXT NOT NULL, media_type TEXT, tmdb_id INT, file_size_bytes BIGINT,
             genres TEXT[],
             created_at TIMESTAMPTZ NOT NULL DEFAULT now());
         INSERT INTO users (id, username, email) VALUES
             ('11111111-1111-1111-1111-111111111111', 'owner', 'owner@example.org');",
    )
    .await
    .expect("cinevault schema");
    let before = core_snapshot(&c).await;
    db::migrate::run(&mut c)
        .await
        .expect("migrations over CineVault tables");
    assert_eq!(core_snapshot(&c).await, before);
    let email: String = c
        .query_one("SELECT email FROM users WHERE username = 'owner'", &[])
        .await
        .expect("row kept")
        .get(0);
    assert_eq!(email, "owner@example.org");
    // And the analytics tables reference CineVault's tables.
    let fk: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = 'stream_sessions'::regclass",
            &[],
        )
        .await
        .expect("fks")
        .get(0);
    assert_eq!(fk, 2);
}

#[tokio::test]
async fn rollback_of_025_removes_its_tables_and_a_restart_reapplies_them() {
    let db = TestDb::migrated().await;
    let mut c = db.client().await;
    let down = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations/025_server_analytics.down.sql"
    ))
    .expect("down file");
    c.batch_execute(&down).await.expect("rollback runs");
    let left: i64 = c
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'
               AND table_name IN ('stream_sessions','transcode_history','system_metrics',
                 'daily_stats','notification_channels','alert_rules','alert_log','stream_errors')",
            &[],
        )
        .await
        .expect("tables")
        .get(0);
    assert_eq!(left, 0);
    let core: i64 = c
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'
               AND table_name IN ('users','libraries','media_items')",
            &[],
        )
        .await
        .expect("core")
        .get(0);
    assert_eq!(core, 3, "rollback keeps CineVault's tables");
    let applied = db::migrate::run(&mut c).await.expect("re-apply");
    let from_25: Vec<u32> = db::migrate::versions()
        .into_iter()
        .filter(|v| *v >= 25)
        .collect();
    assert_eq!(applied, from_25);
    assert!(applied.starts_with(&[25, 26]));
}
