//! Webhook delivery against real receivers: retries on 5xx and 429, a receiver that never
//! answers, two replicas at once, the address policy, and every platform's limits.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use super::receiver::{Receiver, Reply};
use super::schema::{discord_schema, discord_totals, violations};
use super::{
    alert_app, api, channel, create_channel, last_triggered, log_of, ok_json, reading, rule,
    stream_errors, wait_for_log, ALERT_ARGS,
};
use crate::common::{error_of, test_config, TestApp, TestDb};
use crate::ingest::metric;

#[tokio::test]
async fn a_receiver_answering_500_then_200_gets_the_alert_on_the_retry() {
    let db = TestDb::migrated().await;
    let app = alert_app(&db).await;
    let c = db.client().await;
    let rx = Receiver::start().await;
    rx.script([Reply::Status(500)]);
    stream_errors(&c, 1, 0).await;
    let ch = channel(&app, "generic", &rx.url("/hook")).await;
    let r = rule(
        &app,
        json!({"name": "Errors", "condition_type": "stream_error", "channel_id": ch}),
    )
    .await;
    let hits = rx.wait_for(2, Duration::from_secs(20), |_| true).await;
    assert_eq!(
        hits[0].body, hits[1].body,
        "the retry sends the same message"
    );
    let log = wait_for_log(&c, r, 1).await;
    assert_eq!((log[0].0, log[0].1, log[0].2), (true, Some(200), 2));
    assert!(last_triggered(&c, r).await.is_some());
    let text = app.metrics_text().await;
    let series = |outcome: &str| {
        format!("cinevault_analytics_alert_deliveries_total{{channel_type=\"generic\",outcome=\"{outcome}\"}}")
    };
    assert_eq!(metric(&text, &series("delivered")), 1.0);
    assert_eq!(metric(&text, &series("failed")), 0.0);
    assert_eq!(
        metric(
            &text,
            "cinevault_analytics_alert_delivery_duration_seconds_count{channel_type=\"generic\"}"
        ),
        1.0
    );
    app.stop().await;
}

#[tokio::test]
async fn a_429_is_retried_after_the_delay_the_receiver_asks_for() {
    let db = TestDb::migrated().await;
    let app = alert_app(&db).await;
    let c = db.client().await;
    stream_errors(&c, 1, 0).await;
    // Discord says how long to wait in its JSON body; others in Retry-After.
    let discord = Receiver::start().await;
    discord.script([Reply::Json(
        429,
        json!({"message": "You are being rate limited.", "retry_after": 0.6, "global": false}),
    )]);
    let generic = Receiver::start().await;
    generic.script([Reply::RetryAfter(429, "1")]);
    let d = channel(&app, "discord", &discord.url("/api/webhooks/1/tok")).await;
    let g = channel(&app, "generic", &generic.url("/hook")).await;
    let rd = rule(
        &app,
        json!({"name": "To Discord", "condition_type": "stream_error", "channel_id": d}),
    )
    .await;
    let rg = rule(
        &app,
        json!({"name": "To generic", "condition_type": "stream_error", "channel_id": g}),
    )
    .await;
    let dh = discord.wait_for(2, Duration::from_secs(20), |_| true).await;
    let gh = generic.wait_for(2, Duration::from_secs(20), |_| true).await;
    let gap = |a: &super::Hit, b: &super::Hit| b.at.duration_since(a.at);
    assert!(
        gap(&dh[0], &dh[1]) >= Duration::from_millis(550),
        "{:?}",
        gap(&dh[0], &dh[1])
    );
    assert!(
        gap(&gh[0], &gh[1]) >= Duration::from_millis(950),
        "{:?}",
        gap(&gh[0], &gh[1])
    );
    assert!(dh
        .iter()
        .all(|h| h.query.split('&').any(|p| p == "wait=true")));
    for r in [rd, rg] {
        let log = wait_for_log(&c, r, 1).await;
        assert_eq!((log[0].0, log[0].1, log[0].2), (true, Some(200), 2));
    }
    app.stop().await;
}

#[tokio::test]
async fn a_receiver_that_never_answers_fails_after_the_deadline_without_delaying_the_others() {
    let db = TestDb::migrated().await;
    let app = alert_app(&db).await;
    let c = db.client().await;
    stream_errors(&c, 1, 0).await;
    let slow = Receiver::start().await;
    slow.always(Reply::Hang);
    let fast = Receiver::start().await;
    let slow_ch = channel(&app, "generic", &slow.url("/hook")).await;
    let fast_ch = channel(&app, "slack", &fast.url("/services/T/B/x")).await;
    let slow_rule = rule(
        &app,
        json!({"name": "Slow", "condition_type": "stream_error", "channel_id": slow_ch}),
    )
    .await;
    let fast_rule = rule(
        &app,
        json!({"name": "Fast", "condition_type": "stream_error", "channel_id": fast_ch}),
    )
    .await;
    // Both go out in the same evaluation; the fast one is delivered and recorded while the
    // slow one is still waiting for an answer.
    let first_slow = slow.wait_for(1, Duration::from_secs(20), |_| true).await[0].at;
    let first_fast = fast.wait_for(1, Duration::from_secs(20), |_| true).await[0].at;
    let apart = first_fast
        .checked_duration_since(first_slow)
        .unwrap_or_else(|| first_slow.duration_since(first_fast));
    assert!(apart < Duration::from_millis(900), "{apart:?}");
    wait_for_log(&c, fast_rule, 1).await;
    assert!(
        log_of(&c, slow_rule).await.is_empty(),
        "the slow delivery is still on"
    );
    // Then it gives up at the deadline: one failure row, no status, the alert still pending.
    let log = wait_for_log(&c, slow_rule, 1).await;
    let (success, status, attempts, _, error) = &log[0];
    assert!(!success);
    assert_eq!(*status, None);
    assert!(*attempts >= 2, "{attempts}");
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("no answer within")),
        "{error:?}"
    );
    assert!(last_triggered(&c, slow_rule).await.is_none());
    assert!(last_triggered(&c, fast_rule).await.is_some());
    let tried = slow.hits().len();
    slow.wait_for(tried + 1, Duration::from_secs(20), |_| true)
        .await;
    app.stop().await;
}

/// Three sidecars on one database, with a slow evaluation interval so each evaluates once
/// at start-up: A delivers to a receiver that holds its answer; B starts meanwhile and finds
/// the evaluator lock taken; C starts after A is done and finds the rule in its cooldown.
#[tokio::test]
async fn two_replicas_evaluating_at_once_deliver_the_alert_once() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let rx = Receiver::start().await;
    rx.always(Reply::Gate);
    stream_errors(&c, 1, 0).await;
    let ch: Uuid = c
        .query_one(
            "INSERT INTO notification_channels (name, channel_type, webhook_url)
             VALUES ('ops', 'generic', $1) RETURNING id",
            &[&rx.url("/hook")],
        )
        .await
        .expect("channel")
        .get(0);
    let r: Uuid = c
        .query_one(
            "INSERT INTO alert_rules (name, condition_type, threshold, channel_id)
             VALUES ('Errors', 'stream_error', 0, $1) RETURNING id",
            &[&ch],
        )
        .await
        .expect("rule")
        .get(0);
    let mut args = ALERT_ARGS.to_vec();
    args[2] = "5m";
    let a = TestApp::spawn(test_config(&db.url, &args)).await;
    rx.wait_for(1, Duration::from_secs(20), |_| true).await;
    let b = TestApp::spawn(test_config(&db.url, &args)).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while super::evaluations(&b, "skipped").await < 1.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "B never found the lock taken"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    rx.open_gate();
    wait_for_log(&c, r, 1).await;
    let third = TestApp::spawn(test_config(&db.url, &args)).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while super::evaluations(&third, "evaluated").await < 1.0 {
        assert!(std::time::Instant::now() < deadline, "C never evaluated");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(rx.hits().len(), 1, "one delivery for three replicas");
    assert_eq!(log_of(&c, r).await.len(), 1);
    for app in [a, b, third] {
        app.stop().await;
    }
}

async fn test_send(app: &TestApp, ch: Uuid) -> Value {
    ok_json(api(app, Method::POST, &format!("/channels/{ch}/test"), None).await).await
}

#[tokio::test]
async fn webhook_targets_pass_the_address_policy_when_saved_after_dns_and_on_redirects() {
    let db = TestDb::migrated().await;
    let app = alert_app(&db).await;
    let c = db.client().await;
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://[fe80::1]/hook",
        "http://169.254.10.10/hook",
        "http://10.1.2.3/hook",
        "http://[fd12::1]/hook",
        "ftp://example.com/hook",
        "file:///etc/passwd",
    ] {
        let resp = api(
            &app,
            Method::POST,
            "/channels",
            Some(json!({"name": "x", "channel_type": "generic", "webhook_url": url})),
        )
        .await;
        let (status, _, field) = error_of(resp).await;
        assert_eq!(
            (status, field.as_deref()),
            (400, Some("webhook_url")),
            "{url}"
        );
    }
    // A receiver that redirects to the metadata service: the redirect is not followed.
    let rx = Receiver::start().await;
    rx.always(Reply::Redirect(
        "http://169.254.169.254/latest/meta-data/".into(),
    ));
    let ch = channel(&app, "generic", &rx.url("/hook")).await;
    let out = test_send(&app, ch).await;
    assert_eq!(out["delivered"], false);
    let error = out["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("address policy") && error.contains("metadata"),
        "{error}"
    );
    assert_eq!(rx.hits().len(), 1);
    // A URL stored behind the API's back is refused before any request.
    let stored: Uuid = c
        .query_one(
            "INSERT INTO notification_channels (name, channel_type, webhook_url)
             VALUES ('sneaky', 'generic', 'http://169.254.169.254/latest/') RETURNING id",
            &[],
        )
        .await
        .expect("channel")
        .get(0);
    let out = test_send(&app, stored).await;
    assert_eq!(
        (out["delivered"].clone(), out["attempts"].clone()),
        (json!(false), json!(0))
    );

    // Without --webhook-allow-loopback: a loopback literal is refused when saved, and a name
    // that resolves to loopback is refused after resolution, before connecting.
    let mut args = ALERT_ARGS.to_vec();
    args.retain(|a| *a != "--webhook-allow-loopback");
    let strict = TestApp::spawn(test_config(&db.url, &args)).await;
    let resp = api(
        &strict,
        Method::POST,
        "/channels",
        Some(json!({"name": "x", "channel_type": "generic", "webhook_url": rx.url("/hook")})),
    )
    .await;
    assert_eq!(error_of(resp).await.0, 400);
    let inner = Receiver::start().await;
    let port = inner.base.rsplit(':').next().unwrap_or_default().to_owned();
    let by_name = channel(&strict, "generic", &format!("http://localhost:{port}/hook")).await;
    let out = test_send(&strict, by_name).await;
    assert_eq!(out["delivered"], false);
    let error = out["error"].as_str().unwrap_or_default();
    assert!(error.contains("loopback"), "{error}");
    assert!(inner.hits().is_empty());
    strict.stop().await;
    app.stop().await;
}

fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

/// Standard base64 of HMAC-SHA256, computed here independently of the sidecar's code path.
fn expected_signature(key: &[u8], id: &str, ts: &str, body: &[u8]) -> String {
    let mut content = format!("{id}.{ts}.").into_bytes();
    content.extend_from_slice(body);
    let url_safe =
        jsonwebtoken::crypto::sign(&content, &EncodingKey::from_secret(key), Algorithm::HS256)
            .expect("hmac");
    let mut b64: String = url_safe.replace('-', "+").replace('_', "/");
    while b64.len() % 4 != 0 {
        b64.push('=');
    }
    format!("v1,{b64}")
}

#[tokio::test]
async fn every_payload_stays_within_its_platform_limits() {
    let db = TestDb::migrated().await;
    let app = alert_app(&db).await;
    let c = db.client().await;
    let rx = Receiver::start().await;
    // The longest name and host the columns allow, with mention bait in them.
    let name = format!("@everyone <!channel> & {}", "Ω".repeat(77));
    assert_eq!(name.chars().count(), 100);
    let host = format!("<!here>{}", "h".repeat(248));
    reading(&c, &host, 1.5, None, 0.0).await;
    let secret = "a-shared-secret-of-the-receiver";
    let chans = [
        channel(&app, "discord", &rx.url("/discord")).await,
        channel(&app, "slack", &rx.url("/slack")).await,
        create_channel(
            &app,
            json!({"name": "signed", "channel_type": "generic", "webhook_url": rx.url("/generic"),
                   "signing_secret": secret}),
        )
        .await,
        channel(&app, "alertmanager", &rx.url("/am")).await,
    ];
    for ch in chans {
        rule(
            &app,
            json!({"name": name, "condition_type": "disk_space_low", "threshold": 50, "channel_id": ch}),
        )
        .await;
    }
    rx.wait_for(4, Duration::from_secs(20), |_| true).await;

    let discord = &rx.hits_on("/discord")[0];
    assert!(discord.query.split('&').any(|p| p == "wait=true"));
    let body = discord.json();
    let schema = discord_schema();
    assert_eq!(violations(&schema, &body), Vec::<String>::new(), "{body}");
    assert_eq!(discord_totals(&body), Vec::<String>::new());
    let embed = &body["embeds"][0];
    for f in ["title", "description", "color", "footer", "timestamp"] {
        assert!(!embed[f].is_null(), "embed {f}");
    }
    assert!(embed["description"]
        .as_str()
        .is_some_and(|d| d.contains("is 1.5 GB, below the 50 GB threshold.")));
    assert_eq!(body["allowed_mentions"], json!({"parse": []}));

    let slack = rx.hits_on("/slack")[0].json();
    let blocks = slack["blocks"].as_array().expect("blocks");
    let kinds: Vec<&str> = blocks.iter().filter_map(|b| b["type"].as_str()).collect();
    assert_eq!(kinds, ["header", "section", "context"]);
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    assert!(chars(&blocks[0]["text"]["text"]) <= 150);
    assert!(chars(&blocks[1]["text"]["text"]) <= 3000);
    let elements = blocks[2]["elements"].as_array().expect("elements");
    assert!(elements.len() <= 10 && elements.iter().all(|e| chars(&e["text"]) <= 3000));
    assert!(chars(&slack["text"]) <= 40_000);
    let raw = slack.to_string();
    assert!(
        !raw.contains("<!channel>") && !raw.contains("<!here>"),
        "{raw}"
    );

    let generic = &rx.hits_on("/generic")[0];
    let body = generic.json();
    for f in ["title", "message", "source", "timestamp"] {
        assert!(body[f].is_string(), "generic {f}");
    }
    let id = generic.header("webhook-id").expect("webhook-id");
    let ts = generic
        .header("webhook-timestamp")
        .expect("webhook-timestamp");
    let ts_value: i64 = ts.parse().expect("unix seconds");
    assert!((chrono::Utc::now().timestamp() - ts_value).abs() < 60);
    assert_eq!(
        generic.header("webhook-signature"),
        Some(expected_signature(
            secret.as_bytes(),
            &id,
            &ts,
            &generic.body
        ))
    );

    let am = &rx
        .hits()
        .into_iter()
        .find(|h| h.path.starts_with("/am"))
        .expect("alertmanager request");
    assert_eq!(am.path, "/am/api/v2/alerts");
    let alerts = am.json();
    let alert = &alerts[0];
    assert_eq!(alert["labels"]["alertname"], name.as_str());
    assert_eq!(alert["labels"]["host"], host.as_str());
    assert_eq!(alert["labels"]["severity"], "critical");
    for t in ["startsAt", "endsAt"] {
        let s = alert[t].as_str().expect("time");
        assert!(chrono::DateTime::parse_from_rfc3339(s).is_ok(), "{s}");
    }
    assert!(alert["annotations"]["description"].is_string());
    app.stop().await;
}
