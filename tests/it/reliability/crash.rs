//! The real binary killed under ingest load. SIGKILL: nothing acknowledged is lost, and the
//! restarted process serves and takes reports again. SIGTERM: requests in flight finish
//! (a slow one included), every acknowledged event is stored, the process exits 0 within 10 s.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{eventually, Binary};
use crate::alerts::receiver::{Receiver, Reply};
use crate::common::{TestDb, ADMIN_TOKEN, INGEST_TOKEN};

async fn catalogue(http: &reqwest::Client, bin: &Binary) -> (Uuid, Uuid) {
    let (user, item) = (Uuid::new_v4(), Uuid::new_v4());
    for (path, body) in [
        ("/users", json!({"id": user, "username": "crash-test"})),
        (
            "/media-items",
            json!({"id": item, "title": "Crash Course", "media_type": "movie"}),
        ),
    ] {
        let r = http
            .put(bin.url(&format!("/api/v1/ingest{path}")))
            .bearer_auth(INGEST_TOKEN)
            .json(&body)
            .send()
            .await
            .expect("catalogue");
        assert_eq!(r.status(), 200);
    }
    (user, item)
}

/// Clients reporting single session starts and batches of 50 until `stop` or the server
/// goes away; every id the server acknowledged is recorded.
fn load(
    base: String,
    user: Uuid,
    item: Uuid,
    stop: CancellationToken,
) -> (Arc<Mutex<BTreeSet<Uuid>>>, Vec<tokio::task::JoinHandle<()>>) {
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let tasks = (0..8)
        .map(|n| {
            let (base, acked, stop) = (base.clone(), acked.clone(), stop.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_secs(15))
                    .build()
                    .expect("client");
                let mut failures = 0;
                while !stop.is_cancelled() && failures < 20 {
                    let batch = n % 2 == 0;
                    let ids: Vec<Uuid> = (0..if batch { 50 } else { 1 })
                        .map(|_| Uuid::new_v4())
                        .collect();
                    let req = if batch {
                        let events: Vec<_> = ids
                            .iter()
                            .map(|id| json!({"type": "session_start", "id": id, "user_id": user, "media_item_id": item}))
                            .collect();
                        http.post(format!("{base}/api/v1/ingest/batch"))
                            .json(&json!({ "events": events }))
                    } else {
                        http.post(format!("{base}/api/v1/ingest/sessions"))
                            .json(&json!({"id": ids[0], "user_id": user, "media_item_id": item}))
                    };
                    match req.bearer_auth(INGEST_TOKEN).send().await {
                        Ok(r) if r.status() == 200 => {
                            acked.lock().expect("acked").extend(ids);
                        }
                        Ok(r) => panic!("unexpected answer {}", r.status()),
                        // The server is gone (killed, or closed while stopping).
                        Err(_) => {
                            failures += 1;
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
            })
        })
        .collect();
    (acked, tasks)
}

async fn stored(c: &tokio_postgres::Client) -> BTreeSet<Uuid> {
    c.query("SELECT id FROM stream_sessions", &[])
        .await
        .expect("sessions")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn sigkill_under_ingest_load_loses_no_acknowledged_event_and_restarts() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let http = reqwest::Client::new();
    let mut bin = Binary::start(&db.url, &[]);
    bin.wait_ready(&http).await;
    let (user, item) = catalogue(&http, &bin).await;
    let stop = CancellationToken::new();
    let (acked, tasks) = load(bin.base.clone(), user, item, stop.clone());
    eventually("load to be under way", Duration::from_secs(20), || async {
        acked.lock().expect("acked").len() >= 2000
    })
    .await;
    bin.signal("KILL");
    let status = bin.wait_exit(Duration::from_secs(5)).await;
    assert!(!status.success());
    stop.cancel();
    for t in tasks {
        t.await.expect("client task");
    }
    let acked = acked.lock().expect("acked").clone();
    let in_db = stored(&c).await;
    let missing: Vec<_> = acked.difference(&in_db).take(5).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged events lost after SIGKILL, e.g. {missing:?}",
        acked.difference(&in_db).count(),
        acked.len()
    );
    bin.assert_no_secrets(&[]);

    // Restarted on the same database: serves, and takes reports again.
    let restarted = Binary::start(&db.url, &[]);
    restarted.wait_ready(&http).await;
    let r = http
        .get(restarted.url("/api/v1/analytics/overview"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("overview");
    assert_eq!(r.status(), 200);
    let id = Uuid::new_v4();
    let r = http
        .post(restarted.url("/api/v1/ingest/sessions"))
        .bearer_auth(INGEST_TOKEN)
        .json(&json!({"id": id, "user_id": user, "media_item_id": item}))
        .send()
        .await
        .expect("ingest");
    assert_eq!(r.status(), 200);
    assert!(stored(&c).await.contains(&id));
    eprintln!(
        "sigkill: {} acknowledged before the kill, {} stored",
        acked.len(),
        in_db.len()
    );
}

#[tokio::test]
async fn sigterm_under_load_finishes_in_flight_requests_and_exits_within_10_s() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let rx = Receiver::start().await;
    let mut bin = Binary::start(
        &db.url,
        &["--webhook-allow-loopback", "--alert-interval", "1h"],
    );
    bin.wait_ready(&http).await;
    let (user, item) = catalogue(&http, &bin).await;
    // A request that takes 3 s: a channel test to a receiver that answers slowly.
    rx.always(Reply::Delay(Duration::from_secs(3)));
    let hook = rx.url("/hook/T0000/B0000/aVerySecretWebhookToken");
    let r = http
        .post(bin.url("/api/v1/notifications/channels"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"name": "slow", "channel_type": "generic", "webhook_url": hook}))
        .send()
        .await
        .expect("channel");
    assert_eq!(r.status(), 201);
    let channel: serde_json::Value = r.json().await.expect("json");
    let test_url = bin.url(&format!(
        "/api/v1/notifications/channels/{}/test",
        channel["id"].as_str().expect("id")
    ));

    let stop = CancellationToken::new();
    let (acked, tasks) = load(bin.base.clone(), user, item, stop.clone());
    eventually("load to be under way", Duration::from_secs(20), || async {
        acked.lock().expect("acked").len() >= 500
    })
    .await;
    let slow: Vec<_> = (0..3)
        .map(|_| {
            let (http, url) = (http.clone(), test_url.clone());
            tokio::spawn(async move {
                http.post(url)
                    .bearer_auth(ADMIN_TOKEN)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            })
        })
        .collect();
    rx.wait_for(3, Duration::from_secs(10), |_| true).await;
    bin.signal("TERM");
    let termed = Instant::now();
    let status = bin.wait_exit(Duration::from_secs(10)).await;
    let took = termed.elapsed();
    assert!(status.success(), "exit status {status:?}");
    for s in slow {
        let answer = s.await.expect("slow request task");
        assert!(
            matches!(answer, Ok(200)),
            "a request in flight at SIGTERM did not finish: {answer:?}"
        );
    }
    assert!(
        took >= Duration::from_secs(2),
        "did not wait for in-flight requests: {took:?}"
    );
    stop.cancel();
    for t in tasks {
        t.await.expect("client task");
    }
    let acked = acked.lock().expect("acked").clone();
    let in_db = stored(&c).await;
    assert!(
        acked.is_subset(&in_db),
        "{} acknowledged events missing after SIGTERM",
        acked.difference(&in_db).count()
    );
    let logs = bin.logs();
    assert!(
        logs.contains("SIGTERM received") && logs.contains("stopped"),
        "{logs}"
    );
    bin.assert_no_secrets(&[&hook, "aVerySecretWebhookToken"]);
    eprintln!(
        "sigterm: exited in {took:?}, {} acknowledged events all stored",
        acked.len()
    );
}
