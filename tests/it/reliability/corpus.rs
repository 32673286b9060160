//! A hand-written corpus of bad input through every route: malformed and truncated JSON,
//! wrong types, huge bodies and numbers, negative and zero values, unknown enum values,
//! invalid and nil UUIDs, impossible dates. Each gets its documented 4xx with the JSON error
//! shape naming the field, and the database is unchanged by every refusal. Then SQL and
//! script fragments and unicode and control characters in every kind of string field are
//! stored byte for byte and shown back as JSON strings, never interpreted.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use super::fingerprint;
use crate::common::{test_config, TestApp, TestDb, ADMIN_TOKEN, INGEST_TOKEN};
use crate::ingest::catalogue;

const NIL: &str = "00000000-0000-0000-0000-000000000000";

/// One request of the corpus and what it must get.
struct Case {
    method: Method,
    path: String,
    body: Body,
    status: u16,
    /// The `error.field` the answer names (None: no field expected).
    field: Option<&'static str>,
}

enum Body {
    None,
    Json(Value),
    /// Sent as is with `Content-Type: application/json`.
    Raw(String),
    /// Sent with another content type.
    Typed(&'static str, String),
}

fn case(method: Method, path: &str, body: Body, status: u16, field: Option<&'static str>) -> Case {
    Case {
        method,
        path: path.to_owned(),
        body,
        status,
        field,
    }
}

fn post(path: &str, body: Value, status: u16, field: &'static str) -> Case {
    case(Method::POST, path, Body::Json(body), status, Some(field))
}

fn put(path: &str, body: Value, status: u16, field: &'static str) -> Case {
    case(Method::PUT, path, Body::Json(body), status, Some(field))
}

fn raw(method: Method, path: &str, body: &str, status: u16, field: Option<&'static str>) -> Case {
    case(method, path, Body::Raw(body.to_owned()), status, field)
}

fn get(path: &str, status: u16, field: &'static str) -> Case {
    case(Method::GET, path, Body::None, status, Some(field))
}

/// Merges `extra` into `base` (an object).
fn with(base: &Value, extra: Value) -> Value {
    let mut v = base.clone();
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        for (k, val) in e {
            o.insert(k.clone(), val.clone());
        }
    }
    v
}

fn without(base: &Value, key: &str) -> Value {
    let mut v = base.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove(key);
    }
    v
}

/// The malformed bodies every JSON route refuses as a 400 on `body` (or 415, 413).
fn malformed(method: Method, path: &str, valid: &Value) -> Vec<Case> {
    let text = valid.to_string();
    let truncated = &text[..text.len() / 2];
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let huge = format!(
        "{{\"padding\": \"{}\"}}",
        "x".repeat(3 * 1024 * 1024) // over the 2 MiB default limit
    );
    vec![
        raw(method.clone(), path, truncated, 400, Some("body")),
        // A key the type does not know is refused by name before its (missing) value.
        raw(method.clone(), path, "{\"id\": }", 400, None),
        raw(method.clone(), path, "not json at all", 400, Some("body")),
        raw(method.clone(), path, "", 400, Some("body")),
        raw(method.clone(), path, "null", 400, Some("body")),
        raw(method.clone(), path, "[]", 400, None),
        raw(method.clone(), path, "\"a string\"", 400, Some("body")),
        // serde reads a struct from an array too: refused on its first element.
        raw(method.clone(), path, &deep, 400, None),
        raw(
            method.clone(),
            path,
            &format!("{text} trailing"),
            400,
            Some("body"),
        ),
        raw(method.clone(), path, "{\"\u{0}\": 1}", 400, None),
        raw(method.clone(), path, &huge, 413, None),
        case(
            method.clone(),
            path,
            Body::Typed("text/plain", text.clone()),
            415,
            None,
        ),
        case(
            method,
            path,
            Body::Typed("application/x-www-form-urlencoded", "id=1".into()),
            415,
            None,
        ),
    ]
}

/// The refusals of the ingest routes. `user`, `item`, `session`, `transcode` exist.
fn ingest_cases(user: Uuid, item: Uuid, session: Uuid, transcode: Uuid) -> Vec<Case> {
    let ghost = Uuid::new_v4();
    // Fresh ids in every case: a repeated start of one id is a harmless retry, answered 200.
    let start = || json!({"id": Uuid::new_v4(), "user_id": user, "media_item_id": item});
    let progress = json!({"bytes_served": 10, "duration_seconds": 5});
    let tstart = || json!({"id": Uuid::new_v4(), "user_id": user, "media_item_id": item});
    let complete = json!({"success": false, "error_message": "x"});
    let usr = || json!({"id": Uuid::new_v4(), "username": "someone"});
    let lib = || json!({"id": Uuid::new_v4(), "name": "Films", "media_type": "movies"});
    let media = || json!({"id": Uuid::new_v4(), "title": "T", "media_type": "movie"});
    let p = |s: &str| format!("/api/v1/ingest{s}");
    let sp = p(&format!("/sessions/{session}/progress"));
    let ss = p(&format!("/sessions/{session}/stop"));
    let tc = p(&format!("/transcodes/{transcode}/complete"));

    let mut cases = Vec::new();
    for (m, path, valid) in [
        (Method::POST, p("/sessions"), &start()),
        (Method::POST, sp.clone(), &progress),
        (Method::POST, p("/transcodes"), &tstart()),
        (Method::POST, tc.clone(), &complete),
        (Method::PUT, p("/users"), &usr()),
        (Method::PUT, p("/libraries"), &lib()),
        (Method::PUT, p("/media-items"), &media()),
        (
            Method::POST,
            p("/batch"),
            &json!({"events": [with(&start(), json!({"type": "session_start"}))]}),
        ),
        (
            Method::POST,
            p("/stream-errors"),
            &json!({"session_id": session, "message": "m"}),
        ),
    ] {
        cases.extend(malformed(m, &path, valid));
    }
    let s = p("/sessions");
    cases.extend([
        post(&s, json!({}), 400, "id"),
        post(&s, without(&start(), "user_id"), 400, "user_id"),
        post(&s, with(&start(), json!({"id": 42})), 400, "id"),
        post(&s, with(&start(), json!({"id": "not-a-uuid"})), 400, "id"),
        post(&s, with(&start(), json!({"id": NIL})), 400, "id"),
        post(&s, with(&start(), json!({"id": "7d6a1b9e-8f8e-4c55-9a53-5f8f2b0c9d1"})), 400, "id"),
        post(&s, with(&start(), json!({"user_id": ghost})), 422, "user_id"),
        post(&s, with(&start(), json!({"media_item_id": ghost})), 422, "media_item_id"),
        post(&s, with(&start(), json!({"playback_type": "remux"})), 400, "playback_type"),
        post(&s, with(&start(), json!({"playback_type": "DIRECT_PLAY"})), 400, "playback_type"),
        post(&s, with(&start(), json!({"playback_type": 1})), 400, "playback_type"),
        post(&s, with(&start(), json!({"playback_type": null})), 400, "playback_type"),
        post(&s, with(&start(), json!({"quality": "q".repeat(21)})), 400, "quality"),
        post(&s, with(&start(), json!({"client_info": "c".repeat(256)})), 400, "client_info"),
        post(&s, with(&start(), json!({"codec": "h\u{0}264"})), 400, "codec"),
        post(&s, with(&start(), json!({"codec": ["h264"]})), 400, "codec"),
        post(&s, with(&start(), json!({"started_at": "2026-02-30T10:00:00Z"})), 400, "started_at"),
        post(&s, with(&start(), json!({"started_at": "2026-13-01T10:00:00Z"})), 400, "started_at"),
        post(&s, with(&start(), json!({"started_at": "2026-01-01 10:00"})), 400, "started_at"),
        post(&s, with(&start(), json!({"started_at": "1970-01-01T00:00:00Z"})), 400, "started_at"),
        post(&s, with(&start(), json!({"started_at": "9999-12-31T23:59:59Z"})), 400, "started_at"),
        post(&s, with(&start(), json!({"started_at": 1_700_000_000})), 400, "started_at"),
        post(&s, with(&start(), json!({"surprise": true})), 400, "surprise"),
        post(&sp, json!({"bytes_served": -1, "duration_seconds": 5}), 400, "bytes_served"),
        post(&sp, json!({"bytes_served": 1.5, "duration_seconds": 5}), 400, "bytes_served"),
        post(&sp, json!({"bytes_served": "10", "duration_seconds": 5}), 400, "bytes_served"),
        post(&sp, json!({"bytes_served": 10, "duration_seconds": 3_000_000_000_i64}), 400, "duration_seconds"),
        post(&sp, json!({"bytes_served": 10, "duration_seconds": -0.0}), 400, "duration_seconds"),
        raw(Method::POST, &sp, r#"{"bytes_served": 123456789012345678901234567890, "duration_seconds": 5}"#, 400, Some("bytes_served")),
        raw(Method::POST, &sp, r#"{"bytes_served": 1e400, "duration_seconds": 5}"#, 400, Some("bytes_served")),
        post(&sp, json!({"bytes_served": 10}), 400, "duration_seconds"),
        post(&sp, with(&progress, json!({"reported_at": "2026-02-29T00:00:00Z"})), 400, "reported_at"),
        post(&p(&format!("/sessions/{ghost}/progress")), progress.clone(), 404, "session_id"),
        post(&p("/sessions/not-a-uuid/progress"), progress.clone(), 400, "id"),
        post(&p(&format!("/sessions/{NIL}/progress")), progress.clone(), 400, "id"),
        post(&p("/sessions/%27%3B%20DROP%20TABLE%20users%3B--/progress"), progress.clone(), 400, "id"),
        post(&ss, json!({"ended_at": "2026-04-31T00:00:00Z"}), 400, "ended_at"),
        post(&ss, json!({"duration_seconds": -5}), 400, "duration_seconds"),
        raw(Method::POST, &ss, "{\"bytes_served\": ", 400, Some("body")),
        post(&p(&format!("/sessions/{ghost}/stop")), json!({}), 404, "session_id"),
        post(&p("/stream-errors"), json!({"message": "boom"}), 400, "session_id"),
        post(&p("/stream-errors"), json!({"session_id": session, "message": ""}), 400, "message"),
        post(&p("/stream-errors"), json!({"session_id": session, "message": "   "}), 400, "message"),
        post(&p("/stream-errors"), json!({"session_id": session, "message": "a\u{0}b"}), 400, "message"),
        post(&p("/stream-errors"), json!({"session_id": ghost, "message": "m"}), 422, "session_id"),
        post(&p("/stream-errors"), json!({"user_id": user, "media_item_id": ghost, "message": "m"}), 422, "media_item_id"),
        post(&p("/transcodes"), with(&tstart(), json!({"hw_accel": "h".repeat(51)})), 400, "hw_accel"),
        post(&p("/transcodes"), with(&tstart(), json!({"media_item_id": ghost})), 422, "media_item_id"),
        post(&tc, json!({"success": "yes"}), 400, "success"),
        post(&tc, json!({"success": true, "file_size_bytes": -1}), 400, "file_size_bytes"),
        post(&tc, json!({}), 400, "success"),
        post(&p(&format!("/transcodes/{ghost}/complete")), complete.clone(), 404, "transcode_id"),
        put(&p("/users"), with(&usr(), json!({"username": ""})), 400, "username"),
        put(&p("/users"), with(&usr(), json!({"username": "u".repeat(256)})), 400, "username"),
        put(&p("/users"), with(&usr(), json!({"is_admin": "true"})), 400, "is_admin"),
        put(&p("/users"), with(&usr(), json!({"created_at": "2026-02-29T12:00:00Z"})), 400, "created_at"),
        put(&p("/libraries"), json!({"id": Uuid::new_v4(), "name": "F", "library_type": "podcasts"}), 400, "library_type"),
        put(&p("/libraries"), with(&lib(), json!({"media_type": "podcasts"})), 400, "media_type"),
        put(&p("/libraries"), without(&lib(), "media_type"), 400, "media_type"),
        put(&p("/media-items"), with(&media(), json!({"media_type": "podcast"})), 400, "media_type"),
        put(&p("/media-items"), with(&media(), json!({"year": -1})), 400, "year"),
        put(&p("/media-items"), with(&media(), json!({"runtime_seconds": 99_999_999_999_i64})), 400, "runtime_seconds"),
        put(&p("/media-items"), with(&media(), json!({"genres": "Drama"})), 400, "genres"),
        put(&p("/media-items"), with(&media(), json!({"genres": ["Drama", ""]})), 400, "genres[1]"),
        put(&p("/media-items"), with(&media(), json!({"title": ""})), 400, "title"),
        put(&p("/media-items"), with(&media(), json!({"library_id": ghost})), 422, "library_id"),
        post(&p("/batch"), json!({"events": []}), 400, "events"),
        post(&p("/batch"), json!({"events": {}}), 400, "events"),
        post(&p("/batch"), json!({"events": [{"type": "party"}]}), 400, "events[0].type"),
        post(&p("/batch"), json!({"events": [{"id": user}]}), 400, "events[0].type"),
        post(
            &p("/batch"),
            json!({"events": (0..5001).map(|_| json!({"type": "session_stop", "session_id": session})).collect::<Vec<_>>()}),
            400,
            "events",
        ),
        // All or nothing: a good event before a bad one is not stored either.
        post(
            &p("/batch"),
            json!({"events": [with(&start(), json!({"type": "session_start"})),
                               {"type": "session_progress", "session_id": ghost, "bytes_served": 1, "duration_seconds": 1}]}),
            404,
            "events[1].session_id",
        ),
        post(
            &p("/batch"),
            json!({"events": [with(&usr(), json!({"type": "user"})),
                               with(&start(), json!({"type": "session_start", "user_id": ghost}))]}),
            422,
            "events[1].user_id",
        ),
    ]);
    cases
}

fn admin_cases(channel: Uuid, rule: Uuid) -> Vec<Case> {
    let ghost = Uuid::new_v4();
    let ch = json!({"name": "ops", "channel_type": "generic", "webhook_url": "https://hooks.example.com/x"});
    let ru = json!({"name": "disk", "condition_type": "disk_space_low", "threshold": 50, "channel_id": channel});
    let n = |s: &str| format!("/api/v1/notifications{s}");
    let chp = n(&format!("/channels/{channel}"));
    let rup = n(&format!("/alerts/{rule}"));
    let mut cases = Vec::new();
    for (m, path, valid) in [
        (Method::POST, n("/channels"), &ch),
        (Method::PUT, chp.clone(), &json!({"name": "x"})),
        (Method::POST, n("/alerts"), &ru),
        (Method::PUT, rup.clone(), &json!({"name": "x"})),
    ] {
        cases.extend(malformed(m, &path, valid));
    }
    let c = n("/channels");
    let a = n("/alerts");
    cases.extend([
        post(&c, with(&ch, json!({"name": ""})), 400, "name"),
        post(&c, with(&ch, json!({"name": "n".repeat(101)})), 400, "name"),
        post(&c, with(&ch, json!({"name": 7})), 400, "name"),
        post(
            &c,
            with(&ch, json!({"channel_type": "teams"})),
            400,
            "channel_type",
        ),
        post(
            &c,
            with(&ch, json!({"channel_type": "Discord"})),
            400,
            "channel_type",
        ),
        post(
            &c,
            with(&ch, json!({"webhook_url": "not a url"})),
            400,
            "webhook_url",
        ),
        post(
            &c,
            with(&ch, json!({"webhook_url": "javascript:alert(1)"})),
            400,
            "webhook_url",
        ),
        post(
            &c,
            with(
                &ch,
                json!({"webhook_url": "http://169.254.169.254/latest/meta-data/"}),
            ),
            400,
            "webhook_url",
        ),
        post(
            &c,
            with(
                &ch,
                json!({"webhook_url": format!("https://example.com/{}", "a".repeat(2100))}),
            ),
            400,
            "webhook_url",
        ),
        post(&c, with(&ch, json!({"events": []})), 400, "events"),
        post(
            &c,
            with(&ch, json!({"events": ["cpu_high"]})),
            400,
            "events",
        ),
        post(&c, with(&ch, json!({"events": "[\"all\""})), 400, "events"),
        post(&c, with(&ch, json!({"events": 5})), 400, "events"),
        post(
            &c,
            with(&ch, json!({"is_enabled": "true"})),
            400,
            "is_enabled",
        ),
        post(
            &c,
            with(&ch, json!({"signing_secret": "short"})),
            400,
            "signing_secret",
        ),
        post(
            &c,
            with(
                &ch,
                json!({"channel_type": "discord", "signing_secret": "s".repeat(32)}),
            ),
            400,
            "signing_secret",
        ),
        post(&c, without(&ch, "webhook_url"), 400, "webhook_url"),
        put(&n("/channels/not-a-uuid"), json!({"name": "x"}), 400, "id"),
        put(
            &n(&format!("/channels/{NIL}")),
            json!({"name": "x"}),
            400,
            "id",
        ),
        case(
            Method::PUT,
            &n(&format!("/channels/{ghost}")),
            Body::Json(json!({"name": "x"})),
            404,
            None,
        ),
        put(
            &chp,
            json!({"webhook_url": "https://hooks.example.com/…abcd"}),
            400,
            "webhook_url",
        ),
        put(&chp, json!({"is_enabled": null, "bogus": 1}), 400, "bogus"),
        case(
            Method::DELETE,
            &n("/channels/12345"),
            Body::None,
            400,
            Some("id"),
        ),
        case(
            Method::DELETE,
            &n(&format!("/channels/{ghost}")),
            Body::None,
            404,
            None,
        ),
        case(Method::DELETE, &chp, Body::None, 409, None),
        case(
            Method::POST,
            &n(&format!("/channels/{ghost}/test")),
            Body::None,
            404,
            None,
        ),
        case(
            Method::POST,
            &n("/channels/zzz/test"),
            Body::None,
            400,
            Some("id"),
        ),
        post(
            &a,
            with(&ru, json!({"condition_type": "cpu_high"})),
            400,
            "condition_type",
        ),
        post(
            &a,
            with(&ru, json!({"condition_type": null})),
            400,
            "condition_type",
        ),
        post(&a, with(&ru, json!({"threshold": -1})), 400, "threshold"),
        post(&a, with(&ru, json!({"threshold": "50"})), 400, "threshold"),
        post(&a, with(&ru, json!({"threshold": 1e39})), 400, "threshold"),
        raw(
            Method::POST,
            &a,
            &with(&ru, json!({"threshold": 1}))
                .to_string()
                .replace("\"threshold\":1", "\"threshold\":NaN"),
            400,
            Some("body"),
        ),
        post(
            &a,
            with(&ru, json!({"cooldown_minutes": -5})),
            400,
            "cooldown_minutes",
        ),
        post(
            &a,
            with(&ru, json!({"cooldown_minutes": 1.5})),
            400,
            "cooldown_minutes",
        ),
        post(
            &a,
            with(&ru, json!({"cooldown_minutes": 9_999_999_999_i64})),
            400,
            "cooldown_minutes",
        ),
        post(
            &a,
            with(&ru, json!({"channel_id": ghost})),
            422,
            "channel_id",
        ),
        post(
            &a,
            with(&ru, json!({"channel_id": "nope"})),
            400,
            "channel_id",
        ),
        post(&a, with(&ru, json!({"name": "r".repeat(101)})), 400, "name"),
        put(&rup, json!({"channel_id": ghost}), 422, "channel_id"),
        put(&rup, json!({"threshold": -0.5}), 400, "threshold"),
        case(
            Method::PUT,
            &n(&format!("/alerts/{ghost}")),
            Body::Json(json!({"name": "x"})),
            404,
            None,
        ),
        case(Method::DELETE, &n("/alerts/1"), Body::None, 400, Some("id")),
        case(
            Method::DELETE,
            &n(&format!("/alerts/{ghost}")),
            Body::None,
            404,
            None,
        ),
    ]);
    let an = |s: &str| format!("/api/v1/analytics{s}");
    for (path, field) in [
        (an("/streams/breakdown?days=-1"), "days"),
        (an("/streams/breakdown?days=0"), "days"),
        (an("/streams/breakdown?days=abc"), "days"),
        (an("/streams/breakdown?days=1.5"), "days"),
        (
            an("/streams/breakdown?days=99999999999999999999999"),
            "days",
        ),
        (an("/transcodes?days=-30"), "days"),
        (an("/system/history?hours=0"), "hours"),
        (an("/system/history?hours=-1"), "hours"),
        (an("/system/history?hours=%00"), "hours"),
        (an("/trends?from=2026-02-30"), "from"),
        (an("/trends?from=2026-13-01"), "from"),
        (an("/trends?to=yesterday"), "to"),
        (an("/trends?from=2026-03-10&to=2026-03-01"), "from"),
        (an("/watch-activity?user_id=42"), "user_id"),
        (an("/watch-activity?user_id=%27%20OR%201%3D1--"), "user_id"),
        (an("/watch-activity?limit=0"), "limit"),
        (an("/watch-activity?limit=-1"), "limit"),
        (an("/watch-activity?cursor=garbage"), "cursor"),
        (an("/watch-activity?from=2026-04-31"), "from"),
    ] {
        cases.push(get(&path, 400, field));
    }
    cases
}

async fn send(app: &TestApp, c: &Case) -> reqwest::Response {
    let token = if c.path.starts_with("/api/v1/ingest") {
        INGEST_TOKEN
    } else {
        ADMIN_TOKEN
    };
    let mut req = app
        .http
        .request(c.method.clone(), app.url(&c.path))
        .bearer_auth(token);
    req = match &c.body {
        Body::None => req,
        Body::Json(v) => req.json(v),
        Body::Raw(s) => req
            .header("content-type", "application/json")
            .body(s.clone()),
        Body::Typed(ct, s) => req.header("content-type", *ct).body(s.clone()),
    };
    req.send().await.expect("answered")
}

#[tokio::test]
async fn every_route_refuses_bad_input_with_its_documented_4xx_and_changes_nothing() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &["--collect-interval", "1h"])).await;
    let (user, item) = catalogue(&app).await;
    let (session, transcode) = (Uuid::new_v4(), Uuid::new_v4());
    app.post_ok(
        "/sessions",
        json!({"id": session, "user_id": user, "media_item_id": item}),
    )
    .await;
    app.post_ok(
        "/transcodes",
        json!({"id": transcode, "user_id": user, "media_item_id": item}),
    )
    .await;
    let channel = crate::alerts::channel(&app, "generic", "https://hooks.example.com/x").await;
    let rule = crate::alerts::rule(
        &app,
        json!({"name": "disk", "condition_type": "disk_space_low", "channel_id": channel}),
    )
    .await;
    let c = db.client().await;
    let before = fingerprint(&c).await;

    let mut cases = ingest_cases(user, item, session, transcode);
    cases.extend(admin_cases(channel, rule));
    let mut wrong = Vec::new();
    for case in &cases {
        let started = std::time::Instant::now();
        let resp = send(&app, case).await;
        let took = started.elapsed();
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = resp.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let field = body["error"]["field"].as_str();
        let shaped = ct.starts_with("application/json")
            && body["error"]["code"].is_string()
            && body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty());
        let field_ok = case.field.map_or(true, |f| field == Some(f));
        if status != case.status || !shaped || !field_ok || took > Duration::from_secs(5) {
            let shown: String = text.chars().take(300).collect();
            let sent = match &case.body {
                Body::Json(v) => v.to_string(),
                Body::Raw(s) | Body::Typed(_, s) => s.clone(),
                Body::None => String::new(),
            };
            let sent: String = sent.chars().take(160).collect();
            wrong.push(format!(
                "{} {} {sent} -> {status} field {field:?} in {took:?} (want {} {:?}): {shown}",
                case.method,
                case.path.chars().take(120).collect::<String>(),
                case.status,
                case.field
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases wrong:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
    assert_eq!(
        fingerprint(&c).await,
        before,
        "a refused request changed the database"
    );
    // Still serving, and the error was never a 5xx.
    let r = app
        .admin_get("/api/v1/status")
        .send()
        .await
        .expect("status");
    assert_eq!(r.status(), 200);
    // No 5xx was ever answered (the start-up wait polled /readyz, which says 503 until ready).
    let metrics = app.metrics_text().await;
    let server_errors: Vec<&str> = metrics
        .lines()
        .filter(|l| {
            l.starts_with("cinevault_analytics_http_requests_total")
                && l.contains("status=\"5")
                && !l.contains("route=\"/readyz\"")
        })
        .collect();
    assert!(server_errors.is_empty(), "{server_errors:?}");
    app.stop().await;
}

/// Strings that mean something to SQL, HTML, JavaScript, shells, terminals and Unicode.
fn hostile_strings() -> Vec<String> {
    vec![
        "'; DROP TABLE users; --".into(),
        "Robert'); DELETE FROM stream_sessions WHERE ('1'='1".into(),
        "\" OR \"\"=\"".into(),
        "$1 $$ $body$ \\x00 E'\\\\'".into(),
        "<script>alert('xss')</script>".into(),
        "<img src=x onerror=\"alert(1)\">".into(),
        "{{7*7}} ${7*7} `id` $(id)".into(),
        "Amélie — 千と千尋の神隠し 🎬👨‍👩‍👧".into(),
        "\u{202e}evil\u{202c} RTL override".into(),
        "zero\u{200b}width\u{feff}bom".into(),
        "tab\tnew\nline\rreturn\u{1b}[31mred\u{7}bell\u{7f}".into(),
        "\u{1}\u{2}\u{1f} low controls".into(),
        "%00 %27 %3Cscript%3E".into(),
        "../../etc/passwd".into(),
        "Ω".repeat(100),
    ]
}

#[tokio::test]
async fn hostile_strings_are_stored_exactly_and_shown_back_as_json_strings() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(
        &db.url,
        &["--collect-interval", "1h", "--webhook-allow-loopback"],
    ))
    .await;
    let c = db.client().await;
    let strings = hostile_strings();
    for (i, s) in strings.iter().enumerate() {
        let (user, library, item, session) = (
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
        );
        let short: String = s.chars().take(20).collect();
        app.put_ok("/users", json!({"id": user, "username": s}))
            .await;
        app.put_ok(
            "/libraries",
            json!({"id": library, "name": s, "library_type": "other"}),
        )
        .await;
        app.put_ok(
            "/media-items",
            json!({"id": item, "library_id": library, "title": s, "media_type": "movies",
                   "codec": short, "genres": [s.chars().take(100).collect::<String>()],
                   "overview": s, "file_path": s}),
        )
        .await;
        app.post_ok(
            "/sessions",
            json!({"id": session, "user_id": user, "media_item_id": item, "codec": short,
                   "client_info": s}),
        )
        .await;
        app.post_ok(
            "/stream-errors",
            json!({"session_id": session, "message": s}),
        )
        .await;
        let name: String = s.chars().take(100).collect();
        let ch = crate::alerts::create_channel(
            &app,
            json!({"name": name, "channel_type": "generic",
                   "webhook_url": format!("http://127.0.0.1:9/hook{i}")}),
        )
        .await;
        crate::alerts::rule(
            &app,
            json!({"name": name, "condition_type": "stream_error", "channel_id": ch, "is_enabled": false}),
        )
        .await;

        // Stored byte for byte.
        let row = c
            .query_one(
                "SELECT u.username::text, m.title::text, m.description, s.client_info::text,
                        e.message
                 FROM users u, media_items m, stream_sessions s, stream_errors e
                 WHERE u.id = $1 AND m.id = $2 AND s.id = $3 AND e.session_id = $3",
                &[&user, &item, &session],
            )
            .await
            .expect("stored rows");
        for col in 0..5 {
            assert_eq!(&row.get::<_, String>(col), s, "column {col} of {s:?}");
        }
    }
    // The tables the fragments name are all still there, with every row.
    let users: i64 = c
        .query_one("SELECT count(*) FROM users", &[])
        .await
        .expect("users")
        .get(0);
    assert_eq!(users, strings.len() as i64);

    // Shown back: each answer is valid JSON whose strings equal what was sent, with control
    // characters escaped (no raw control byte in the body) and HTML left as text.
    let mut shown = String::new();
    for path in [
        "/api/v1/analytics/streams",
        "/api/v1/analytics/watch-activity",
        "/api/v1/analytics/users/activity",
        "/api/v1/analytics/library-health",
        "/api/v1/analytics/storage",
        "/api/v1/notifications/channels",
        "/api/v1/notifications/alerts",
    ] {
        let r = app.admin_get(path).send().await.expect("answer");
        assert_eq!(r.status(), 200, "{path}");
        assert!(r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json")));
        let text = r.text().await.expect("text");
        assert!(
            !text.bytes().any(|b| b < 0x20),
            "{path}: a raw control character in the answer"
        );
        let v: Value = serde_json::from_str(&text).expect("valid JSON");
        shown.push_str(&v.to_string());
        let mut found = Vec::new();
        collect_strings(&v, &mut found);
        for s in &strings {
            let name: String = s.chars().take(100).collect();
            if path.contains("notifications") {
                assert!(found.contains(&name), "{path}: {name:?} not shown back");
            }
        }
    }
    let watch = app
        .admin_get("/api/v1/analytics/watch-activity?limit=500")
        .send()
        .await
        .expect("watch");
    let v: Value = watch.json().await.expect("json");
    let mut found = Vec::new();
    collect_strings(&v, &mut found);
    for s in &strings {
        assert!(found.contains(s), "watch-activity does not show {s:?} back");
    }
    // A filter holding a fragment is refused as what it is: not one of the media types.
    for q in ["media_type=%27%20OR%201%3D1--", "media_type=%3Cscript%3E"] {
        let r = app
            .admin_get(&format!("/api/v1/analytics/watch-activity?{q}"))
            .send()
            .await
            .expect("filter");
        let (status, code, field) = crate::common::error_of(r).await;
        assert_eq!(
            (status, code.as_str(), field.as_deref()),
            (400, "invalid_request", Some("media_type")),
            "{q}"
        );
    }
    app.stop().await;
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}
