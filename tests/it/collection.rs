//! The collector on this machine, compared with /proc and df; a failing reading; the
//! retention purge; the reaper; and /metrics checked by promtool.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use crate::common::{test_config, TestApp, TestDb};
use crate::ingest::{catalogue, metric};

async fn wait_for<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn rows(c: &tokio_postgres::Client) -> i64 {
    c.query_one("SELECT count(*) FROM system_metrics", &[])
        .await
        .expect("count")
        .get(0)
}

fn meminfo_used_percent() -> f64 {
    let text = std::fs::read_to_string("/proc/meminfo").expect("meminfo");
    let field = |name: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .expect("meminfo field")
    };
    let (total, avail) = (field("MemTotal:"), field("MemAvailable:"));
    (total - avail) / total * 100.0
}

fn df(path: &str) -> (f64, f64) {
    let out = Command::new("df")
        .args(["-B1", "--output=size,avail", path])
        .output()
        .expect("df");
    let text = String::from_utf8_lossy(&out.stdout);
    let nums: Vec<f64> = text
        .lines()
        .nth(1)
        .expect("df line")
        .split_whitespace()
        .map(|v| v.parse().expect("num"))
        .collect();
    (nums[0], nums[1])
}

#[tokio::test]
async fn the_collector_writes_rows_that_agree_with_proc_and_df() {
    let db = TestDb::migrated().await;
    let media = std::env::temp_dir();
    let media = media.to_str().expect("tmp path");
    let app = TestApp::spawn(test_config(
        &db.url,
        &["--collect-interval", "1s", "--media-path", media],
    ))
    .await;
    let c = db.client().await;
    wait_for("two rows", Duration::from_secs(15), || async {
        rows(&c).await >= 2
    })
    .await;
    let mem_now = meminfo_used_percent();
    let (size, avail) = df(media);
    let row = c
        .query_one(
            "SELECT host, cpu_percent, memory_percent, memory_used_mb, disk_total_gb, disk_used_gb,
                    disk_free_gb, gpu_encoder_percent, active_streams, active_transcodes
             FROM system_metrics ORDER BY recorded_at DESC LIMIT 1",
            &[],
        )
        .await
        .expect("row");
    assert_eq!(row.get::<_, &str>(0), "test-host");
    let cpu: f32 = row.get(1);
    assert!((0.0..=100.0).contains(&cpu), "cpu {cpu}");
    let mem: f32 = row.get(2);
    assert!(
        (f64::from(mem) - mem_now).abs() < 5.0,
        "memory {mem} vs /proc {mem_now}"
    );
    assert!(row.get::<_, i32>(3) > 0);
    let total_gb: f32 = row.get(4);
    assert!(
        (f64::from(total_gb) - size / 1e9).abs() < 0.01,
        "disk total {total_gb} vs df {size}"
    );
    let free_gb: f32 = row.get(6);
    assert!(
        (f64::from(free_gb) - avail / 1e9).abs() < avail / 1e9 * 0.01 + 0.01,
        "free {free_gb} vs df {avail}"
    );
    assert!(row.get::<_, f32>(5) > 0.0);
    let m = app.metrics_text().await;
    if metric(&m, "cinevault_analytics_gpus_detected") == 0.0 {
        assert!(
            row.get::<_, Option<f32>>(7).is_none(),
            "no GPU: GPU columns stay NULL"
        );
    }
    assert_eq!(row.get::<_, i32>(8), 0);
    assert_eq!(
        metric(&m, "cinevault_analytics_collector_last_collect_success"),
        1.0
    );
    // The stale-collector alert compares the last row's age with this.
    assert_eq!(
        metric(&m, "cinevault_analytics_collector_interval_seconds"),
        1.0
    );
    assert!(
        metric(
            &m,
            "cinevault_analytics_collector_last_collect_success_timestamp_seconds"
        ) > 1.7e9
    );
    assert!(
        m.contains(&format!(
            "cinevault_analytics_host_disk_total_bytes{{mount=\"{media}\"}} {size}"
        )),
        "{m}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_failing_reading_is_counted_and_the_rest_of_the_row_is_written() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(
        &db.url,
        &[
            "--collect-interval",
            "1s",
            "--media-path",
            "/no/such/media/path",
        ],
    ))
    .await;
    let c = db.client().await;
    wait_for("a row", Duration::from_secs(15), || async {
        rows(&c).await >= 1
    })
    .await;
    let row = c
        .query_one(
            "SELECT memory_percent, disk_total_gb FROM system_metrics LIMIT 1",
            &[],
        )
        .await
        .expect("row");
    assert!(row.get::<_, f32>(0) > 0.0, "memory still read");
    assert_eq!(row.get::<_, f32>(1), 0.0, "disk unknown");
    let m = app.metrics_text().await;
    assert!(
        metric(
            &m,
            "cinevault_analytics_collector_errors_total{reading=\"disk\"}"
        ) >= 1.0
    );
    assert_eq!(
        metric(
            &m,
            "cinevault_analytics_collector_errors_total{reading=\"memory\"}"
        ),
        0.0
    );
    app.stop().await;
}

#[tokio::test]
async fn rows_past_the_retention_are_purged() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    c.batch_execute(
        "INSERT INTO system_metrics (host, recorded_at)
         SELECT 'old', now() - interval '40 days' - g * interval '1 minute' FROM generate_series(1, 25000) g;
         INSERT INTO system_metrics (host, recorded_at) VALUES ('recent', now() - interval '29 days');",
    )
    .await
    .expect("seed");
    let app = TestApp::spawn(test_config(&db.url, &["--collect-interval", "1s"])).await;
    wait_for("purge", Duration::from_secs(15), || async {
        c.query_one(
            "SELECT count(*) FROM system_metrics WHERE host = 'old'",
            &[],
        )
        .await
        .expect("n")
        .get::<_, i64>(0)
            == 0
    })
    .await;
    let recent: i64 = c
        .query_one(
            "SELECT count(*) FROM system_metrics WHERE host = 'recent'",
            &[],
        )
        .await
        .expect("n")
        .get(0);
    assert_eq!(recent, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_goes_silent_leaves_nothing_active_past_the_timeout() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(
        &db.url,
        &[
            "--stale-session-after",
            "2s",
            "--stale-transcode-after",
            "2s",
        ],
    ))
    .await;
    let (user, item) = catalogue(&app).await;
    let (session, transcode, healthy) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    app.post_ok("/sessions", json!({"id": session, "user_id": user, "media_item_id": item, "playback_type": "transcode"})).await;
    app.post_ok(
        "/transcodes",
        json!({"id": transcode, "user_id": user, "media_item_id": item}),
    )
    .await;
    app.post_ok(
        &format!("/sessions/{session}/progress"),
        json!({"bytes_served": 1000, "duration_seconds": 4}),
    )
    .await;
    app.post_ok(
        "/sessions",
        json!({"id": healthy, "user_id": user, "media_item_id": item}),
    )
    .await;
    let c = db.client().await;
    // The healthy client keeps reporting; the other one has crashed.
    let started = Instant::now();
    loop {
        app.post_ok(
            &format!("/sessions/{healthy}/progress"),
            json!({"bytes_served": 1, "duration_seconds": 1}),
        )
        .await;
        let active: bool = c
            .query_one(
                "SELECT is_active FROM stream_sessions WHERE id = $1",
                &[&session],
            )
            .await
            .expect("row")
            .get(0);
        if !active {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "stale session never ended"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let row = c
        .query_one(
            "SELECT ended_at = last_reported_at, bytes_served FROM stream_sessions WHERE id = $1",
            &[&session],
        )
        .await
        .expect("row");
    assert!(row.get::<_, bool>(0), "ended at its last report");
    assert_eq!(row.get::<_, i64>(1), 1000, "figures kept");
    let healthy_active: bool = c
        .query_one(
            "SELECT is_active FROM stream_sessions WHERE id = $1",
            &[&healthy],
        )
        .await
        .expect("row")
        .get(0);
    assert!(
        healthy_active,
        "a session that keeps reporting stays active"
    );
    wait_for(
        "stale transcode closed",
        Duration::from_secs(10),
        || async {
            c.query_one(
                "SELECT completed_at IS NOT NULL FROM transcode_history WHERE id = $1",
                &[&transcode],
            )
            .await
            .expect("row")
            .get::<_, bool>(0)
        },
    )
    .await;
    let row = c
        .query_one(
            "SELECT success, error_message FROM transcode_history WHERE id = $1",
            &[&transcode],
        )
        .await
        .expect("row");
    assert!(!row.get::<_, bool>(0));
    assert!(row.get::<_, &str>(1).contains("no completion reported"));
    let m = app.metrics_text().await;
    assert!(metric(&m, "cinevault_analytics_sessions_reaped_total") >= 1.0);
    app.stop().await;
}

#[tokio::test]
async fn metrics_pass_promtool_in_both_formats() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &["--collect-interval", "1s"])).await;
    let (user, item) = catalogue(&app).await;
    app.post_ok(
        "/sessions",
        json!({"id": Uuid::new_v4(), "user_id": user, "media_item_id": item}),
    )
    .await;
    let c = db.client().await;
    wait_for("a row", Duration::from_secs(15), || async {
        rows(&c).await >= 1
    })
    .await;

    let r = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(
        r.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = r.text().await.expect("text");
    assert!(!text.contains("# EOF") && !text.contains("# UNIT"));
    assert!(text.contains("# TYPE cinevault_analytics_sessions_started_total counter"));
    assert_eq!(
        metric(
            &text,
            "cinevault_analytics_active_streams{playback_type=\"direct_play\"}"
        ),
        1.0
    );
    let r = app
        .http
        .get(app.url("/metrics"))
        .header(
            "accept",
            "application/openmetrics-text; version=1.0.0,text/plain;q=0.5",
        )
        .send()
        .await
        .expect("metrics");
    assert_eq!(
        r.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(r.text().await.expect("text").ends_with("# EOF\n"));
    // No unbounded labels: nothing keyed by user, session or title.
    for word in ["user", "session_id", "title", "media_item"] {
        assert!(
            !text
                .lines()
                .any(|l| !l.starts_with('#') && l.contains(&format!("{word}="))),
            "{word} label"
        );
    }

    let promtool = Command::new("promtool").arg("--version").output();
    if promtool.is_err() {
        assert!(
            std::env::var("CINEVAULT_REQUIRE_PROMTOOL").is_err(),
            "promtool is required (scripts/test installs it)"
        );
        eprintln!(
            "promtool not installed: skipping `promtool check metrics` (scripts/test installs it)"
        );
        app.stop().await;
        return;
    }
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("promtool output");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && report.trim().is_empty(),
        "promtool check metrics: {report}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_collector_reads_a_settable_proc_root() {
    let db = TestDb::migrated().await;
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/proc/a");
    let app = TestApp::spawn(test_config(
        &db.url,
        &[
            "--collect-interval",
            "1s",
            "--proc-root",
            root,
            "--gpu",
            "off",
        ],
    ))
    .await;
    let c = db.client().await;
    wait_for("a row", Duration::from_secs(15), || async {
        rows(&c).await >= 1
    })
    .await;
    // The fixture: MemTotal 16384000 kB, MemAvailable 4096000 kB.
    let row = c
        .query_one(
            "SELECT memory_percent, memory_used_mb FROM system_metrics LIMIT 1",
            &[],
        )
        .await
        .expect("row");
    assert_eq!(row.get::<_, f32>(0), 75.0);
    assert_eq!(row.get::<_, i32>(1), 12000);
    let m = app.metrics_text().await;
    assert_eq!(
        metric(&m, "cinevault_analytics_host_memory_total_bytes"),
        16_384_000.0 * 1024.0
    );
    assert_eq!(
        metric(&m, "cinevault_analytics_host_memory_available_bytes"),
        4_096_000.0 * 1024.0
    );
    assert_eq!(
        metric(&m, "cinevault_analytics_host_memory_used_bytes"),
        12_288_000.0 * 1024.0
    );
    assert_eq!(metric(&m, "cinevault_analytics_gpus_detected"), 0.0);
    app.stop().await;
}
