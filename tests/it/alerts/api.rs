//! The notification API: validation naming the field, masked URLs, partial updates, a
//! channel kept while rules use it, the test endpoint on every channel type, the log.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use super::receiver::{Receiver, Reply};
use super::{alert_app, api, channel, create_channel, ok_json, rule};
use crate::common::{error_of, TestDb};

const SECRET_PATH: &str = "/api/webhooks/123456789/SuperSecretWebhookToken";

#[tokio::test]
async fn channels_are_validated_masked_and_kept_while_rules_use_them() {
    let db = TestDb::migrated().await;
    let app = alert_app(&db).await;
    let c = db.client().await;
    let rx = Receiver::start().await;
    let url = rx.url(SECRET_PATH);
    // The spec's example, events as a string holding an array.
    let created = ok_json(
        api(
            &app,
            Method::POST,
            "/channels",
            Some(
                json!({"name": "Discord Alerts", "channel_type": "discord", "webhook_url": url,
                        "is_enabled": true, "events": "[\"all\"]"}),
            ),
        )
        .await,
    )
    .await;
    let id: Uuid = created["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("id");
    assert_eq!(created["events"], json!(["all"]));
    assert_eq!(created["webhook_url"], format!("{}/…oken", rx.base));
    assert_eq!(created["signing_secret_set"], false);
    let listed = ok_json(api(&app, Method::GET, "/channels", None).await).await;
    assert!(!listed.to_string().contains("SuperSecret"), "{listed}");
    assert_eq!(listed[0]["webhook_url"], created["webhook_url"]);

    // Partial updates keep the URL: left out, or sent back as shown.
    for body in [
        json!({"name": "Renamed"}),
        json!({"webhook_url": created["webhook_url"]}),
    ] {
        let v = ok_json(api(&app, Method::PUT, &format!("/channels/{id}"), Some(body)).await).await;
        assert_eq!(v["name"], "Renamed");
    }
    let stored: String = c
        .query_one(
            "SELECT webhook_url FROM notification_channels WHERE id = $1",
            &[&id],
        )
        .await
        .expect("row")
        .get(0);
    assert_eq!(stored, url);
    let resp = api(
        &app,
        Method::PUT,
        &format!("/channels/{id}"),
        Some(json!({"webhook_url": "https://discord.com/…abcd"})),
    )
    .await;
    assert_eq!(error_of(resp).await.2.as_deref(), Some("webhook_url"));

    // Refusals name the field.
    let long = "n".repeat(101);
    for (body, field) in [
        (
            json!({"name": long, "channel_type": "slack", "webhook_url": url}),
            "name",
        ),
        (
            json!({"name": "a\u{0}b", "channel_type": "slack", "webhook_url": url}),
            "name",
        ),
        (
            json!({"name": "", "channel_type": "slack", "webhook_url": url}),
            "name",
        ),
        (
            json!({"name": "x", "channel_type": "teams", "webhook_url": url}),
            "channel_type",
        ),
        (
            json!({"name": "x", "channel_type": "slack", "webhook_url": "not a url"}),
            "webhook_url",
        ),
        (
            json!({"name": "x", "channel_type": "slack", "webhook_url": url, "events": ["bogus"]}),
            "events",
        ),
        (
            json!({"name": "x", "channel_type": "slack", "webhook_url": url, "events": []}),
            "events",
        ),
        (
            json!({"name": "x", "channel_type": "slack", "webhook_url": url, "signing_secret": "long-enough-secret"}),
            "signing_secret",
        ),
        (
            json!({"name": "x", "channel_type": "generic", "webhook_url": url, "signing_secret": "short"}),
            "signing_secret",
        ),
        (
            json!({"name": "x", "channel_type": "slack", "webhook_url": url, "colour": "red"}),
            "colour",
        ),
        (json!({"channel_type": "slack", "webhook_url": url}), "name"),
    ] {
        let (status, _, got) =
            error_of(api(&app, Method::POST, "/channels", Some(body.clone())).await).await;
        assert_eq!((status, got.as_deref()), (400, Some(field)), "{body}");
    }
    let missing = Uuid::new_v4();
    let resp = api(
        &app,
        Method::PUT,
        &format!("/channels/{missing}"),
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(error_of(resp).await.0, 404);
    let resp = api(
        &app,
        Method::PUT,
        "/channels/not-a-uuid",
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(error_of(resp).await.2.as_deref(), Some("id"));

    // A signed generic channel: the secret is write-only.
    let signed = ok_json(
        api(
            &app,
            Method::POST,
            "/channels",
            Some(
                json!({"name": "signed", "channel_type": "generic", "webhook_url": url,
                        "signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(signed["signing_secret_set"], true);
    assert!(!signed.to_string().contains("MfKQ9r8"));

    // A channel used by rules is not deleted; the 409 names the rules.
    for name in ["Low Disk Space", "Hot GPU"] {
        rule(
            &app,
            json!({"name": name, "condition_type": "disk_space_low", "channel_id": id}),
        )
        .await;
    }
    let resp = api(&app, Method::DELETE, &format!("/channels/{id}"), None).await;
    let body: Value = {
        assert_eq!(resp.status(), 409);
        resp.json().await.expect("json")
    };
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("'Low Disk Space'") && message.contains("'Hot GPU'"),
        "{message}"
    );
    let rules = ok_json(api(&app, Method::GET, "/alerts", None).await).await;
    for r in rules.as_array().expect("rules") {
        let rid = r["id"].as_str().expect("rule id");
        let resp = api(&app, Method::DELETE, &format!("/alerts/{rid}"), None).await;
        assert_eq!(resp.status(), 204);
    }
    let resp = api(&app, Method::DELETE, &format!("/channels/{id}"), None).await;
    assert_eq!(resp.status(), 204);
    let resp = api(&app, Method::DELETE, &format!("/channels/{id}"), None).await;
    assert_eq!(error_of(resp).await.0, 404);
    app.stop().await;
}

#[tokio::test]
async fn rules_are_validated_and_updated_in_part() {
    let db = TestDb::migrated().await;
    let app = alert_app(&db).await;
    let rx = Receiver::start().await;
    let ch = channel(&app, "slack", &rx.url("/services/T/B/x")).await;
    // The spec's examples; defaults for what they leave out.
    let disk = ok_json(
        api(
            &app,
            Method::POST,
            "/alerts",
            Some(json!({"name": "Low Disk Space", "condition_type": "disk_space_low", "threshold": 50.2,
                        "cooldown_minutes": 120, "channel_id": ch, "is_enabled": true})),
        )
        .await,
    )
    .await;
    assert_eq!(disk["threshold"], 50.2);
    assert_eq!(disk["send_resolved"], true);
    assert_eq!(disk["last_triggered_at"], Value::Null);
    let errors = ok_json(
        api(
            &app,
            Method::POST,
            "/alerts",
            Some(json!({"name": "Errors", "condition_type": "stream_error", "channel_id": ch})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (
            errors["threshold"].clone(),
            errors["cooldown_minutes"].clone()
        ),
        (json!(0.0), json!(60))
    );
    assert_eq!(errors["is_enabled"], true);

    let unknown = Uuid::new_v4();
    let resp = api(
        &app,
        Method::POST,
        "/alerts",
        Some(json!({"name": "x", "condition_type": "stream_error", "channel_id": unknown})),
    )
    .await;
    assert_eq!(resp.status(), 422);
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["error"]["field"], "channel_id");
    assert!(v["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains(&unknown.to_string())));
    for (body, field) in [
        (
            json!({"name": "x", "condition_type": "stream_error", "channel_id": ch, "threshold": -1}),
            "threshold",
        ),
        (
            json!({"name": "x", "condition_type": "stream_error", "channel_id": ch, "cooldown_minutes": -5}),
            "cooldown_minutes",
        ),
        (
            json!({"name": "x", "condition_type": "stream_error", "channel_id": ch, "cooldown_minutes": 1.5}),
            "cooldown_minutes",
        ),
        (
            json!({"name": "x", "condition_type": "cpu_high", "channel_id": ch}),
            "condition_type",
        ),
        (
            json!({"name": "x", "condition_type": "stream_error", "channel_id": "nope"}),
            "channel_id",
        ),
        (
            json!({"name": "x", "condition_type": "stream_error"}),
            "channel_id",
        ),
        (
            json!({"name": "n".repeat(101), "condition_type": "stream_error", "channel_id": ch}),
            "name",
        ),
    ] {
        let (status, _, got) =
            error_of(api(&app, Method::POST, "/alerts", Some(body.clone())).await).await;
        assert_eq!((status, got.as_deref()), (400, Some(field)), "{body}");
    }

    let id = disk["id"].as_str().expect("id");
    let v = ok_json(
        api(
            &app,
            Method::PUT,
            &format!("/alerts/{id}"),
            Some(json!({"threshold": 20, "is_enabled": false})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (v["threshold"].clone(), v["is_enabled"].clone()),
        (json!(20.0), json!(false))
    );
    assert_eq!(
        (v["name"].clone(), v["cooldown_minutes"].clone()),
        (json!("Low Disk Space"), json!(120))
    );
    let resp = api(
        &app,
        Method::PUT,
        &format!("/alerts/{id}"),
        Some(json!({"channel_id": unknown})),
    )
    .await;
    assert_eq!(
        (resp.status().as_u16(), error_of(resp).await.2),
        (422, Some("channel_id".into()))
    );
    let resp = api(
        &app,
        Method::PUT,
        &format!("/alerts/{id}"),
        Some(json!({"cooldown_minutes": -1})),
    )
    .await;
    assert_eq!(error_of(resp).await.2.as_deref(), Some("cooldown_minutes"));
    let resp = api(
        &app,
        Method::PUT,
        &format!("/alerts/{}", Uuid::new_v4()),
        Some(json!({})),
    )
    .await;
    assert_eq!(error_of(resp).await.0, 404);
    let listed = ok_json(api(&app, Method::GET, "/alerts", None).await).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(2));
    app.stop().await;
}

#[tokio::test]
async fn the_test_endpoint_delivers_to_every_channel_type_and_the_log_shows_it() {
    let db = TestDb::migrated().await;
    let app = alert_app(&db).await;
    let c = db.client().await;
    let rx = Receiver::start().await;
    for (kind, path) in [
        ("discord", "/discord"),
        ("slack", "/slack"),
        ("generic", "/generic"),
        ("alertmanager", "/am"),
    ] {
        let ch = channel(&app, kind, &rx.url(path)).await;
        let out =
            ok_json(api(&app, Method::POST, &format!("/channels/{ch}/test"), None).await).await;
        assert_eq!(out["delivered"], true, "{kind}: {out}");
        assert_eq!(out["http_status"], 200);
        assert_eq!(out["error"], Value::Null);
        assert_eq!(out["attempts"], 1);
    }
    let hits = rx.wait_for(4, Duration::from_secs(5), |_| true).await;
    let by = |prefix: &str| {
        hits.iter()
            .find(|h| h.path.starts_with(prefix))
            .expect("hit")
            .json()
    };
    assert_eq!(
        by("/discord")["embeds"][0]["title"],
        "Test message from CineVault Analytics"
    );
    assert_eq!(by("/slack")["blocks"][0]["type"], "header");
    assert_eq!(by("/generic")["status"], "test");
    assert_eq!(
        by("/am")[0]["labels"]["alertname"],
        "CineVaultAnalyticsTest"
    );
    assert!(hits.iter().any(|h| h.path == "/am/api/v2/alerts"));

    // A receiver that refuses: the answer says so, and so does the log.
    let refusing = Receiver::start().await;
    refusing.always(Reply::Status(404));
    let ch = channel(&app, "generic", &refusing.url("/gone")).await;
    let out = ok_json(api(&app, Method::POST, &format!("/channels/{ch}/test"), None).await).await;
    assert_eq!(
        (out["delivered"].clone(), out["http_status"].clone()),
        (json!(false), json!(404))
    );
    assert!(
        out["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("HTTP 404")),
        "{out}"
    );
    assert_eq!(out["attempts"], 1);
    let resp = api(
        &app,
        Method::POST,
        &format!("/channels/{}/test", Uuid::new_v4()),
        None,
    )
    .await;
    assert_eq!(error_of(resp).await.0, 404);

    let log = ok_json(api(&app, Method::GET, "/log", None).await).await;
    let entries = log.as_array().expect("entries");
    assert_eq!(entries.len(), 5);
    assert_eq!(entries[0]["channel_name"], "generic channel");
    assert_eq!(entries[0]["success"], false);
    assert_eq!(entries[0]["http_status"], 404);
    assert!(entries
        .iter()
        .all(|e| e["kind"] == "test" && e["rule_name"].is_null()));
    assert_eq!(entries[4]["channel_name"], "discord channel");
    assert_eq!(entries[4]["channel_type"], "discord");

    // The last 100, newest first; names turn null once their rule or channel is gone.
    let ch = create_channel(
        &app,
        json!({"name": "doomed", "channel_type": "generic", "webhook_url": rx.url("/x")}),
    )
    .await;
    let r = rule(
        &app,
        json!({"name": "Doomed rule", "condition_type": "stream_error", "channel_id": ch}),
    )
    .await;
    c.execute(
        "INSERT INTO alert_log (rule_id, channel_id, message, success, sent_at)
         SELECT $1, $2, 'old ' || g, true, now() - interval '1 day' + make_interval(secs => g)
         FROM generate_series(1, 120) g",
        &[&r, &ch],
    )
    .await
    .expect("old entries");
    let log = ok_json(api(&app, Method::GET, "/log", None).await).await;
    let entries = log.as_array().expect("entries");
    assert_eq!(entries.len(), 100);
    assert_eq!(entries[0]["kind"], "test", "newest first");
    assert_eq!(entries[5]["message"], "old 120");
    assert_eq!(entries[5]["rule_name"], "Doomed rule");
    let resp = api(&app, Method::DELETE, &format!("/alerts/{r}"), None).await;
    assert_eq!(resp.status(), 204);
    let resp = api(&app, Method::DELETE, &format!("/channels/{ch}"), None).await;
    assert_eq!(resp.status(), 204);
    let log = ok_json(api(&app, Method::GET, "/log", None).await).await;
    assert_eq!(log[5]["message"], "old 120");
    assert_eq!(
        (log[5]["rule_name"].clone(), log[5]["channel_name"].clone()),
        (Value::Null, Value::Null)
    );
    app.stop().await;
}
