//! PostgreSQL goes away for 30 s while the media server is reporting, the collector is
//! collecting and the evaluator is evaluating. The test owns "the database server" through a
//! TCP proxy that cuts every connection and refuses new ones, as a stopped server does.
//! Requests answer 503 promptly, /readyz says not ready, nothing hangs; when the database is
//! back the sidecar recovers by itself, and after the clients' retries every event is in the
//! database exactly once.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use super::eventually;
use crate::alerts::receiver::Receiver;
use crate::alerts::{channel, evaluations, rule};
use crate::common::{db_socket_addr, test_config, DbProxy, TestApp, TestDb, INGEST_TOKEN};
use crate::ingest::{catalogue, metric};

const OUTAGE: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Tally {
    acknowledged: BTreeSet<Uuid>,
    /// Refused with a 503 (or no answer): to be sent again once the database is back.
    pending: Vec<Uuid>,
    slowest_refusal: Duration,
    other: Vec<String>,
}

/// A media server reporting session starts until `stop`, each with a fresh id.
async fn reporter(
    app_base: String,
    user: Uuid,
    item: Uuid,
    tally: Arc<Mutex<Tally>>,
    stop: tokio_util::sync::CancellationToken,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    while !stop.is_cancelled() {
        let id = Uuid::new_v4();
        let started = Instant::now();
        let r = http
            .post(format!("{app_base}/api/v1/ingest/sessions"))
            .bearer_auth(INGEST_TOKEN)
            .json(&json!({"id": id, "user_id": user, "media_item_id": item}))
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

#[tokio::test]
async fn a_30_second_database_outage_is_survived_without_losing_or_doubling_an_event() {
    let db = TestDb::migrated().await;
    let direct = db.client().await;
    let proxy = DbProxy::start(db_socket_addr(&db.url)).await;
    let rx = Receiver::start().await;
    let app = TestApp::spawn(test_config(
        &proxy.url_through(&db.url),
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
    let (user, item) = catalogue(&app).await;
    let ch = channel(&app, "generic", &rx.url("/hook")).await;
    rule(
        &app,
        json!({"name": "Errors", "condition_type": "stream_error", "channel_id": ch}),
    )
    .await;

    let tally = Arc::new(Mutex::new(Tally::default()));
    let stop = tokio_util::sync::CancellationToken::new();
    let reporters: Vec<_> = (0..4)
        .map(|_| {
            tokio::spawn(reporter(
                app.base.clone(),
                user,
                item,
                tally.clone(),
                stop.clone(),
            ))
        })
        .collect();
    eventually(
        "some events acknowledged",
        Duration::from_secs(10),
        || async { tally.lock().expect("tally").acknowledged.len() >= 20 },
    )
    .await;

    proxy.set_down(true);
    let down_at = Instant::now();
    let rows_before: i64 = direct
        .query_one("SELECT count(*) FROM system_metrics", &[])
        .await
        .expect("count")
        .get(0);
    eventually(
        "/readyz to say not ready",
        Duration::from_secs(10),
        || async {
            matches!(app.http.get(app.url("/readyz")).send().await, Ok(r) if r.status() == 503)
        },
    )
    .await;
    // Something the evaluator will alert on once it can see it again.
    crate::alerts::stream_errors(&direct, 1, 0).await;
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
    let failed_evaluations = evaluations(&app, "failed").await;
    assert!(
        failed_evaluations >= 1.0,
        "the evaluator noticed the outage"
    );
    let refused_during = tally.lock().expect("tally").pending.len();
    assert!(
        refused_during > 0,
        "no request was refused during the outage"
    );

    proxy.set_down(false);
    let up_at = Instant::now();
    eventually(
        "/readyz to say ready again",
        Duration::from_secs(30),
        || async {
            matches!(app.http.get(app.url("/readyz")).send().await, Ok(r) if r.status() == 200)
        },
    )
    .await;
    let recovered_in = up_at.elapsed();
    // Reports are acknowledged again, the collector writes again, the alert goes out.
    let acked_at_recovery = tally.lock().expect("tally").acknowledged.len();
    eventually(
        "reports acknowledged again",
        Duration::from_secs(20),
        || async { tally.lock().expect("tally").acknowledged.len() >= acked_at_recovery + 20 },
    )
    .await;
    eventually(
        "the collector to write again",
        Duration::from_secs(20),
        || async {
            let n: i64 = direct
                .query_one("SELECT count(*) FROM system_metrics", &[])
                .await
                .expect("count")
                .get(0);
            n > rows_before + 1
        },
    )
    .await;
    rx.wait_for(1, Duration::from_secs(20), |_| true).await;
    stop.cancel();
    for r in reporters {
        r.await.expect("reporter");
    }

    // The media server sends again what was refused; retries are harmless.
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
    for id in &pending {
        app.post_ok(
            "/sessions",
            json!({"id": id, "user_id": user, "media_item_id": item}),
        )
        .await;
    }
    // And a few acknowledged ones again, as a client that lost the answer would.
    for id in acknowledged.iter().take(10) {
        app.post_ok(
            "/sessions",
            json!({"id": id, "user_id": user, "media_item_id": item}),
        )
        .await;
    }
    let stored: Vec<Uuid> = direct
        .query("SELECT id FROM stream_sessions", &[])
        .await
        .expect("sessions")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let stored_set: BTreeSet<Uuid> = stored.iter().copied().collect();
    assert_eq!(stored.len(), stored_set.len(), "an event stored twice");
    let sent: BTreeSet<Uuid> = acknowledged.iter().chain(&pending).copied().collect();
    assert!(
        acknowledged.is_subset(&stored_set),
        "acknowledged events missing: {:?}",
        acknowledged
            .difference(&stored_set)
            .take(5)
            .collect::<Vec<_>>()
    );
    assert_eq!(stored_set, sent, "stored events differ from those sent");
    // The per-user summaries (totals plus deltas not yet folded) count each play once.
    let plays: i64 = direct
        .query_one(
            "SELECT ((SELECT coalesce(sum(plays), 0) FROM user_activity_totals WHERE user_id = $1)
                  + (SELECT coalesce(sum(plays), 0) FROM user_activity_deltas WHERE user_id = $1))::bigint",
            &[&user],
        )
        .await
        .expect("summaries")
        .get(0);
    assert_eq!(plays, sent.len() as i64, "summaries count each play once");
    let text = app.metrics_text().await;
    assert_eq!(metric(&text, "cinevault_analytics_ready"), 1.0);
    eprintln!(
        "outage: {} acknowledged, {} refused during the outage, slowest refusal {slowest:?}, \
         ready again {recovered_in:?} after the database returned",
        acknowledged.len(),
        refused_during
    );
    app.stop().await;
}
