//! The analytics endpoints through the real server: answer shapes on the seeded dataset,
//! today's figures on the real clock, an empty database, refusals naming the parameter,
//! clamping, and the cursor.

use serde_json::Value;

use super::seed::{daily, metric, seed, session, user, utc};
use crate::common::{error_of, test_config, TestApp, TestDb};

/// Every analytics route, as the dashboard calls it without parameters.
const ROUTES: [&str; 11] = [
    "/api/v1/analytics/overview",
    "/api/v1/analytics/streams",
    "/api/v1/analytics/streams/breakdown",
    "/api/v1/analytics/watch-activity",
    "/api/v1/analytics/users/activity",
    "/api/v1/analytics/transcodes",
    "/api/v1/analytics/system",
    "/api/v1/analytics/system/history",
    "/api/v1/analytics/storage",
    "/api/v1/analytics/library-health",
    "/api/v1/analytics/trends",
];

/// The seeded data lies in March 2026: keep the reaper off it (the seeded active session
/// and running transcode would otherwise be closed as stale).
fn quiet_reaper() -> [&'static str; 4] {
    [
        "--stale-session-after",
        "3650d",
        "--stale-transcode-after",
        "3650d",
    ]
}

async fn get(app: &TestApp, path: &str) -> Value {
    let r = app.admin_get(path).send().await.expect("request");
    let status = r.status();
    let body = r.text().await.expect("body");
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).expect("JSON answer")
}

fn strs<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|e| e[key].as_str().expect("string field"))
        .collect()
}

#[tokio::test]
async fn endpoints_answer_the_seeded_figures_in_snake_case() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let s = seed(&c).await;
    let [s1, s2, s3, s4, s5, s6, s7] = s.sessions.map(|id| id.to_string());
    metric(&c, "alpha", utc("2026-03-29T11:00:00Z"), 30.0, 400.0).await;
    daily(&c, "2026-03-22", 5).await;
    daily(&c, "2026-03-25", 7).await;
    let app = TestApp::spawn(test_config(&db.url, &quiet_reaper())).await;

    let v = get(&app, "/api/v1/analytics/streams").await;
    assert_eq!(strs(&v["active"], "id"), vec![s4.as_str()]);
    assert_eq!(strs(&v["recent"], "id"), vec![&s1, &s2, &s3, &s5, &s6, &s7]);
    let a = &v["active"][0];
    assert_eq!(a["username"], "bob");
    assert_eq!(a["title"], "The Quiet Harbor");
    assert_eq!(a["media_type"], "movies");
    assert_eq!(a["playback_type"], "transcode");
    assert_eq!(
        (a["quality"].as_str(), a["codec"].as_str()),
        (Some("1080p"), Some("h264"))
    );
    assert_eq!(a["resolution"], "1080p");
    assert_eq!(
        (a["duration_seconds"].as_i64(), a["bytes_served"].as_i64()),
        (Some(120), Some(500))
    );
    assert_eq!(a["started_at"], "2026-03-29T11:50:00Z");
    assert!(a["ended_at"].is_null());
    assert_eq!(v["recent"][0]["ended_at"], "2026-03-29T11:30:00Z");

    let v = get(&app, "/api/v1/analytics/streams/breakdown?days=3660").await;
    assert_eq!(v["days"], 3660);
    assert_eq!(v["total"], 7);
    assert_eq!(
        strs(&v["types"], "playback_type"),
        vec!["direct_play", "direct_stream", "transcode"]
    );
    assert_eq!(v["types"][0]["count"], 4);
    assert_eq!(v["types"][0]["percent"], 57.14);

    let v = get(
        &app,
        &format!(
            "/api/v1/analytics/watch-activity?user_id={}&from=2026-03-23&to=2026-03-29&media_type=movie",
            s.bob
        ),
    )
    .await;
    assert_eq!(strs(&v["entries"], "session_id"), vec![s4.as_str()]);
    assert_eq!(v["entries"][0]["completion_status"], "in_progress");
    assert_eq!(v["limit"], 100);
    assert!(v["next_cursor"].is_null());
    let v = get(
        &app,
        "/api/v1/analytics/watch-activity?to=2026-03-28&media_type=episode",
    )
    .await;
    assert_eq!(
        strs(&v["entries"], "session_id"),
        vec![s3.as_str(), s7.as_str()]
    );
    assert_eq!(
        strs(&v["entries"], "completion_status"),
        vec!["unknown", "unknown"]
    );

    let v = get(&app, "/api/v1/analytics/users/activity").await;
    assert_eq!(strs(&v["users"], "username"), vec!["alice", "bob", "carol"]);
    let alice = &v["users"][0];
    assert_eq!(
        (
            alice["total_plays"].as_i64(),
            alice["watch_minutes"].as_i64()
        ),
        (Some(4), Some(180))
    );
    assert_eq!(alice["last_active"], "2026-03-29T11:30:00Z");
    assert_eq!(alice["favorite_genre"], "Drama");
    assert!(v["users"][2]["favorite_genre"].is_null());

    let v = get(&app, "/api/v1/analytics/transcodes?days=3660").await;
    assert_eq!(
        (
            v["total"].as_i64(),
            v["succeeded"].as_i64(),
            v["failed"].as_i64()
        ),
        (Some(5), Some(2), Some(2))
    );
    assert_eq!(v["in_progress"], 1);
    assert_eq!(v["success_rate_percent"], 50.0);
    assert_eq!(v["hw_accel_percent"], 60.0);
    assert_eq!(
        v["by_accelerator"][0],
        serde_json::json!({"name": "h264_nvenc", "count": 2})
    );
    assert_eq!(
        v["codec_distribution"][0],
        serde_json::json!({"name": "hevc → h264", "count": 3})
    );
    assert_eq!(
        v["recent"][1]["error_message"],
        "ffmpeg exited with status 1"
    );
    assert_eq!(v["recent"][1]["status"], "failed");

    let v = get(&app, "/api/v1/analytics/system?host=alpha").await;
    assert_eq!(v["hosts"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["hosts"][0]["host"], "alpha");
    assert_eq!(v["hosts"][0]["recorded_at"], "2026-03-29T11:00:00Z");
    assert_eq!(v["hosts"][0]["disk_free_gb"], 400.0);
    assert!(v["hosts"][0]["gpu_temp_celsius"].is_null());

    let v = get(&app, "/api/v1/analytics/storage").await;
    assert_eq!(v["total_items"], 4);
    assert_eq!(v["total_bytes"], 16_000_000_100_i64);
    assert_eq!(v["libraries"][1]["name"], "Movies");
    assert_eq!(v["libraries"][1]["item_count"], 2);
    assert!(v["libraries"][3]["library_id"].is_null());

    let v = get(&app, "/api/v1/analytics/library-health").await;
    let movies = &v["libraries"][1];
    assert_eq!(movies["name"], "Movies");
    assert_eq!(movies["metadata_completeness_percent"], 50.0);
    assert_eq!(movies["missing_poster"], 1);
    assert_eq!(movies["hdr_count"], 2);
    assert_eq!(movies["atmos_count"], 1);
    assert_eq!(
        movies["video_codecs"][0],
        serde_json::json!({"name": "h264", "count": 1})
    );

    let v = get(
        &app,
        "/api/v1/analytics/trends?from=2026-03-21&to=2026-03-31",
    )
    .await;
    assert_eq!(
        (v["from"].as_str(), v["to"].as_str()),
        (Some("2026-03-21"), Some("2026-03-31"))
    );
    assert_eq!(
        strs(&v["days"], "stat_date"),
        vec!["2026-03-22", "2026-03-25"]
    );
    assert_eq!(v["days"][1]["total_plays"], 7);
    app.stop().await;
}

#[tokio::test]
async fn overview_counts_what_happened_today_on_the_real_clock() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let s = seed(&c).await;
    // Started now, so today in any zone; active with a fresh report.
    let fresh = user(&c, "dave").await;
    session(
        &c,
        fresh,
        s.harbor,
        "direct_stream",
        &chrono::Utc::now().to_rfc3339(),
        30,
        777,
        true,
    )
    .await;
    let app = TestApp::spawn(test_config(&db.url, &quiet_reaper())).await;
    let v = get(&app, "/api/v1/analytics/overview").await;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive()
        .to_string();
    assert_eq!(v["today"], today.as_str());
    assert_eq!(
        (v["plays_today"].as_i64(), v["unique_users_today"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(v["bytes_served_today"], 777);
    assert_eq!(v["direct_streams_today"], 1);
    assert_eq!(v["active_streams"], 2); // this one and the seeded s4
    assert_eq!(v["active_transcodes"], 1);
    assert_eq!(
        (v["library_items"].as_i64(), v["library_bytes"].as_i64()),
        (Some(4), Some(16_000_000_100))
    );
    for key in [
        "cpu_percent",
        "memory_percent",
        "disk_total_gb",
        "disk_used_gb",
        "disk_free_gb",
    ] {
        assert!(v[key].is_number(), "{key} in {v}");
    }
    app.stop().await;
}

#[tokio::test]
async fn an_empty_database_answers_zeros_and_empty_lists() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &[])).await;
    for path in ROUTES {
        get(&app, path).await;
    }
    let v = get(&app, "/api/v1/analytics/overview").await;
    for key in [
        "active_streams",
        "active_transcodes",
        "plays_today",
        "plays_this_week",
        "unique_users_today",
        "bytes_served_today",
        "library_items",
        "library_bytes",
        "transcodes_today",
        "direct_plays_today",
        "transcode_failures_today",
    ] {
        assert_eq!(v[key], 0, "{key}");
    }
    let v = get(&app, "/api/v1/analytics/streams").await;
    assert_eq!(v, serde_json::json!({"active": [], "recent": []}));
    let v = get(&app, "/api/v1/analytics/streams/breakdown").await;
    assert_eq!(
        (v["days"].as_i64(), v["total"].as_i64()),
        (Some(30), Some(0))
    );
    assert_eq!(v["types"].as_array().map(Vec::len), Some(3));
    let v = get(&app, "/api/v1/analytics/watch-activity").await;
    assert_eq!(
        v,
        serde_json::json!({"limit": 100, "entries": [], "next_cursor": null})
    );
    let v = get(&app, "/api/v1/analytics/users/activity").await;
    assert_eq!(v, serde_json::json!({"users": []}));
    let v = get(&app, "/api/v1/analytics/transcodes").await;
    assert_eq!(
        (v["total"].as_i64(), v["success_rate_percent"].as_f64()),
        (Some(0), Some(0.0))
    );
    assert_eq!(v["recent"], serde_json::json!([]));
    let v = get(&app, "/api/v1/analytics/storage").await;
    assert_eq!(
        v,
        serde_json::json!({"total_items": 0, "total_bytes": 0, "libraries": []})
    );
    let v = get(&app, "/api/v1/analytics/library-health").await;
    assert_eq!(v, serde_json::json!({"libraries": []}));
    // The collector and the rollup start writing at once; a host and a range of their own
    // show the empty answers.
    let v = get(&app, "/api/v1/analytics/system?host=nobody").await;
    assert_eq!(v, serde_json::json!({"hosts": []}));
    let v = get(&app, "/api/v1/analytics/system/history?host=nobody").await;
    assert_eq!(
        (v["hours"].as_i64(), v["hosts"].as_array().map(Vec::len)),
        (Some(24), Some(0))
    );
    let v = get(
        &app,
        "/api/v1/analytics/trends?from=2020-01-01&to=2020-01-31",
    )
    .await;
    assert_eq!(v["days"], serde_json::json!([]));
    app.stop().await;
}

#[tokio::test]
async fn bad_parameters_are_refused_naming_them() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &[])).await;
    let cases = [
        ("streams/breakdown?days=abc", "days"),
        ("streams/breakdown?days=0", "days"),
        ("streams/breakdown?days=-5", "days"),
        ("streams/breakdown?days=", "days"),
        ("transcodes?days=2.5", "days"),
        ("transcodes?days=0", "days"),
        ("system/history?hours=x", "hours"),
        ("system/history?hours=0", "hours"),
        ("watch-activity?limit=many", "limit"),
        ("watch-activity?limit=0", "limit"),
        ("watch-activity?user_id=42", "user_id"),
        ("watch-activity?from=2026-02-30", "from"),
        ("watch-activity?to=03/01/2026", "to"),
        ("watch-activity?from=2026-03-02&to=2026-03-01", "from"),
        ("watch-activity?cursor=not-a-cursor", "cursor"),
        ("trends?from=2026-1-1", "from"),
        ("trends?to=tomorrow", "to"),
        ("trends?from=2026-03-02&to=2026-03-01", "from"),
        ("trends?from=2999-01-01", "from"),
    ];
    for (path, field) in cases {
        let r = app
            .admin_get(&format!("/api/v1/analytics/{path}"))
            .send()
            .await
            .expect("request");
        let (status, code, got) = error_of(r).await;
        assert_eq!((status, code.as_str()), (400, "invalid_request"), "{path}");
        assert_eq!(got.as_deref(), Some(field), "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn limits_and_hours_are_clamped() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let s = seed(&c).await;
    // 600 more sessions, a minute apart, and a week of per-minute readings for one host.
    c.execute(
        "INSERT INTO stream_sessions (user_id, media_item_id, started_at, is_active, ended_at)
         SELECT $1, $2, now() - g * interval '1 minute', false, now()
         FROM generate_series(1, 600) g",
        &[&s.alice, &s.storm],
    )
    .await
    .expect("sessions");
    c.execute(
        "INSERT INTO system_metrics (host, recorded_at, cpu_percent)
         SELECT 'dense', now() - g * interval '1 minute', g % 100
         FROM generate_series(0, 10079) g",
        &[],
    )
    .await
    .expect("metrics");
    let app = TestApp::spawn(test_config(&db.url, &quiet_reaper())).await;

    let v = get(&app, "/api/v1/analytics/watch-activity?limit=1000").await;
    assert_eq!(v["limit"], 500);
    assert_eq!(v["entries"].as_array().map(Vec::len), Some(500));
    assert!(v["next_cursor"].is_string());
    let v = get(&app, "/api/v1/analytics/watch-activity?limit=3").await;
    assert_eq!(v["entries"].as_array().map(Vec::len), Some(3));

    let v = get(
        &app,
        "/api/v1/analytics/system/history?hours=1000&host=dense",
    )
    .await;
    assert_eq!(v["hours"], 168);
    let points = v["hosts"][0]["points"].as_array().expect("points");
    assert!(
        points.len() <= 500 && points.len() >= 490,
        "{} points",
        points.len()
    );
    let samples: i64 = points.iter().filter_map(|p| p["samples"].as_i64()).sum();
    assert_eq!(samples, 10080, "every reading of the week is in one bucket");
    let v = get(&app, "/api/v1/analytics/system/history?hours=1&host=dense").await;
    let points = v["hosts"][0]["points"].as_array().expect("points");
    assert!((60..=61).contains(&points.len()), "{} points", points.len());
    let v = get(&app, "/api/v1/analytics/system/history?host=dense").await;
    assert_eq!(
        (v["hours"].as_i64(), v["bucket_seconds"].as_i64()),
        (Some(24), Some(174))
    );
    app.stop().await;
}

#[tokio::test]
async fn the_cursor_walks_every_session_once_newest_first() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let s = seed(&c).await;
    // Nine sessions share one start time: the id breaks the tie, so none is lost or repeated.
    c.execute(
        "INSERT INTO stream_sessions (user_id, media_item_id, started_at, is_active, ended_at)
         SELECT $1, $2, '2026-03-10T12:00:00Z', false, '2026-03-10T13:00:00Z'
         FROM generate_series(1, 9)",
        &[&s.carol, &s.harbor],
    )
    .await
    .expect("sessions");
    let app = TestApp::spawn(test_config(&db.url, &quiet_reaper())).await;

    let all = get(&app, "/api/v1/analytics/watch-activity?limit=500").await;
    let expected: Vec<String> = strs(&all["entries"], "session_id")
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(expected.len(), 16);
    let mut seen = Vec::new();
    let mut path = "/api/v1/analytics/watch-activity?limit=4".to_owned();
    let mut pages = 0;
    loop {
        let v = get(&app, &path).await;
        pages += 1;
        seen.extend(
            strs(&v["entries"], "session_id")
                .into_iter()
                .map(str::to_owned),
        );
        match v["next_cursor"].as_str() {
            Some(cur) => path = format!("/api/v1/analytics/watch-activity?limit=4&cursor={cur}"),
            None => break,
        }
    }
    assert_eq!(pages, 4);
    assert_eq!(seen, expected);
    // Newest first, ties by id descending.
    let starts: Vec<&str> = strs(&all["entries"], "started_at");
    assert!(starts.windows(2).all(|w| w[0] >= w[1]));

    // With a filter: carol's nine, in pages of two.
    let mut seen = 0;
    let mut cursor = String::new();
    loop {
        let v = get(
            &app,
            &format!(
                "/api/v1/analytics/watch-activity?user_id={}&limit=2&cursor={cursor}",
                s.carol
            ),
        )
        .await;
        seen += v["entries"].as_array().map(Vec::len).unwrap_or(0);
        match v["next_cursor"].as_str() {
            Some(cur) => cursor = cur.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, 9);
    app.stop().await;
}
