//! Alerting end to end, with real local HTTP receivers: each condition at its threshold
//! edge, cooldown, events filtering, disabled rules and channels, resolved messages.
//! Delivery (retries, timeouts, replicas, address policy, payload limits) is in
//! `alerts/delivery.rs`; the API in `alerts/api.rs`.

mod api;
mod delivery;
pub mod receiver;
mod schema;

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{test_config, TestApp, TestDb, ADMIN_TOKEN};
use crate::ingest::{catalogue, metric};
use receiver::{Hit, Receiver};

/// Loopback receivers allowed, an evaluation every second, and a collector that never
/// fires a disk or GPU rule of its own (no GPU, a media path that does not exist).
pub const ALERT_ARGS: [&str; 7] = [
    "--webhook-allow-loopback",
    "--alert-interval",
    "1s",
    "--gpu",
    "off",
    "--media-path",
    "/nonexistent/cinevault-alert-tests",
];

pub async fn alert_app(db: &TestDb) -> TestApp {
    TestApp::spawn(test_config(&db.url, &ALERT_ARGS)).await
}

/// A call to `/api/v1/notifications{path}` with the admin token.
pub async fn api(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = app
        .http
        .request(method, app.url(&format!("/api/v1/notifications{path}")))
        .bearer_auth(ADMIN_TOKEN);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.expect("notifications request")
}

pub async fn ok_json(resp: reqwest::Response) -> Value {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).expect("JSON answer")
}

pub async fn create_channel(app: &TestApp, body: Value) -> Uuid {
    let v = ok_json(api(app, Method::POST, "/channels", Some(body)).await).await;
    v["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("channel id")
}

pub async fn channel(app: &TestApp, kind: &str, url: &str) -> Uuid {
    create_channel(
        app,
        json!({"name": format!("{kind} channel"), "channel_type": kind, "webhook_url": url}),
    )
    .await
}

pub async fn rule(app: &TestApp, body: Value) -> Uuid {
    let v = ok_json(api(app, Method::POST, "/alerts", Some(body)).await).await;
    v["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("rule id")
}

/// A `system_metrics` row for `host`, `age_secs` old.
pub async fn reading(
    c: &tokio_postgres::Client,
    host: &str,
    free_gb: f32,
    gpu: Option<f32>,
    age_secs: f64,
) {
    c.execute(
        "INSERT INTO system_metrics (host, disk_total_gb, disk_used_gb, disk_free_gb,
             gpu_temp_celsius, recorded_at)
         VALUES ($1, 1000, 1000 - $2::real, $2, $3, now() - make_interval(secs => $4))",
        &[&host, &free_gb, &gpu, &age_secs],
    )
    .await
    .expect("insert reading");
}

pub async fn stream_errors(c: &tokio_postgres::Client, n: i32, minutes_ago: i32) {
    c.execute(
        "INSERT INTO stream_errors (message, occurred_at)
         SELECT 'decoder gave up', now() - make_interval(mins => $2) FROM generate_series(1, $1)",
        &[&n, &minutes_ago],
    )
    .await
    .expect("insert stream errors");
}

async fn transcodes(
    c: &tokio_postgres::Client,
    who: (Uuid, Uuid),
    n: i32,
    success: bool,
    minutes_ago: i32,
) {
    c.execute(
        "INSERT INTO transcode_history (user_id, media_item_id, success, error_message,
             started_at, completed_at)
         SELECT $1, $2, $4, CASE WHEN $4 THEN NULL ELSE 'ffmpeg exited with 1' END,
                now() - make_interval(mins => $5 + 1), now() - make_interval(mins => $5)
         FROM generate_series(1, $3)",
        &[&who.0, &who.1, &n, &success, &minutes_ago],
    )
    .await
    .expect("insert transcodes");
}

/// Completed evaluations on this replica.
pub async fn evaluations(app: &TestApp, result: &str) -> f64 {
    metric(
        &app.metrics_text().await,
        &format!("cinevault_analytics_alert_evaluations_total{{result=\"{result}\"}}"),
    )
}

/// Waits for `n` more complete evaluations, so whatever was set up before has been judged.
pub async fn after_evaluations(app: &TestApp, n: usize) {
    let start = evaluations(app, "evaluated").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while evaluations(app, "evaluated").await < start + n as f64 {
        assert!(Instant::now() < deadline, "no evaluation completed in time");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `alert_log` rows of a rule, oldest first: (success, http_status, attempts, kind, error).
pub async fn log_of(
    c: &tokio_postgres::Client,
    rule: Uuid,
) -> Vec<(bool, Option<i32>, i32, String, Option<String>)> {
    c.query(
        "SELECT success, http_status, attempts, kind, error_detail FROM alert_log
         WHERE rule_id = $1 ORDER BY sent_at",
        &[&rule],
    )
    .await
    .expect("log rows")
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
    .collect()
}

pub async fn wait_for_log(
    c: &tokio_postgres::Client,
    rule: Uuid,
    n: usize,
) -> Vec<(bool, Option<i32>, i32, String, Option<String>)> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = log_of(c, rule).await;
        if rows.len() >= n {
            return rows;
        }
        assert!(Instant::now() < deadline, "alert_log has {rows:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn last_triggered(
    c: &tokio_postgres::Client,
    rule: Uuid,
) -> Option<chrono::DateTime<chrono::Utc>> {
    c.query_one(
        "SELECT last_triggered_at FROM alert_rules WHERE id = $1",
        &[&rule],
    )
    .await
    .expect("rule")
    .get(0)
}

fn message(h: &Hit) -> String {
    h.json()["message"]
        .as_str()
        .expect("generic message")
        .to_owned()
}

#[tokio::test]
async fn disk_and_gpu_rules_fire_per_host_past_the_threshold_and_never_on_stale_or_missing_readings(
) {
    let db = TestDb::migrated().await;
    let app = alert_app(&db).await;
    let c = db.client().await;
    let rx = Receiver::start().await;
    let ch = channel(&app, "generic", &rx.url("/hook")).await;
    // media1: low disk and no GPU. media2: exactly at both thresholds. gpu1: a hot GPU.
    // stale1 would fire both, but its last reading is older than three collect intervals.
    reading(&c, "media1", 41.2, None, 0.0).await;
    reading(&c, "media2", 50.0, Some(80.0), 0.0).await;
    reading(&c, "gpu1", 500.0, Some(80.5), 0.0).await;
    reading(&c, "stale1", 1.0, Some(99.0), 200.0).await;
    let disk = rule(
        &app,
        json!({"name": "Low Disk Space", "condition_type": "disk_space_low", "threshold": 50.0,
               "cooldown_minutes": 120, "channel_id": ch, "is_enabled": true}),
    )
    .await;
    let gpu = rule(
        &app,
        json!({"name": "Hot GPU", "condition_type": "gpu_temp_high", "threshold": 80, "channel_id": ch}),
    )
    .await;
    rx.wait_for(2, Duration::from_secs(20), |_| true).await;
    after_evaluations(&app, 2).await;
    let mut got: Vec<String> = rx.hits().iter().map(message).collect();
    got.sort();
    assert_eq!(
        got,
        [
            "Free disk on media1 is 41.2 GB, below the 50 GB threshold.",
            "GPU temperature on gpu1 is 80.5 °C, above the 80 °C threshold.",
        ]
    );
    for r in [disk, gpu] {
        assert!(last_triggered(&c, r).await.is_some());
        let log = log_of(&c, r).await;
        assert_eq!(log.len(), 1);
        assert_eq!(
            (log[0].0, log[0].1, log[0].3.as_str()),
            (true, Some(200), "alert")
        );
    }
    let text = app.metrics_text().await;
    assert_eq!(metric(&text, "cinevault_analytics_alert_rules_firing"), 2.0);
    app.stop().await;
}

#[tokio::test]
async fn transcode_failure_and_stream_error_counts_fire_only_above_their_threshold() {
    let db = TestDb::migrated().await;
    let app = alert_app(&db).await;
    let c = db.client().await;
    let rx = Receiver::start().await;
    let ch = channel(&app, "generic", &rx.url("/hook")).await;
    let who = catalogue(&app).await;
    // Exactly at the thresholds within the hour; successes and older failures do not count.
    transcodes(&c, who, 2, false, 5).await;
    transcodes(&c, who, 3, true, 5).await;
    transcodes(&c, who, 4, false, 90).await;
    stream_errors(&c, 1, 5).await;
    stream_errors(&c, 3, 61).await;
    rule(
        &app,
        json!({"name": "Transcode Failures", "condition_type": "transcode_failure", "threshold": 2,
               "cooldown_minutes": 60, "channel_id": ch}),
    )
    .await;
    rule(
        &app,
        json!({"name": "Stream Errors", "condition_type": "stream_error", "threshold": 1, "channel_id": ch}),
    )
    .await;
    after_evaluations(&app, 2).await;
    assert!(
        rx.hits().is_empty(),
        "{:?}",
        rx.hits().iter().map(message).collect::<Vec<_>>()
    );
    transcodes(&c, who, 1, false, 0).await;
    stream_errors(&c, 1, 0).await;
    rx.wait_for(2, Duration::from_secs(20), |_| true).await;
    let mut got: Vec<String> = rx.hits().iter().map(message).collect();
    got.sort();
    assert_eq!(
        got,
        [
            "2 stream errors in the last 60 minutes, above the threshold of 1.",
            "3 transcodes failed in the last 60 minutes, above the threshold of 2.",
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn cooldown_holds_repeats_back_until_it_has_passed() {
    let db = TestDb::migrated().await;
    let app = alert_app(&db).await;
    let c = db.client().await;
    let rx = Receiver::start().await;
    stream_errors(&c, 1, 0).await;
    let hourly_ch = channel(&app, "generic", &rx.url("/hourly")).await;
    let always_ch = channel(&app, "generic", &rx.url("/always")).await;
    let hourly = rule(
        &app,
        json!({"name": "Hourly", "condition_type": "stream_error", "cooldown_minutes": 60, "channel_id": hourly_ch}),
    )
    .await;
    rule(
        &app,
        json!({"name": "Every evaluation", "condition_type": "stream_error", "cooldown_minutes": 0,
               "channel_id": always_ch}),
    )
    .await;
    // A zero cooldown repeats at every evaluation; the hourly rule has said it once.
    rx.wait_for(3, Duration::from_secs(20), |h| h.path == "/always")
        .await;
    assert_eq!(rx.hits_on("/hourly").len(), 1);
    // Once its cooldown has passed, the hourly rule alerts again.
    c.execute(
        "UPDATE alert_rule_state SET last_triggered_at = last_triggered_at - interval '61 minutes'
         WHERE rule_id = $1",
        &[&hourly],
    )
    .await
    .expect("age the cooldown");
    rx.wait_for(2, Duration::from_secs(20), |h| h.path == "/hourly")
        .await;
    after_evaluations(&app, 2).await;
    assert_eq!(rx.hits_on("/hourly").len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn only_enabled_rules_reach_enabled_channels_whose_events_list_the_condition() {
    let db = TestDb::migrated().await;
    let app = alert_app(&db).await;
    let c = db.client().await;
    let rx = Receiver::start().await;
    stream_errors(&c, 1, 0).await;
    let mk = |name: &str, extra: Value| {
        let mut body = json!({"name": name, "channel_type": "generic", "webhook_url": rx.url(&format!("/{name}"))});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        body
    };
    let all = create_channel(&app, mk("all", json!({"events": "[\"all\"]"}))).await;
    let listed = create_channel(&app, mk("listed", json!({"events": ["stream_error"]}))).await;
    let other = create_channel(
        &app,
        mk(
            "other",
            json!({"events": ["disk_space_low", "gpu_temp_high"]}),
        ),
    )
    .await;
    let off = create_channel(&app, mk("off", json!({"is_enabled": false}))).await;
    for (name, ch, enabled) in [
        ("to all", all, true),
        ("disabled rule", all, false),
        ("to listed", listed, true),
        ("to other", other, true),
        ("to off", off, true),
    ] {
        rule(
            &app,
            json!({"name": name, "condition_type": "stream_error", "channel_id": ch, "is_enabled": enabled}),
        )
        .await;
    }
    rx.wait_for(1, Duration::from_secs(20), |h| h.path == "/all")
        .await;
    rx.wait_for(1, Duration::from_secs(20), |h| h.path == "/listed")
        .await;
    after_evaluations(&app, 2).await;
    let all_hits = rx.hits_on("/all");
    assert_eq!(all_hits.len(), 1);
    assert_eq!(all_hits[0].json()["rule_name"], "to all");
    assert_eq!(rx.hits_on("/listed").len(), 1);
    assert!(rx.hits_on("/other").is_empty());
    assert!(rx.hits_on("/off").is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_cleared_condition_sends_one_resolved_message_unless_the_rule_turns_that_off() {
    let db = TestDb::migrated().await;
    let app = alert_app(&db).await;
    let c = db.client().await;
    let rx = Receiver::start().await;
    reading(&c, "media1", 10.0, None, 1.0).await;
    stream_errors(&c, 1, 0).await;
    let disk_ch = channel(&app, "generic", &rx.url("/disk")).await;
    let errors_ch = channel(&app, "generic", &rx.url("/errors")).await;
    let disk = rule(
        &app,
        json!({"name": "Low Disk", "condition_type": "disk_space_low", "threshold": 50, "channel_id": disk_ch}),
    )
    .await;
    rule(
        &app,
        json!({"name": "Errors", "condition_type": "stream_error", "send_resolved": false, "channel_id": errors_ch}),
    )
    .await;
    rx.wait_for(1, Duration::from_secs(20), |h| h.path == "/disk")
        .await;
    rx.wait_for(1, Duration::from_secs(20), |h| h.path == "/errors")
        .await;
    // Both conditions clear.
    reading(&c, "media1", 80.0, None, 0.0).await;
    c.execute("DELETE FROM stream_errors", &[])
        .await
        .expect("clear errors");
    let disk_hits = rx
        .wait_for(2, Duration::from_secs(20), |h| h.path == "/disk")
        .await;
    let resolved = disk_hits[1].json();
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(
        resolved["message"],
        "Free disk on media1 is back to 80 GB, at or above the 50 GB threshold."
    );
    after_evaluations(&app, 2).await;
    assert_eq!(rx.hits_on("/disk").len(), 2, "resolved once");
    assert_eq!(
        rx.hits_on("/errors").len(),
        1,
        "no resolved message when turned off"
    );
    let kinds: Vec<String> = log_of(&c, disk).await.into_iter().map(|r| r.3).collect();
    assert_eq!(kinds, ["alert", "resolved"]);
    app.stop().await;
}
