//! PostgreSQL goes away for 30 s while the media server is reporting, the collector is
//! collecting and the evaluator is evaluating. Twice: a PostgreSQL server of the test's own
//! stopped with `pg_ctl stop` and started again, and the shared server cut off by a TCP proxy
//! (connections reset and refused, as across a network partition). Requests answer 503
//! promptly, /readyz says not ready, nothing hangs; when the database is back the sidecar
//! recovers by itself: reports are acknowledged, the collector writes, alerts go out; and
//! after the clients' retries every event is in the database exactly once.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{eventually, free_port};
use crate::alerts::receiver::Receiver;
use crate::alerts::{channel, evaluations, rule};
use crate::common::{db_socket_addr, test_config, DbProxy, TestApp, TestDb, INGEST_TOKEN};
use crate::ingest::{catalogue, metric};

const OUTAGE: Duration = Duration::from_secs(30);

/// What takes the database away and brings it back.
enum Outage {
    Proxy(DbProxy),
    Stopped(Cluster),
}

impl Outage {
    async fn set_down(&self, down: bool) {
        match self {
            Self::Proxy(p) => p.set_down(down),
            Self::Stopped(c) => {
                // Off the runtime's thread: the sidecar under test shares it.
                let mut cmd = c.pg_ctl_command(if down { "stop" } else { "start" });
                let out = tokio::task::spawn_blocking(move || cmd.output())
                    .await
                    .expect("pg_ctl task")
                    .expect("pg_ctl");
                assert!(
                    out.status.success(),
                    "pg_ctl: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
}

/// A throwaway PostgreSQL cluster of the test's own, stopped on drop.
struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

fn as_postgres(program: &std::path::Path) -> Command {
    // PostgreSQL refuses to run as root.
    if nix_is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"])
            .arg(program)
            .current_dir("/");
        c
    } else {
        Command::new(program)
    }
}

fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Cluster {
    /// None (the test says why and passes) when no PostgreSQL server binaries are installed.
    fn start() -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("pg_ctl").exists())
            .max()?;
        // Under the system's temporary directory, not target/: the postgres user must reach
        // it, and a checkout under /root (mode 700) is out of its reach.
        let dir =
            std::env::temp_dir().join(format!("cinevault-pg-outage-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("socket")).expect("cluster dir");
        if nix_is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(&dir)
                .status()
                .expect("chown")
                .success();
            assert!(ok, "chown the cluster dir");
        }
        let ok = as_postgres(&bin.join("initdb"))
            .arg("-D")
            .arg(dir.join("data"))
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
            ])
            .output()
            .expect("initdb")
            .status
            .success();
        assert!(ok, "initdb");
        let cluster = Self {
            bin,
            dir,
            port: free_port(),
        };
        cluster.pg_ctl("start");
        Some(cluster)
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl_command(&self, action: &str) -> Command {
        let mut c = as_postgres(&self.bin.join("pg_ctl"));
        c.arg("-D")
            .arg(self.dir.join("data"))
            .args(["-w", "-t", "60"]);
        if action == "start" {
            c.arg("-l")
                .arg(self.dir.join("postgres.log"))
                .arg("-o")
                .arg(format!(
                    "-p {} -k {} -c listen_addresses=127.0.0.1",
                    self.port,
                    self.dir.join("socket").display()
                ));
        } else {
            c.args(["-m", "fast"]);
        }
        c.arg(action);
        c
    }

    fn pg_ctl(&self, action: &str) {
        let out = self.pg_ctl_command(action).output().expect("pg_ctl");
        assert!(
            out.status.success(),
            "pg_ctl {action}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(Default)]
struct Tally {
    acknowledged: BTreeSet<Uuid>,
    /// Refused with a 503: to be sent again once the database is back.
    pending: Vec<Uuid>,
    slowest_refusal: Duration,
    other: Vec<String>,
}

/// A media server reporting session starts until `stop`, each with a fresh id.
async fn reporter(
    base: String,
    who: (Uuid, Uuid),
    tally: Arc<Mutex<Tally>>,
    stop: CancellationToken,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    while !stop.is_cancelled() {
        let id = Uuid::new_v4();
        let started = Instant::now();
        let r = http
            .post(format!("{base}/api/v1/ingest/sessions"))
            .bearer_auth(INGEST_TOKEN)
            .json(&json!({"id": id, "user_id": who.0, "media_item_id": who.1}))
            .send()
            .await;
        let took = started.elapsed();
        {
            let mut t = tally.lock().expect("tally");
            match r.map(|r| r.status().as_u16()) {
                Ok(200) => {
                    t.acknowledged.insert(id);
                }
                Ok(503) => {
                    t.pending.push(id);
                    t.slowest_refusal = t.slowest_refusal.max(took);
                }
                Ok(other) => t.other.push(format!("{other} after {took:?}")),
                Err(e) => t.other.push(format!("no answer after {took:?}: {e}")),
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One query on a connection of its own (the database may have restarted since the last).
async fn count(url: &str, sql: &str) -> i64 {
    crate::common::connect(url)
        .await
        .query_one(sql, &[])
        .await
        .expect("count")
        .get(0)
}

/// The scenario, whatever takes the database away. `app_db` is what the sidecar connects
/// to, `db` the same database reached directly.
async fn survive(outage: Outage, app_db: &str, db: &str) {
    let label = match outage {
        Outage::Proxy(_) => "network cut",
        Outage::Stopped(_) => "pg_ctl stop",
    };
    let rx = Receiver::start().await;
    let app = TestApp::spawn(test_config(
        app_db,
        &[
            "--collect-interval",
            "1s",
            "--alert-interval",
            "1s",
            "--webhook-allow-loopback",
            "--gpu",
            "off",
        ],
    ))
    .await;
    let who = catalogue(&app).await;
    let ch = channel(&app, "generic", &rx.url("/hook")).await;
    // Alerts at every evaluation while a stream error is in the last hour.
    rule(
        &app,
        json!({"name": "Errors", "condition_type": "stream_error", "cooldown_minutes": 0, "channel_id": ch}),
    )
    .await;
    crate::alerts::stream_errors(&crate::common::connect(db).await, 1, 0).await;
    rx.wait_for(1, Duration::from_secs(20), |_| true).await;

    let tally = Arc::new(Mutex::new(Tally::default()));
    let stop = CancellationToken::new();
    let reporters: Vec<_> = (0..4)
        .map(|_| tokio::spawn(reporter(app.base.clone(), who, tally.clone(), stop.clone())))
        .collect();
    eventually(
        "some events acknowledged",
        Duration::from_secs(10),
        || async { tally.lock().expect("tally").acknowledged.len() >= 20 },
    )
    .await;

    outage.set_down(true).await;
    let down_at = Instant::now();
    eventually(
        "/readyz to say not ready",
        Duration::from_secs(10),
        || async {
            matches!(app.http.get(app.url("/readyz")).send().await, Ok(r) if r.status() == 503)
        },
    )
    .await;
    while down_at.elapsed() < OUTAGE {
        let started = Instant::now();
        let r = app
            .http
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("healthz");
        assert_eq!(r.status(), 200, "liveness does not depend on the database");
        let r = app
            .admin_get("/api/v1/analytics/overview")
            .send()
            .await
            .expect("overview");
        assert_eq!(r.status(), 503);
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(
        evaluations(&app, "failed").await >= 1.0,
        "the evaluator noticed the outage"
    );
    let refused_during = tally.lock().expect("tally").pending.len();
    assert!(
        refused_during > 0,
        "no request was refused during the outage"
    );
    let alerts_before = rx.hits().len();

    outage.set_down(false).await;
    let up_at = Instant::now();
    let since_up = chrono::Utc::now();
    eventually(
        "/readyz to say ready again",
        Duration::from_secs(30),
        || async {
            matches!(app.http.get(app.url("/readyz")).send().await, Ok(r) if r.status() == 200)
        },
    )
    .await;
    let recovered_in = up_at.elapsed();
    let acked_at_recovery = tally.lock().expect("tally").acknowledged.len();
    eventually(
        "reports acknowledged again",
        Duration::from_secs(20),
        || async { tally.lock().expect("tally").acknowledged.len() >= acked_at_recovery + 20 },
    )
    .await;
    let fresh_rows = format!(
        "SELECT count(*) FROM system_metrics WHERE recorded_at > '{}'",
        since_up.to_rfc3339()
    );
    eventually(
        "the collector to write again",
        Duration::from_secs(20),
        || async { count(db, &fresh_rows).await >= 2 },
    )
    .await;
    rx.wait_for(alerts_before + 1, Duration::from_secs(20), |_| true)
        .await;
    stop.cancel();
    for r in reporters {
        r.await.expect("reporter");
    }

    let (acknowledged, pending, slowest, other) = {
        let t = tally.lock().expect("tally");
        (
            t.acknowledged.clone(),
            t.pending.clone(),
            t.slowest_refusal,
            t.other.clone(),
        )
    };
    assert!(other.is_empty(), "answers other than 200/503: {other:?}");
    assert!(
        slowest < Duration::from_secs(6),
        "a refusal took {slowest:?}"
    );
    // The media server sends again what was refused, and a few acknowledged ones as a client
    // that lost the answer would: retries are harmless.
    for id in pending.iter().chain(acknowledged.iter().take(10)) {
        app.post_ok(
            "/sessions",
            json!({"id": id, "user_id": who.0, "media_item_id": who.1}),
        )
        .await;
    }
    let c = crate::common::connect(db).await;
    let stored: Vec<Uuid> = c
        .query("SELECT id FROM stream_sessions", &[])
        .await
        .expect("sessions")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let stored_set: BTreeSet<Uuid> = stored.iter().copied().collect();
    assert_eq!(stored.len(), stored_set.len(), "an event stored twice");
    assert!(
        acknowledged.is_subset(&stored_set),
        "acknowledged events missing: {:?}",
        acknowledged
            .difference(&stored_set)
            .take(5)
            .collect::<Vec<_>>()
    );
    let sent: BTreeSet<Uuid> = acknowledged.iter().chain(&pending).copied().collect();
    assert_eq!(stored_set, sent, "stored events differ from those sent");
    // The per-user summaries (totals plus deltas not yet folded) count each play once.
    let plays: i64 = c
        .query_one(
            "SELECT ((SELECT coalesce(sum(plays), 0) FROM user_activity_totals WHERE user_id = $1)
                  + (SELECT coalesce(sum(plays), 0) FROM user_activity_deltas WHERE user_id = $1))::bigint",
            &[&who.0],
        )
        .await
        .expect("summaries")
        .get(0);
    assert_eq!(plays, sent.len() as i64, "summaries count each play once");
    assert_eq!(
        metric(&app.metrics_text().await, "cinevault_analytics_ready"),
        1.0
    );
    eprintln!(
        "outage ({label}): {} acknowledged, {refused_during} refused during the outage, slowest \
         refusal {slowest:?}, ready {recovered_in:?} after the database returned",
        acknowledged.len(),
    );
    app.stop().await;
}

#[tokio::test]
async fn postgresql_stopped_for_30_s_is_survived_without_losing_or_doubling_an_event() {
    let Some(cluster) = Cluster::start() else {
        eprintln!("no PostgreSQL server binaries under /usr/lib/postgresql: skipped");
        return;
    };
    let url = cluster.url();
    survive(Outage::Stopped(cluster), &url, &url).await;
}

#[tokio::test]
async fn a_30_s_network_cut_to_postgresql_is_survived_the_same_way() {
    let db = TestDb::migrated().await;
    let proxy = DbProxy::start(db_socket_addr(&db.url)).await;
    let through = proxy.url_through(&db.url);
    survive(Outage::Proxy(proxy), &through, &db.url).await;
}
