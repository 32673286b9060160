//! Webhook receivers that misbehave in every way at once (slow, never answering, gone,
//! redirecting in a loop or to the metadata service, 429 for an hour, 500 for ever, huge
//! bodies): the evaluator keeps its schedule, the healthy receiver gets every alert on time,
//! each failure is one `alert_log` row with its reason, and nothing is marked delivered that
//! was not.

use std::time::Duration;

use serde_json::json;

use crate::alerts::receiver::{Receiver, Reply};
use crate::alerts::{channel, evaluations, log_of, rule, stream_errors};
use crate::common::{test_config, TestApp, TestDb};

#[tokio::test]
async fn misbehaving_receivers_never_delay_the_schedule_or_the_healthy_receiver() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    // An evaluation every 4 s: 1 s per attempt and 3 s per delivery (retry.rs), so every
    // delivery, however bad its receiver, ends before the next evaluation is due.
    let app = TestApp::spawn(test_config(
        &db.url,
        &[
            "--webhook-allow-loopback",
            "--alert-interval",
            "4s",
            "--gpu",
            "off",
            "--media-path",
            "/nonexistent/cinevault-receiver-tests",
        ],
    ))
    .await;
    stream_errors(&c, 1, 0).await;

    let healthy = Receiver::start().await;
    let bad = Receiver::start().await;
    let dead = {
        // A port nobody listens on any more: connection refused.
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        drop(l);
        format!("http://127.0.0.1:{port}/hook")
    };
    let routes: Vec<(&str, String, Reply)> = vec![
        (
            "slow",
            bad.url("/slow"),
            Reply::Delay(Duration::from_secs(30)),
        ),
        ("hang", bad.url("/hang"), Reply::Hang),
        ("loop", bad.url("/loop"), Reply::Redirect(bad.url("/loop"))),
        (
            "metadata",
            bad.url("/metadata"),
            Reply::Redirect("http://169.254.169.254/latest/meta-data/".into()),
        ),
        (
            "limited",
            bad.url("/limited"),
            Reply::RetryAfter(429, "3600"),
        ),
        ("broken", bad.url("/broken"), Reply::Status(500)),
        (
            "huge-500",
            bad.url("/huge-500"),
            Reply::Huge(500, 20 * 1024 * 1024),
        ),
        (
            "huge-200",
            bad.url("/huge-200"),
            Reply::Huge(200, 20 * 1024 * 1024),
        ),
        ("dead", dead, Reply::Status(200)),
    ];
    // The receiver answers by path: one per misbehaviour.
    bad.route(
        routes
            .iter()
            .map(|(n, _, reply)| (format!("/{n}"), reply.clone())),
    );
    let mut rules = Vec::new();
    for (name, url, _) in &routes {
        let ch = channel(&app, "generic", url).await;
        let r = rule(
            &app,
            json!({"name": name, "condition_type": "stream_error", "cooldown_minutes": 0, "channel_id": ch}),
        )
        .await;
        rules.push((*name, r));
    }
    let good_ch = channel(&app, "slack", &healthy.url("/services/T/B/ok")).await;
    let good = rule(
        &app,
        json!({"name": "healthy", "condition_type": "stream_error", "cooldown_minutes": 0, "channel_id": good_ch}),
    )
    .await;

    // Four evaluations' worth of alerts reach the healthy receiver, one per evaluation, on
    // the 4 s schedule despite the others.
    let hits = healthy.wait_for(4, Duration::from_secs(40), |_| true).await;
    let gaps: Vec<Duration> = hits
        .windows(2)
        .map(|w| w[1].at.duration_since(w[0].at))
        .collect();
    for gap in &gaps {
        assert!(
            // 4 s, with room for a machine busy running the rest of the suite.
            *gap >= Duration::from_millis(2500) && *gap <= Duration::from_millis(6500),
            "the healthy receiver's alerts came {gaps:?} apart, not every 4 s"
        );
    }
    assert!(
        evaluations(&app, "failed").await == 0.0,
        "an evaluation failed"
    );

    // Every delivery has its one final row; only the healthy and the huge-200 ones succeed.
    let good_log = log_of(&c, good).await;
    assert!(
        good_log.len() >= 3 && good_log.iter().all(|r| r.0),
        "{good_log:?}"
    );
    for (name, r) in &rules {
        let log = log_of(&c, *r).await;
        assert!(!log.is_empty(), "{name}: no alert_log row");
        let (success, status, _, _, error) = &log[0];
        let error = error.clone().unwrap_or_default();
        match *name {
            "huge-200" => assert!(*success, "{name}: {log:?}"),
            "slow" | "hang" => {
                assert!(!success && status.is_none(), "{name}: {log:?}");
                assert!(error.contains("no answer within"), "{name}: {error}");
            }
            "loop" => assert!(!success && error.contains("redirect"), "{name}: {error}"),
            "metadata" => assert!(
                !success && error.contains("address policy"),
                "{name}: {error}"
            ),
            "limited" => assert!(
                !success && *status == Some(429) && error.contains("retry after"),
                "{name}: {error}"
            ),
            "broken" | "huge-500" => {
                assert!(!success && *status == Some(500), "{name}: {log:?}");
                assert!(error.len() <= 400, "{name}: the detail is short");
            }
            "dead" => assert!(!success && status.is_none(), "{name}: {log:?}"),
            other => unreachable!("{other}"),
        }
        let delivered: Option<chrono::DateTime<chrono::Utc>> = c
            .query_one(
                "SELECT max(last_triggered_at) FROM alert_rule_state WHERE rule_id = $1",
                &[r],
            )
            .await
            .expect("state")
            .get(0);
        assert_eq!(
            delivered.is_some(),
            *name == "huge-200",
            "{name}: marked delivered only when it was"
        );
    }
    // Nobody followed a redirect to the metadata address, and the loop was cut short.
    assert!(bad.hits_on("/loop").len() <= 4 * 5 * log_of(&c, rules[2].1).await.len());
    app.stop().await;
}
