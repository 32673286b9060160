//! Migration 025 is the spec's schema to the letter (with CineVault's ON DELETE rules); later
//! steps only add; CineVault's own tables are left untouched.

use std::collections::BTreeMap;

use cinevault_analytics::config::DatabaseMode;
use cinevault_analytics::db;
use cinevault_analytics::db::schema::Catalog;

use crate::common::{Template, TestDb};

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
    ("stream_sessions", "source"),
    ("alert_log", "sent_by"),
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

/// The spec's keys, with the ON DELETE rules of CineVault's own 025, which its deletes of
/// users, libraries and media items rely on.
const FOREIGN_KEYS: &[(&str, &str)] = &[
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
        "FOREIGN KEY (channel_id) REFERENCES notification_channels(id) ON DELETE CASCADE",
    ),
    (
        "stream_sessions",
        "FOREIGN KEY (media_item_id) REFERENCES media_items(id) ON DELETE CASCADE",
    ),
    (
        "stream_sessions",
        "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE",
    ),
    (
        "transcode_history",
        "FOREIGN KEY (media_item_id) REFERENCES media_items(id) ON DELETE CASCADE",
    ),
    (
        "transcode_history",
        "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE",
    ),
];

pub async fn analytics_foreign_keys(c: &tokio_postgres::Client) -> Vec<(String, String)> {
    c.query(
        "SELECT conrelid::regclass::text, pg_get_constraintdef(oid)
         FROM pg_constraint WHERE contype = 'f'
           AND conrelid::regclass::text IN ('stream_sessions','transcode_history',
               'alert_rules','alert_log')
         ORDER BY 1, 2",
        &[],
    )
    .await
    .expect("fks")
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

#[tokio::test]
async fn foreign_keys_match_the_spec_with_cinevaults_delete_rules() {
    let want: Vec<(String, String)> = FOREIGN_KEYS
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let db = TestDb::migrated().await;
    assert_eq!(analytics_foreign_keys(&db.client().await).await, want);
    let cv = TestDb::cinevault().await;
    assert_eq!(analytics_foreign_keys(&cv.client().await).await, want);
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

async fn history(c: &tokio_postgres::Client) -> Vec<i32> {
    c.query(
        "SELECT version FROM analytics_schema_history ORDER BY 1",
        &[],
    )
    .await
    .expect("history")
    .iter()
    .map(|r| r.get(0))
    .collect()
}

async fn prepare_again(c: &mut tokio_postgres::Client, mode: DatabaseMode) -> db::schema::Prepared {
    let options = db::schema::Options {
        mode,
        db_time_zone: chrono_tz::Tz::UTC,
    };
    match db::schema::prepare(c, options).await.expect("prepare") {
        db::schema::Outcome::Ready(p) => p,
        db::schema::Outcome::NotReady(why) => panic!("not ready: {why}"),
    }
}

#[tokio::test]
async fn rerunning_the_steps_changes_nothing() {
    for (db, mode) in [
        (TestDb::migrated().await, DatabaseMode::Standalone),
        (TestDb::cinevault().await, DatabaseMode::Cinevault),
        (TestDb::cinevault().await, DatabaseMode::Auto),
    ] {
        let mut c = db.client().await;
        let before = Catalog::read(&c).await.expect("catalog");
        let again = prepare_again(&mut c, mode).await;
        assert!(again.applied.is_empty(), "nothing left to apply: {again:?}");
        assert!(again.changes.is_empty(), "{:?}", again.changes);
        assert_eq!(again.decided_by, "recorded");
        assert_eq!(Catalog::read(&c).await.expect("catalog"), before);
        let kind = again.kind;
        assert_eq!(history(&c).await, db::schema::required_versions(kind));
    }
}

/// CineVault's core tables as the catalog shows them: columns, indexes, triggers, rules.
pub async fn core_snapshot(c: &tokio_postgres::Client) -> Vec<String> {
    const CORE: [&str; 6] = [
        "users",
        "libraries",
        "media_items",
        "tags",
        "media_tags",
        "watch_history",
    ];
    let mut out = Vec::new();
    for t in CORE {
        out.push(format!("{t}: {:?}", columns(c, t).await));
    }
    for (what, sql) in [
        (
            "indexes",
            "SELECT indexdef FROM pg_indexes WHERE tablename = ANY($1) ORDER BY 1",
        ),
        (
            "triggers",
            "SELECT tgrelid::regclass::text || '.' || tgname FROM pg_trigger
             WHERE tgrelid::regclass::text = ANY($1) AND NOT tgisinternal ORDER BY 1",
        ),
        (
            "constraints",
            "SELECT conrelid::regclass::text || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
             WHERE conrelid::regclass::text = ANY($1) ORDER BY 1",
        ),
        (
            "rules and policies",
            "SELECT tablename || '.' || rulename FROM pg_rules WHERE tablename = ANY($1)
             UNION ALL SELECT tablename || '.' || policyname FROM pg_policies WHERE tablename = ANY($1)
             ORDER BY 1",
        ),
    ] {
        let rows: Vec<String> = c
            .query(sql, &[&CORE.to_vec()])
            .await
            .expect(what)
            .iter()
            .map(|r| r.get(0))
            .collect();
        out.push(format!("{what}: {rows:?}"));
    }
    out
}

#[tokio::test]
async fn cinevault_core_tables_are_left_untouched() {
    for template in [Template::CineVault, Template::CineVault025] {
        let db = TestDb::empty().await;
        let mut c = db.client().await;
        c.batch_execute(template.cinevault_sql().expect("CineVault's schema"))
            .await
            .expect("CineVault's schema");
        c.batch_execute(
            "INSERT INTO users (id, username, email, password_hash, role)
             VALUES ('11111111-1111-1111-1111-111111111111', 'owner', 'owner@example.org', 'x', 'admin')",
        )
        .await
        .expect("a user");
        let before = core_snapshot(&c).await;
        let prepared = prepare_again(&mut c, DatabaseMode::Auto).await;
        assert_eq!(prepared.kind, db::schema::Kind::Cinevault, "{template:?}");
        assert_eq!(prepared.decided_by, "found CineVault's users table");
        assert_eq!(core_snapshot(&c).await, before, "{template:?}");
        let email: String = c
            .query_one("SELECT email FROM users WHERE username = 'owner'", &[])
            .await
            .expect("row kept")
            .get(0);
        assert_eq!(email, "owner@example.org");
        // The seven tables were CineVault's: adopted, not created.
        let adopted: Vec<&str> = prepared
            .changes
            .iter()
            .filter(|(k, _)| k == "adopted")
            .map(|(_, o)| o.as_str())
            .collect();
        assert_eq!(adopted.len(), 7, "{:?}", prepared.changes);
        assert!(!prepared
            .changes
            .iter()
            .any(|(k, o)| k == "created" && o.contains("table stream_sessions")));
    }
}

#[tokio::test]
async fn rollback_of_025_removes_its_tables_and_a_restart_reapplies_them() {
    let db = TestDb::migrated().await;
    let mut c = db.client().await;
    let down = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations/rollback/025_server_analytics.down.sql"
    ))
    .expect("down file");
    c.batch_execute(&down).await.expect("rollback runs");
    let left: i64 = c
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'
               AND table_name IN ('stream_sessions','transcode_history','system_metrics',
                 'daily_stats','notification_channels','alert_rules','alert_log','stream_errors',
                 'plays', 'cinevault_plays', 'sidecar_daily_stats')",
            &[],
        )
        .await
        .expect("tables")
        .get(0);
    assert_eq!(left, 0);
    let core: i64 = c
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'
               AND table_name IN ('users','libraries','media_items', 'tags', 'media_tags')",
            &[],
        )
        .await
        .expect("core")
        .get(0);
    assert_eq!(core, 5, "rollback keeps the core tables");
    let again = prepare_again(&mut c, DatabaseMode::Auto).await;
    let from_25: Vec<i32> = db::schema::required_versions(db::schema::Kind::Standalone)
        .into_iter()
        .filter(|v| *v >= 25)
        .collect();
    assert_eq!(again.applied, from_25);
}

#[tokio::test]
async fn the_025_rollback_refuses_cinevaults_database_and_the_additions_rollback_keeps_its_tables()
{
    let db = TestDb::cinevault().await;
    let mut c = db.client().await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/rollback");
    let down_025 =
        std::fs::read_to_string(format!("{dir}/025_server_analytics.down.sql")).expect("down file");
    let err = c.batch_execute(&down_025).await.expect_err("refused");
    assert!(
        format!("{err:?}").contains("not a standalone database"),
        "{err:?}"
    );
    // psql -v ON_ERROR_STOP=1 ends there; this session is in the failed transaction.
    c.batch_execute("ROLLBACK").await.expect("rollback");
    let before = core_snapshot(&c).await;
    let down =
        std::fs::read_to_string(format!("{dir}/sidecar_additions.down.sql")).expect("down file");
    c.batch_execute(&down)
        .await
        .expect("additions rollback runs");
    assert_eq!(core_snapshot(&c).await, before);
    // CineVault's seven tables are there, exactly as CineVault's own 025 makes them.
    let fresh = TestDb::empty().await;
    let f = fresh.client().await;
    f.batch_execute(Template::CineVault.cinevault_sql().expect("sql"))
        .await
        .expect("CineVault's schema");
    for (table, _) in spec_tables() {
        assert_eq!(
            columns(&c, table).await,
            columns(&f, table).await,
            "{table}"
        );
    }
    let again = prepare_again(&mut c, DatabaseMode::Cinevault).await;
    assert_eq!(
        again.applied,
        db::schema::required_versions(db::schema::Kind::Cinevault)
    );
}
