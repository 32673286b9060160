//! The ingest API end to end: a media server's reports become the spec's rows; retries and
//! late reports are harmless; bad reports are refused naming the field; a 2xx is committed.

use std::time::Duration;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{error_of, test_config, TestApp, TestDb, INGEST_TOKEN};

impl TestApp {
    pub async fn ingest(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> reqwest::Response {
        self.http
            .request(method, self.url(&format!("/api/v1/ingest{path}")))
            .bearer_auth(INGEST_TOKEN)
            .json(&body)
            .send()
            .await
            .expect("ingest request")
    }

    pub async fn post_ok(&self, path: &str, body: Value) {
        let r = self.ingest(reqwest::Method::POST, path, body).await;
        let status = r.status();
        assert!(
            status.is_success(),
            "{path}: {status} {}",
            r.text().await.unwrap_or_default()
        );
    }

    pub async fn put_ok(&self, path: &str, body: Value) {
        let r = self.ingest(reqwest::Method::PUT, path, body).await;
        let status = r.status();
        assert!(
            status.is_success(),
            "{path}: {status} {}",
            r.text().await.unwrap_or_default()
        );
    }

    pub async fn metrics_text(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    }
}

/// A user, a library and a media item through the catalogue upserts.
pub async fn catalogue(app: &TestApp) -> (Uuid, Uuid) {
    let (user, library, item) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    app.put_ok(
        "/users",
        json!({"id": user, "username": format!("u-{user}")}),
    )
    .await;
    app.put_ok(
        "/libraries",
        json!({"id": library, "name": "Movies", "library_type": "movies"}),
    )
    .await;
    app.put_ok(
        "/media-items",
        json!({"id": item, "library_id": library, "title": "The Quiet Harbor", "media_type": "movie",
               "genres": ["Drama", "Mystery"], "runtime_seconds": 6000, "video_codec": "hevc",
               "resolution": "2160p", "hdr_format": "HDR10", "file_size_bytes": 12_000_000_000_i64}),
    )
    .await;
    (user, item)
}

/// A metric's value in the text exposition, 0 when absent.
pub fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn a_session_is_started_reported_and_stopped_idempotently() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &[])).await;
    let (user, item) = catalogue(&app).await;
    let session = Uuid::new_v4();
    let start = json!({"id": session, "user_id": user, "media_item_id": item, "playback_type": "transcode",
                       "quality": "1080p", "codec": "h264", "resolution": "1080p", "container": "mpegts",
                       "client_info": "CineVault Android TV 2.4.1"});
    app.post_ok("/sessions", start.clone()).await;
    app.post_ok("/sessions", start).await; // a retry changes nothing
    app.post_ok(
        &format!("/sessions/{session}/progress"),
        json!({"bytes_served": 5_000_000, "duration_seconds": 60}),
    )
    .await;
    // A late, smaller report never moves figures backwards.
    app.post_ok(
        &format!("/sessions/{session}/progress"),
        json!({"bytes_served": 1_000, "duration_seconds": 10}),
    )
    .await;
    let c = db.client().await;
    let row = c
        .query_one("SELECT bytes_served, duration_seconds, is_active, playback_type, codec, client_info FROM stream_sessions WHERE id = $1", &[&session])
        .await
        .expect("row");
    assert_eq!(row.get::<_, i64>(0), 5_000_000);
    assert_eq!(row.get::<_, i32>(1), 60);
    assert!(row.get::<_, bool>(2));
    assert_eq!(row.get::<_, &str>(3), "transcode");
    assert_eq!(row.get::<_, &str>(5), "CineVault Android TV 2.4.1");

    app.post_ok(
        &format!("/sessions/{session}/stop"),
        json!({"bytes_served": 9_000_000, "duration_seconds": 120}),
    )
    .await;
    let ended: chrono::DateTime<chrono::Utc> = c
        .query_one(
            "SELECT ended_at FROM stream_sessions WHERE id = $1",
            &[&session],
        )
        .await
        .expect("row")
        .get(0);
    // A repeated stop (even with a body-less request) changes nothing.
    let r = app
        .http
        .post(app.url(&format!("/api/v1/ingest/sessions/{session}/stop")))
        .bearer_auth(INGEST_TOKEN)
        .send()
        .await
        .expect("stop");
    assert!(r.status().is_success());
    let row = c
        .query_one("SELECT bytes_served, duration_seconds, is_active, ended_at FROM stream_sessions WHERE id = $1", &[&session])
        .await
        .expect("row");
    assert_eq!(row.get::<_, i64>(0), 9_000_000);
    assert_eq!(row.get::<_, i32>(1), 120);
    assert!(!row.get::<_, bool>(2));
    assert_eq!(row.get::<_, chrono::DateTime<chrono::Utc>>(3), ended);
    assert_eq!(
        c.query_one("SELECT count(*) FROM stream_sessions", &[])
            .await
            .expect("n")
            .get::<_, i64>(0),
        1
    );

    let m = app.metrics_text().await;
    assert_eq!(
        metric(
            &m,
            "cinevault_analytics_sessions_started_total{playback_type=\"transcode\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(&m, "cinevault_analytics_served_bytes_total"),
        9_000_000.0
    );
    assert_eq!(metric(&m, "cinevault_analytics_watch_seconds_total"), 120.0);
    app.stop().await;
}

#[tokio::test]
async fn bad_reports_are_refused_naming_the_field_and_store_nothing() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &[])).await;
    let (user, item) = catalogue(&app).await;
    let ghost = Uuid::new_v4();

    let r = app
        .ingest(
            reqwest::Method::POST,
            "/sessions",
            json!({"id": Uuid::new_v4(), "user_id": ghost, "media_item_id": item}),
        )
        .await;
    let status = r.status().as_u16();
    let body: Value = r.json().await.expect("json");
    assert_eq!(status, 422);
    assert_eq!(body["error"]["field"], "user_id");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains(&ghost.to_string()),
        "{body}"
    );

    let r = app
        .ingest(
            reqwest::Method::POST,
            "/sessions",
            json!({"id": Uuid::new_v4(), "user_id": user, "media_item_id": ghost}),
        )
        .await;
    let (status, _, field) = error_of(r).await;
    assert_eq!((status, field.as_deref()), (422, Some("media_item_id")));

    let r = app.ingest(reqwest::Method::POST, "/sessions", json!({"id": Uuid::new_v4(), "user_id": user, "media_item_id": item, "playback_type": "remux"})).await;
    let status = r.status().as_u16();
    let body: Value = r.json().await.expect("json");
    assert_eq!(status, 400);
    assert_eq!(body["error"]["field"], "playback_type");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("remux"));

    let r = app
        .ingest(
            reqwest::Method::POST,
            &format!("/sessions/{ghost}/progress"),
            json!({"bytes_served": 1, "duration_seconds": 1}),
        )
        .await;
    let (status, _, field) = error_of(r).await;
    assert_eq!((status, field.as_deref()), (404, Some("session_id")));

    let r = app
        .ingest(
            reqwest::Method::POST,
            "/sessions/not-a-uuid/stop",
            json!({}),
        )
        .await;
    let (status, _, field) = error_of(r).await;
    assert_eq!((status, field.as_deref()), (400, Some("id")));

    let r = app
        .ingest(
            reqwest::Method::POST,
            &format!("/transcodes/{ghost}/complete"),
            json!({"success": true}),
        )
        .await;
    let (status, _, field) = error_of(r).await;
    assert_eq!((status, field.as_deref()), (404, Some("transcode_id")));

    let r = app
        .ingest(
            reqwest::Method::POST,
            "/stream-errors",
            json!({"message": "boom"}),
        )
        .await;
    assert_eq!(error_of(r).await.0, 400);

    let c = db.client().await;
    for t in ["stream_sessions", "transcode_history", "stream_errors"] {
        let n: i64 = c
            .query_one(&format!("SELECT count(*) FROM {t}"), &[])
            .await
            .expect("count")
            .get(0);
        assert_eq!(n, 0, "{t}");
    }
    app.stop().await;
}

#[tokio::test]
async fn transcodes_and_stream_errors_are_recorded() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &[])).await;
    let (user, item) = catalogue(&app).await;
    let (ok, bad, session) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    for id in [ok, bad] {
        app.post_ok("/transcodes", json!({"id": id, "media_item_id": item, "user_id": user, "input_codec": "hevc",
            "output_codec": "h264", "input_resolution": "2160p", "output_resolution": "1080p", "hw_accel": "h264_nvenc", "quality": "1080p"})).await;
    }
    let c = db.client().await;
    let open: i64 = c
        .query_one(
            "SELECT count(*) FROM transcode_history WHERE completed_at IS NULL",
            &[],
        )
        .await
        .expect("n")
        .get(0);
    assert_eq!(open, 2, "both are active until completed");
    app.post_ok(
        &format!("/transcodes/{ok}/complete"),
        json!({"success": true, "duration_seconds": 30, "file_size_bytes": 123456}),
    )
    .await;
    app.post_ok(
        &format!("/transcodes/{bad}/complete"),
        json!({"success": false, "error_message": "NVENC: out of memory"}),
    )
    .await;
    // A repeated completion changes nothing.
    app.post_ok(
        &format!("/transcodes/{bad}/complete"),
        json!({"success": true}),
    )
    .await;
    let row = c.query_one("SELECT success, error_message, completed_at IS NOT NULL FROM transcode_history WHERE id = $1", &[&bad]).await.expect("row");
    assert!(!row.get::<_, bool>(0));
    assert_eq!(row.get::<_, &str>(1), "NVENC: out of memory");
    assert!(row.get::<_, bool>(2));
    let row = c.query_one("SELECT success, duration_seconds, file_size_bytes FROM transcode_history WHERE id = $1", &[&ok]).await.expect("row");
    assert!(row.get::<_, bool>(0));
    assert_eq!(row.get::<_, i32>(1), 30);
    assert_eq!(row.get::<_, i64>(2), 123456);

    app.post_ok(
        "/sessions",
        json!({"id": session, "user_id": user, "media_item_id": item}),
    )
    .await;
    app.post_ok(
        "/stream-errors",
        json!({"session_id": session, "message": "client disconnected: broken pipe"}),
    )
    .await;
    let row = c
        .query_one(
            "SELECT user_id, media_item_id, message FROM stream_errors",
            &[],
        )
        .await
        .expect("row");
    assert_eq!(row.get::<_, Uuid>(0), user, "filled from the session");
    assert_eq!(row.get::<_, Uuid>(1), item);

    let m = app.metrics_text().await;
    assert_eq!(metric(&m, "cinevault_analytics_transcodes_completed_total{result=\"success\",hw_accel=\"h264_nvenc\"}"), 1.0);
    assert_eq!(metric(&m, "cinevault_analytics_transcodes_completed_total{result=\"failure\",hw_accel=\"h264_nvenc\"}"), 1.0);
    assert_eq!(metric(&m, "cinevault_analytics_stream_errors_total"), 1.0);
    app.stop().await;
}

#[tokio::test]
async fn a_batch_is_all_or_nothing_and_names_the_bad_event() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &[])).await;
    let (user, item) = catalogue(&app).await;
    let (s1, s2) = (Uuid::new_v4(), Uuid::new_v4());
    let bad = json!({"events": [
        {"type": "session_start", "id": s1, "user_id": user, "media_item_id": item},
        {"type": "session_progress", "session_id": s1, "bytes_served": 10, "duration_seconds": 5},
        {"type": "session_start", "id": s2, "user_id": Uuid::new_v4(), "media_item_id": item},
    ]});
    let r = app.ingest(reqwest::Method::POST, "/batch", bad).await;
    let (status, _, field) = error_of(r).await;
    assert_eq!((status, field.as_deref()), (422, Some("events[2].user_id")));
    let c = db.client().await;
    let n: i64 = c
        .query_one("SELECT count(*) FROM stream_sessions", &[])
        .await
        .expect("n")
        .get(0);
    assert_eq!(n, 0, "nothing of a refused batch is stored");

    let good = json!({"events": [
        {"type": "session_start", "id": s1, "user_id": user, "media_item_id": item, "playback_type": "direct_play"},
        {"type": "session_progress", "session_id": s1, "bytes_served": 10, "duration_seconds": 5},
        {"type": "stream_error", "session_id": s1, "message": "read timeout"},
        {"type": "session_stop", "session_id": s1, "duration_seconds": 9},
    ]});
    let r = app.ingest(reqwest::Method::POST, "/batch", good).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.expect("json")["events"], 4);
    let row = c
        .query_one(
            "SELECT bytes_served, duration_seconds, is_active FROM stream_sessions WHERE id = $1",
            &[&s1],
        )
        .await
        .expect("row");
    assert_eq!(
        (
            row.get::<_, i64>(0),
            row.get::<_, i32>(1),
            row.get::<_, bool>(2)
        ),
        (10, 9, false)
    );

    let r = app
        .ingest(reqwest::Method::POST, "/batch", json!({"events": []}))
        .await;
    assert_eq!(error_of(r).await.2.as_deref(), Some("events"));
    app.stop().await;
}

#[tokio::test]
async fn concurrent_clients_are_group_committed_and_every_acknowledged_event_is_stored() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &[])).await;
    let (user, item) = catalogue(&app).await;
    let clients = 32;
    let per_client = 20;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, url) = (app.http.clone(), app.url("/api/v1/ingest/sessions"));
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for _ in 0..per_client {
                let id = Uuid::new_v4();
                let r = http
                    .post(&url)
                    .bearer_auth(INGEST_TOKEN)
                    .json(&json!({"id": id, "user_id": user, "media_item_id": item}))
                    .send()
                    .await
                    .expect("send");
                if r.status().is_success() {
                    acked.push(id);
                }
            }
            acked
        }));
    }
    let mut acked = Vec::new();
    for t in tasks {
        acked.extend(t.await.expect("client"));
    }
    assert_eq!(
        acked.len(),
        clients * per_client,
        "every request was acknowledged"
    );
    let c = db.client().await;
    let stored: i64 = c
        .query_one(
            "SELECT count(*) FROM stream_sessions WHERE id = ANY($1)",
            &[&acked],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(stored as usize, acked.len());
    let m = app.metrics_text().await;
    let batches = metric(&m, "cinevault_analytics_ingest_batches_total");
    let events = metric(&m, "cinevault_analytics_ingest_batch_events_sum");
    // Catalogue upserts (3) plus the sessions went through the writers.
    assert_eq!(events as usize, acked.len() + 3);
    assert!(
        batches <= events,
        "{batches} transactions for {events} events"
    );
    tokio::time::sleep(Duration::from_millis(1)).await;
    app.stop().await;
}

#[tokio::test]
async fn user_activity_follows_ingest_at_once_including_a_genre_edit() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &[])).await;
    let (user, item) = catalogue(&app).await; // Drama, Mystery
    let other = Uuid::new_v4();
    app.put_ok(
        "/media-items",
        json!({"id": other, "title": "Storm", "media_type": "movie", "genres": ["Action"]}),
    )
    .await;
    for (id, it, secs) in [
        (Uuid::new_v4(), item, 600),
        (Uuid::new_v4(), item, 300),
        (Uuid::new_v4(), other, 120),
    ] {
        app.post_ok(
            "/sessions",
            json!({"id": id, "user_id": user, "media_item_id": it, "playback_type": "direct_play"}),
        )
        .await;
        app.post_ok(
            &format!("/sessions/{id}/stop"),
            json!({"bytes_served": 1, "duration_seconds": secs}),
        )
        .await;
    }
    let activity = || async {
        let body: Value = app
            .admin_get("/api/v1/analytics/users/activity")
            .send()
            .await
            .expect("users")
            .json()
            .await
            .expect("json");
        body["users"][0].clone()
    };
    let u = activity().await;
    assert_eq!(u["user_id"], json!(user));
    assert_eq!(u["total_plays"], 3);
    assert_eq!(u["watch_minutes"], 17); // 1020 s
    assert_eq!(u["favorite_genre"], "Drama"); // Drama 2 = Mystery 2 > Action 1; by name

    // The media server re-tags the item: its two plays move to the new genre at once.
    app.put_ok(
        "/media-items",
        json!({"id": item, "title": "The Quiet Harbor", "media_type": "movie",
               "genres": ["Thriller", "Action"]}),
    )
    .await;
    let u = activity().await;
    assert_eq!(u["favorite_genre"], "Action"); // Action 3 > Thriller 2
    let stored: i64 = db
        .client()
        .await
        .query_one(
            "SELECT COALESCE(sum(plays), 0)::int8 FROM (SELECT plays FROM user_genre_plays WHERE genre = 'Drama'
             UNION ALL SELECT plays FROM user_genre_deltas WHERE genre = 'Drama') d",
            &[],
        )
        .await
        .expect("drama")
        .get(0);
    assert_eq!(stored, 0, "no play is left under the old genre");
}
