//! Issue 9: the whole sidecar under bad input, faults, slow clients and several replicas.
//! Each file is one kind of trouble; the helpers here start the real binary (for signals)
//! and fingerprint the tables a request can write.

mod collector;
mod corpus;
mod crash;
mod locks;
mod outage;
mod receivers;
mod replicas;
mod slow_clients;

use std::future::Future;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{ADMIN_TOKEN, INGEST_TOKEN, JWT_SECRET};

/// Every table an API request can change. `system_metrics` and `daily_stats` are left out:
/// the collector and the rollup write them on their own schedule.
pub const REQUEST_TABLES: [&str; 13] = [
    "users",
    "libraries",
    "media_items",
    "stream_sessions",
    "transcode_history",
    "stream_errors",
    "notification_channels",
    "alert_rules",
    "alert_log",
    "user_activity_totals",
    "user_genre_plays",
    "user_activity_deltas",
    "user_genre_deltas",
];

/// A digest of every row of the request tables: equal digests, equal contents.
pub async fn fingerprint(c: &tokio_postgres::Client) -> Vec<(String, i64, String)> {
    let mut out = Vec::new();
    for t in REQUEST_TABLES {
        let row = c
            .query_one(
                &format!(
                    "SELECT count(*), coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '')
                     FROM {t} x"
                ),
                &[],
            )
            .await
            .expect("fingerprint");
        out.push((t.to_owned(), row.get(0), row.get(1)));
    }
    out
}

/// Polls `check` every 100 ms until it holds, failing after `within`.
pub async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The real binary, serving on a port of its own, its log in a file under target/ that
/// [`Binary::logs`] reads (and the secret check greps).
pub struct Binary {
    pub child: Child,
    pub base: String,
    pub log: PathBuf,
}

impl Binary {
    pub fn start(database_url: &str, extra: &[&str]) -> Self {
        let port = free_port();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("reliability-logs");
        std::fs::create_dir_all(&dir).expect("log dir");
        let log = dir.join(format!("{}.log", uuid::Uuid::new_v4().simple()));
        let file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_cinevault-analytics"))
            .arg("serve")
            .args(extra)
            .env("DATABASE_URL", database_url)
            .env("CINEVAULT_LISTEN", format!("127.0.0.1:{port}"))
            .env("CINEVAULT_ADMIN_TOKENS", ADMIN_TOKEN)
            .env("CINEVAULT_INGEST_TOKEN", INGEST_TOKEN)
            .env("CINEVAULT_JWT_SECRET", JWT_SECRET)
            .env("CINEVAULT_LOG", "debug")
            .env("CINEVAULT_TIMEZONE", "UTC")
            .env("CINEVAULT_GPU", "off")
            .stdout(Stdio::from(file.try_clone().expect("log file")))
            .stderr(Stdio::from(file))
            .spawn()
            .expect("start the binary");
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn wait_ready(&self, http: &reqwest::Client) {
        let ready = || async {
            matches!(http.get(self.url("/readyz")).send().await, Ok(r) if r.status() == 200)
        };
        eventually("the binary to be ready", Duration::from_secs(30), ready).await;
    }

    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill -{signal}");
    }

    /// Waits for the process to exit, failing after `within`.
    pub async fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "did not exit within {within:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The log holds none of the credentials, nor any of `also` (webhook URLs, say).
    pub fn assert_no_secrets(&self, also: &[&str]) {
        let logs = self.logs();
        assert!(!logs.is_empty(), "no log captured");
        for secret in [ADMIN_TOKEN, INGEST_TOKEN, JWT_SECRET].iter().chain(also) {
            assert!(
                !logs.contains(secret),
                "{secret} appears in the log {}",
                self.log.display()
            );
        }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
