//! Readiness while the database is away, start-up before the database, and a graceful stop
//! of the real binary on SIGTERM.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{
    db_socket_addr, error_of, test_config, DbProxy, TestApp, TestDb, ADMIN_TOKEN, INGEST_TOKEN,
    JWT_SECRET,
};

async fn poll_status(app: &TestApp, path: &str, want: u16, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let status = app
            .http
            .get(app.url(path))
            .send()
            .await
            .map(|r| r.status().as_u16());
        if status.as_ref().ok() == Some(&want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{path} never answered {want} (last: {status:?})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn readiness_follows_the_database_and_requests_answer_503_promptly() {
    let db = TestDb::migrated().await;
    let proxy = DbProxy::start(db_socket_addr(&db.url)).await;
    let app = TestApp::spawn(test_config(&proxy.url_through(&db.url), &[])).await;
    assert_eq!(
        app.admin_get("/api/v1/status")
            .send()
            .await
            .expect("status")
            .status(),
        200
    );

    proxy.set_down(true);
    poll_status(&app, "/readyz", 503, Duration::from_secs(15)).await;
    // Every request is answered, quickly, with the JSON error shape: no hang.
    for _ in 0..3 {
        let started = Instant::now();
        let r = app
            .admin_get("/api/v1/status")
            .send()
            .await
            .expect("answered");
        let (status, code, _) = error_of(r).await;
        assert_eq!((status, code.as_str()), (503, "unavailable"));
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "took {:?}",
            started.elapsed()
        );
        let started = Instant::now();
        let r = app
            .http
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("readyz answered");
        assert_eq!(r.status(), 503);
        assert!(started.elapsed() < Duration::from_secs(6));
    }
    let r = app
        .http
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(r.status(), 200, "liveness does not depend on the database");

    proxy.set_down(false);
    poll_status(&app, "/readyz", 200, Duration::from_secs(20)).await;
    assert_eq!(
        app.admin_get("/api/v1/status")
            .send()
            .await
            .expect("status")
            .status(),
        200
    );
    app.stop().await;
}

#[tokio::test]
async fn the_sidecar_starts_before_its_database_and_migrates_when_it_arrives() {
    let db = crate::common::TestDb::empty().await;
    let proxy = DbProxy::start(db_socket_addr(&db.url)).await;
    proxy.set_down(true);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let shutdown = tokio_util::sync::CancellationToken::new();
    let handle = tokio::spawn(cinevault_analytics::run(
        test_config(&proxy.url_through(&db.url), &[]),
        listener,
        shutdown.clone(),
    ));
    let app = TestApp {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        shutdown,
        handle,
    };
    poll_status(&app, "/healthz", 200, Duration::from_secs(10)).await;
    let r = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(r.status(), 503);
    let r = app
        .admin_get("/api/v1/status")
        .send()
        .await
        .expect("status");
    assert_eq!(error_of(r).await.0, 503);

    proxy.set_down(false);
    poll_status(&app, "/readyz", 200, Duration::from_secs(30)).await;
    assert_eq!(
        app.admin_get("/api/v1/status")
            .send()
            .await
            .expect("status")
            .status(),
        200
    );
    app.stop().await;
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

#[tokio::test]
async fn sigterm_stops_the_binary_gracefully_and_logs_hold_no_secrets() {
    let db = TestDb::migrated().await;
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cinevault-analytics"))
        .arg("serve")
        .env(
            "DATABASE_URL",
            db.url
                .replace("postgres://postgres@", "postgres://postgres:db-password-1@"),
        )
        .env("CINEVAULT_LISTEN", format!("127.0.0.1:{port}"))
        .env("CINEVAULT_ADMIN_TOKENS", ADMIN_TOKEN)
        .env("CINEVAULT_INGEST_TOKEN", INGEST_TOKEN)
        .env("CINEVAULT_JWT_SECRET", JWT_SECRET)
        .env("CINEVAULT_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start binary");
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            if r.status() == 200 {
                break;
            }
        }
        assert!(Instant::now() < deadline, "binary never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = client
        .get(format!("{base}/api/v1/status"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("status");
    assert_eq!(r.status(), 200);

    // An idle keep-alive connection stays open (the client holds it) while we stop.
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let stopped_at = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            stopped_at.elapsed() < Duration::from_secs(10),
            "did not exit within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status:?}");
    let mut logs = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut logs)
        .expect("logs");
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut logs)
        .expect("logs");
    assert!(logs.contains("SIGTERM received"), "{logs}");
    assert!(logs.contains("stopped"), "{logs}");
    for secret in [ADMIN_TOKEN, INGEST_TOKEN, JWT_SECRET, "db-password-1"] {
        assert!(!logs.contains(secret), "{secret} appears in the logs");
    }
}
