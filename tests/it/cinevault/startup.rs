//! The sidecar on CineVault's database: it starts on CineVault's schema as of its migration
//! 025 and at its latest, adopts the analytics tables, never creates CineVault's tables
//! (it waits for them, saying why), never makes one of CineVault's statements fail, and
//! meets CineVault's entrypoint re-running its migrations on every start.

use std::time::Duration;

use cinevault_analytics::config::DatabaseMode;
use cinevault_analytics::db::schema::{self, Catalog};
use serde_json::Value;

use super::statements;
use crate::common::{prepare, test_config, Template, TestApp, TestDb};
use crate::schema::core_snapshot;

/// A database holding CineVault's schema and nothing of the sidecar's yet.
async fn cinevault_only(template: Template) -> TestDb {
    let db = TestDb::empty().await;
    db.client()
        .await
        .batch_execute(template.cinevault_sql().expect("CineVault's schema"))
        .await
        .expect("CineVault's schema");
    db
}

async fn readyz(app: &TestApp) -> (u16, Value) {
    let r = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json"))
}

/// Polls /readyz until its message contains `part` (a deadline, no fixed sleep).
async fn not_ready_saying(app: &TestApp, part: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = readyz(app).await;
        let message = body["error"]["message"].as_str().unwrap_or("").to_owned();
        if status == 503 && message.contains(part) {
            return message;
        }
        assert_ne!(status, 200, "ready, but it should wait: {body}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz never said '{part}': {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn table_count(c: &tokio_postgres::Client) -> i64 {
    c.query_one(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
        &[],
    )
    .await
    .expect("tables")
    .get(0)
}

const ENDPOINTS: &[&str] = &[
    "/api/v1/analytics/overview",
    "/api/v1/analytics/streams",
    "/api/v1/analytics/streams/breakdown",
    "/api/v1/analytics/watch-activity",
    "/api/v1/analytics/users/activity",
    "/api/v1/analytics/transcodes",
    "/api/v1/analytics/system",
    "/api/v1/analytics/system/history",
    "/api/v1/analytics/storage",
    "/api/v1/analytics/library-health",
    "/api/v1/analytics/trends",
    "/api/v1/notifications/channels",
    "/api/v1/notifications/alerts",
    "/api/v1/notifications/log",
];

#[tokio::test]
async fn it_starts_on_cinevaults_schema_as_of_025_and_at_its_latest_and_breaks_none_of_its_statements(
) {
    for template in [Template::CineVault025, Template::CineVault] {
        let db = cinevault_only(template).await;
        let c = db.client().await;
        // CineVault's own statements on its own schema, before the sidecar ever ran.
        let before = statements::replay(&c)
            .await
            .unwrap_or_else(|e| panic!("{template:?} before the sidecar: {e}"));
        let core_before = core_snapshot(&c).await;

        let app = TestApp::spawn(test_config(&db.url, &["--database-mode", "auto"])).await;
        let status: Value = app
            .admin_get("/api/v1/status")
            .send()
            .await
            .expect("status")
            .json()
            .await
            .expect("json");
        assert_eq!(status["database"]["mode"], "cinevault", "{status}");
        assert_eq!(
            status["database"]["decided_by"],
            "found CineVault's users table"
        );
        let changes = status["schema"]["changes"].as_array().expect("changes");
        let has = |change: &str, object: &str| {
            changes
                .iter()
                .any(|c| c["change"] == change && c["object"] == object)
        };
        for table in [
            "stream_sessions",
            "transcode_history",
            "system_metrics",
            "daily_stats",
            "notification_channels",
            "alert_rules",
            "alert_log",
        ] {
            assert!(
                has("adopted", &format!("table {table}")),
                "{template:?}: {status}"
            );
            assert!(!has("created", &format!("table {table}")));
        }
        assert!(has("added", "column stream_sessions.source"), "{status}");
        assert!(has("added", "column stream_sessions.last_reported_at"));
        assert!(has("added", "column system_metrics.host"));
        assert!(has("created", "table cinevault_plays"));
        assert!(has("created", "view plays"));
        for core in ["users", "libraries", "media_items", "tags", "media_tags"] {
            assert!(!has("created", &format!("table {core}")), "{status}");
        }
        assert!(
            !changes.iter().any(|c| c["object"]
                .as_str()
                .unwrap_or("")
                .starts_with("column users.")
                || c["object"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("column media_items.")),
            "nothing added to CineVault's core tables: {status}"
        );
        assert_eq!(core_snapshot(&c).await, core_before, "{template:?}");

        for path in ENDPOINTS {
            let r = app.admin_get(path).send().await.expect("request");
            assert_eq!(
                r.status(),
                200,
                "{template:?} {path}: {}",
                r.text().await.unwrap_or_default()
            );
        }
        // And CineVault's statements, cascades included, with the sidecar's schema in place
        // and the sidecar running.
        let after = statements::replay(&c)
            .await
            .unwrap_or_else(|e| panic!("{template:?} after the sidecar: {e}"));
        assert_eq!(after.latest, template == Template::CineVault);
        assert!(after.cinevault_statements >= before.cinevault_statements - 10);
        assert!(after.cascaded.stream_sessions > 0, "{after:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn an_empty_database_is_waited_on_and_never_given_cinevaults_tables() {
    for mode in ["auto", "cinevault"] {
        let db = TestDb::empty().await;
        let c = db.client().await;
        let app = TestApp::start(test_config(&db.url, &["--database-mode", mode])).await;
        let message = not_ready_saying(&app, "CineVault").await;
        match mode {
            "auto" => assert!(
                message.contains("set --database-mode standalone"),
                "{message}"
            ),
            _ => assert!(
                message.contains("waiting for CineVault's schema: table users is missing"),
                "{message}"
            ),
        }
        // Nothing of CineVault's, and nothing of the sidecar's, while it waits.
        assert_eq!(table_count(&c).await, 0, "{mode}");
        // CineVault's first migrations run (users and libraries, not yet media_items):
        // still waiting, and the message names what is missing.
        c.batch_execute(
            "CREATE TYPE user_role AS ENUM ('admin', 'user', 'guest');
             CREATE TYPE media_type AS ENUM ('movies', 'tv_shows');
             CREATE TABLE users (id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
                 username VARCHAR(255) UNIQUE NOT NULL, email VARCHAR(255) UNIQUE NOT NULL,
                 password_hash VARCHAR(255) NOT NULL, role user_role NOT NULL DEFAULT 'user',
                 is_active BOOLEAN DEFAULT true, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);",
        )
        .await
        .expect("CineVault's first tables");
        not_ready_saying(&app, "table libraries is missing").await;
        assert_eq!(table_count(&c).await, 1, "{mode}: only CineVault's users");
        c.batch_execute("DROP TABLE users; DROP TYPE user_role; DROP TYPE media_type;")
            .await
            .expect("drop");
        // CineVault creates its schema: the sidecar becomes ready by itself.
        c.batch_execute(Template::CineVault.cinevault_sql().expect("sql"))
            .await
            .expect("CineVault's schema");
        app.wait_ready().await;
        let status: Value = app
            .admin_get("/api/v1/status")
            .send()
            .await
            .expect("status")
            .json()
            .await
            .expect("json");
        assert_eq!(status["database"]["mode"], "cinevault");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_mode_that_contradicts_the_database_is_refused_and_says_why() {
    // Standalone configured on CineVault's database: refused, and nothing created.
    let db = cinevault_only(Template::CineVault).await;
    let app = TestApp::start(test_config(&db.url, &["--database-mode", "standalone"])).await;
    not_ready_saying(&app, "holds CineVault's own users table").await;
    let c = db.client().await;
    let sidecar_tables: i64 = c
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'
               AND (table_name LIKE 'analytics_%' OR table_name IN ('cinevault_plays', 'plays'))",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(sidecar_tables, 0);
    let refused = app
        .admin_get("/api/v1/analytics/overview")
        .send()
        .await
        .expect("overview");
    assert_eq!(refused.status(), 503);
    app.stop().await;

    // CineVault configured on a database the sidecar set up as its own.
    let own = TestDb::migrated().await;
    let app = TestApp::start(test_config(&own.url, &["--database-mode", "cinevault"])).await;
    not_ready_saying(&app, "set this database up as standalone").await;
    app.stop().await;
}

/// CineVault's entrypoint runs every up-migration again on every start, through psql without
/// ON_ERROR_STOP: each statement on its own, errors shown and ignored. Its 001–003 use plain
/// CREATE (they fail on a second run), its 025 uses IF NOT EXISTS, its 037 ADD COLUMN IF NOT
/// EXISTS. The fixture's statements, made into what CineVault's own files say.
fn cinevault_migrations_again(template: Template) -> Vec<String> {
    const ANALYTICS: [&str; 7] = [
        "stream_sessions",
        "transcode_history",
        "system_metrics",
        "daily_stats",
        "notification_channels",
        "alert_rules",
        "alert_log",
    ];
    let sql: String = template
        .cinevault_sql()
        .expect("sql")
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    sql.split(";\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            for t in ANALYTICS {
                if s.starts_with(&format!("CREATE TABLE {t} ")) {
                    return s.replacen("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1);
                }
                if s.starts_with("CREATE INDEX") && s.contains(&format!(" ON {t}")) {
                    return s.replacen("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1);
                }
            }
            s.to_owned()
        })
        .collect()
}

/// Runs each statement on its own as psql does, and returns the SQLSTATE of each failure.
async fn run_as_psql(c: &tokio_postgres::Client, statements: &[String]) -> Vec<(usize, String)> {
    let mut failures = Vec::new();
    for (i, s) in statements.iter().enumerate() {
        if let Err(e) = c.batch_execute(s).await {
            let code = e.code().map(|c| c.code().to_owned()).unwrap_or_default();
            failures.push((i, code));
        }
    }
    failures
}

#[tokio::test]
async fn cinevaults_entrypoint_rerunning_its_migrations_meets_the_sidecars_schema_unharmed() {
    for template in [Template::CineVault025, Template::CineVault] {
        let again = cinevault_migrations_again(template);
        // What the re-run does without the sidecar: the plain CREATEs fail, nothing else.
        let plain = cinevault_only(template).await;
        let baseline = run_as_psql(&plain.client().await, &again).await;
        assert!(!baseline.is_empty());
        assert!(
            baseline
                .iter()
                .all(|(_, code)| code == "42P07" || code == "42710"),
            "only 'already exists': {baseline:?}"
        );

        let db = TestDb::from_template(template).await;
        let mut c = db.client().await;
        let catalog = Catalog::read(&c).await.expect("catalog");
        assert_eq!(run_as_psql(&c, &again).await, baseline, "{template:?}");
        assert_eq!(Catalog::read(&c).await.expect("catalog"), catalog);
        let options = schema::Options {
            mode: DatabaseMode::Auto,
            db_time_zone: chrono_tz::Tz::UTC,
        };
        match schema::prepare(&mut c, options).await.expect("prepare") {
            schema::Outcome::Ready(p) => assert!(p.applied.is_empty(), "{p:?}"),
            schema::Outcome::NotReady(why) => panic!("{why}"),
        }
        statements::replay(&c)
            .await
            .expect("CineVault's statements");
    }

    // The sidecar starting while CineVault's entrypoint runs its migrations again.
    let db = cinevault_only(Template::CineVault).await;
    let again = cinevault_migrations_again(Template::CineVault);
    let url = db.url.clone();
    let rerun = tokio::spawn(async move {
        let c = crate::common::connect(&url).await;
        for _ in 0..5 {
            run_as_psql(&c, &again).await;
        }
    });
    let app = TestApp::spawn(test_config(&db.url, &["--database-mode", "cinevault"])).await;
    rerun.await.expect("re-run");
    let mut c = db.client().await;
    schema::check_applied(&c, schema::Kind::Cinevault)
        .await
        .expect("every step applied");
    prepare(&mut c, DatabaseMode::Cinevault).await;
    app.stop().await;
}
