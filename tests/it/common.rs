//! Test support: a database per test cloned from a migrated template, the real server on
//! port 0, and a TCP proxy that can take "the database" away and bring it back.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cinevault_analytics::config::{Cli, Command, Config, DatabaseMode};
use cinevault_analytics::db;
use clap::Parser;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub const ADMIN_TOKEN: &str = "test-admin-token-0001";
pub const INGEST_TOKEN: &str = "test-ingest-token-0001";
pub const JWT_SECRET: &str = "test-jwt-secret-0001";

/// The server's maintenance database, given by scripts/test.
pub fn admin_url() -> String {
    std::env::var("CINEVAULT_TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .expect("set CINEVAULT_TEST_DATABASE_URL (scripts/test does) to a PostgreSQL server URL")
}

pub fn url_for(db: &str) -> String {
    let base = admin_url();
    let (prefix, rest) = base.rsplit_once('/').expect("URL with a database name");
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{prefix}/{db}{query}")
}

/// A connection whose session zone is UTC, the zone the sidecar reads the database's
/// `timestamp without time zone` values in by default, so a test can write an instant into
/// such a column whatever the server's default zone.
pub async fn connect(url: &str) -> tokio_postgres::Client {
    let c = db::connect_one(url, Duration::from_secs(10))
        .await
        .expect("connect to test PostgreSQL");
    c.batch_execute("SET TIME ZONE 'UTC'")
        .await
        .expect("session zone");
    c
}

/// Which kind of template a test database is cloned from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Template {
    /// A database of the sidecar's own, set up in standalone mode.
    Standalone,
    /// CineVault's real schema after its 48 migrations (src/demo/cinevault_schema.sql),
    /// with the sidecar's schema prepared in cinevault mode.
    CineVault,
    /// CineVault's schema as of its migration 025, then the sidecar's.
    CineVault025,
}

impl Template {
    fn tag(self) -> &'static str {
        match self {
            Template::Standalone => "sa",
            Template::CineVault => "cv",
            Template::CineVault025 => "cv025",
        }
    }

    /// CineVault's own schema, created before the sidecar runs.
    pub fn cinevault_sql(self) -> Option<&'static str> {
        match self {
            Template::Standalone => None,
            Template::CineVault => Some(include_str!("../../src/demo/cinevault_schema.sql")),
            Template::CineVault025 => Some(include_str!("../../src/demo/cinevault_schema_025.sql")),
        }
    }

    pub fn mode(self) -> DatabaseMode {
        match self {
            Template::Standalone => DatabaseMode::Standalone,
            _ => DatabaseMode::Cinevault,
        }
    }
}

/// The schema steps' and fixtures' content decides the template's name, so a changed step
/// gets a fresh template and stale ones are never used.
fn template_name(kind: Template) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash = (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for step in db::schema::STEPS {
        feed(step.sql.as_bytes());
    }
    feed(kind.cinevault_sql().unwrap_or("").as_bytes());
    feed(include_str!("../../src/db/schema/mod.rs").as_bytes());
    format!("cvtest_template_{}_{hash:016x}", kind.tag())
}

/// Prepares the sidecar's schema on `client` as a test template needs it.
pub async fn prepare(client: &mut tokio_postgres::Client, mode: DatabaseMode) {
    let options = db::schema::Options {
        mode,
        db_time_zone: chrono_tz::Tz::UTC,
    };
    match db::schema::prepare(client, options)
        .await
        .expect("prepare schema")
    {
        db::schema::Outcome::Ready(_) => {}
        db::schema::Outcome::NotReady(why) => panic!("schema not ready: {why}"),
    }
}

async fn ensure_template(admin: &tokio_postgres::Client, kind: Template) -> String {
    let name = template_name(kind);
    // Test binaries run in parallel processes: one builds the template, the others wait.
    admin
        .execute("SELECT pg_advisory_lock(727274)", &[])
        .await
        .expect("template lock");
    let exists: bool = admin
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)",
            &[&name],
        )
        .await
        .expect("template lookup")
        .get(0);
    if !exists {
        let building = format!("{name}_build");
        for sql in [
            format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"),
            format!("CREATE DATABASE \"{building}\" TEMPLATE template0"),
        ] {
            admin.batch_execute(&sql).await.expect("create template");
        }
        {
            let mut c = connect(&url_for(&building)).await;
            if let Some(sql) = kind.cinevault_sql() {
                c.batch_execute(sql).await.expect("CineVault's schema");
            }
            prepare(&mut c, kind.mode()).await;
        }
        // The connection above must be gone before the rename.
        for _ in 0..50 {
            let res = admin
                .batch_execute(&format!(
                    "ALTER DATABASE \"{building}\" RENAME TO \"{name}\""
                ))
                .await;
            if res.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    admin
        .execute("SELECT pg_advisory_unlock(727274)", &[])
        .await
        .expect("template unlock");
    name
}

/// A database of the test's own, dropped when the value is.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// A migrated standalone database, cloned from the template.
    pub async fn migrated() -> Self {
        Self::from_template(Template::Standalone).await
    }

    /// CineVault's database (its real schema at its latest migration) with the sidecar's
    /// schema in place.
    pub async fn cinevault() -> Self {
        Self::from_template(Template::CineVault).await
    }

    pub async fn from_template(kind: Template) -> Self {
        let admin = connect(&admin_url()).await;
        let template = ensure_template(&admin, kind).await;
        Self::create(&admin, &format!("TEMPLATE \"{template}\"")).await
    }

    /// An empty database with no tables at all.
    pub async fn empty() -> Self {
        let admin = connect(&admin_url()).await;
        Self::create(&admin, "TEMPLATE template0").await
    }

    async fn create(admin: &tokio_postgres::Client, how: &str) -> Self {
        let name = format!("cvtest_{}", uuid::Uuid::new_v4().simple());
        let mut last = None;
        // Two clones of one template at the same instant can collide; retry briefly.
        for _ in 0..20 {
            match admin
                .batch_execute(&format!("CREATE DATABASE \"{name}\" {how}"))
                .await
            {
                Ok(()) => {
                    return Self {
                        url: url_for(&name),
                        name,
                    }
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        panic!("cannot create test database: {last:?}");
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.url).await
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime; a thread with its own runtime does the I/O.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(c) = db::connect_one(&admin_url(), Duration::from_secs(5)).await {
                    let _ = c
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// Every in-process server of this test binary logs at debug level into one file,
/// `target/tmp/test-logs/it-<pid>.log`, which scripts/test greps for credentials and webhook
/// URLs once the run is over. Debug, because that is where secrets would leak first.
pub fn capture_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-logs");
        std::fs::create_dir_all(&dir).expect("test log dir");
        let file = std::fs::File::create(dir.join(format!("it-{}.log", std::process::id())))
            .expect("test log file");
        let filter = tracing_subscriber::EnvFilter::new(
            // The test clients' own connection pool says nothing about the sidecar.
            cinevault_analytics::logging::effective_filter("debug,hyper_util=info"),
        );
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .try_init();
    });
}

/// The configuration tests run with: every credential set, a small pool, quick timeouts.
pub fn test_config(database_url: &str, extra: &[&str]) -> Config {
    capture_logs();
    let mut args = vec![
        "cinevault-analytics",
        "serve",
        "--database-url",
        database_url,
        "--admin-token",
        ADMIN_TOKEN,
        "--ingest-token",
        INGEST_TOKEN,
        "--jwt-secret",
        JWT_SECRET,
        "--listen",
        "127.0.0.1:0",
        "--db-pool-size",
        "4",
        "--db-timeout",
        "2s",
        "--timezone",
        "Europe/Berlin",
        "--host-name",
        "test-host",
    ];
    if !extra.contains(&"--database-mode") {
        args.extend_from_slice(&["--database-mode", "standalone"]);
    }
    args.extend_from_slice(extra);
    match Cli::try_parse_from(args)
        .expect("test config parses")
        .command
    {
        Command::Serve(c) => c,
        other => panic!("unexpected command {other:?}"),
    }
}

/// The real server, started on port 0 in this process.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub shutdown: CancellationToken,
    pub handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl TestApp {
    pub async fn spawn(config: Config) -> Self {
        let app = Self::start(config).await;
        app.wait_ready().await;
        app
    }

    /// The real server, started without waiting for it to be ready.
    pub async fn start(config: Config) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(cinevault_analytics::run(config, listener, shutdown.clone()));
        Self {
            base: format!("http://{addr}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            shutdown,
            handle,
        }
    }

    /// Polls /readyz until 200 (no fixed sleeps).
    pub async fn wait_ready(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = self.http.get(self.url("/readyz")).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "server never became ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn admin_get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path)).bearer_auth(ADMIN_TOKEN)
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(15), self.handle)
            .await
            .expect("server stops in time")
            .expect("server task")
            .expect("server result");
    }
}

/// Asserts the JSON error shape and returns (code, field).
pub async fn error_of(resp: reqwest::Response) -> (u16, String, Option<String>) {
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(
        ct.starts_with("application/json"),
        "status {status}: content-type {ct}"
    );
    let v: serde_json::Value = resp.json().await.expect("JSON error body");
    let code = v["error"]["code"].as_str().expect("error.code").to_owned();
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "error.message in {v}"
    );
    let field = v["error"]["field"].as_str().map(str::to_owned);
    (status, code, field)
}

/// A TCP proxy in front of PostgreSQL. `set_down(true)` cuts every open connection and
/// refuses new ones, as a stopped database would; `set_down(false)` brings it back.
pub struct DbProxy {
    pub addr: SocketAddr,
    down: Arc<AtomicBool>,
    cut: Arc<Notify>,
}

impl DbProxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy bind");
        let addr = listener.local_addr().expect("proxy addr");
        let down = Arc::new(AtomicBool::new(false));
        let cut = Arc::new(Notify::new());
        let (d, c) = (down.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if d.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let c = c.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = c.notified() => {}
                    }
                });
            }
        });
        Self { addr, down, cut }
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        if down {
            self.cut.notify_waiters();
        }
    }

    /// The test database's URL, routed through this proxy.
    pub fn url_through(&self, db_url: &str) -> String {
        let cfg: tokio_postgres::Config = db_url.parse().expect("db url");
        let user = cfg.get_user().unwrap_or("postgres");
        let dbname = cfg.get_dbname().unwrap_or("postgres");
        let password = cfg
            .get_password()
            .map(|p| format!(":{}", String::from_utf8_lossy(p)))
            .unwrap_or_default();
        format!("postgres://{user}{password}@{}/{dbname}", self.addr)
    }
}

/// Where the test PostgreSQL listens (TCP), for the proxy.
pub fn db_socket_addr(db_url: &str) -> SocketAddr {
    let cfg: tokio_postgres::Config = db_url.parse().expect("db url");
    let host = match cfg.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    let host = if host == "localhost" {
        "127.0.0.1".to_owned()
    } else {
        host
    };
    format!("{host}:{port}").parse().expect("socket addr")
}
