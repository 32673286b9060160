//! Liveness, readiness, the JSON error shape on unknown routes and methods, /metrics.

use crate::common::{error_of, test_config, TestApp, TestDb, ADMIN_TOKEN};

#[tokio::test]
async fn health_ready_and_status_answer() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &[])).await;

    let r = app
        .http
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(r.status(), 200);
    let r = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["status"],
        "ready"
    );

    let r = app
        .admin_get("/api/v1/status")
        .send()
        .await
        .expect("status");
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["host"], "test-host");
    assert_eq!(v["timezone"], "Europe/Berlin");
    assert_eq!(v["schema_version"], v["schema_version_expected"]);
    assert!(
        !v.to_string().contains(ADMIN_TOKEN),
        "no secrets in answers"
    );
    app.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &[])).await;

    let r = app
        .admin_get("/api/v1/no-such-thing")
        .send()
        .await
        .expect("404");
    assert_eq!(error_of(r).await.0, 404);
    let r = app
        .http
        .get(app.url("/nothing/here"))
        .send()
        .await
        .expect("404");
    let (status, code, _) = error_of(r).await;
    assert_eq!((status, code.as_str()), (404, "not_found"));

    let r = app
        .http
        .delete(app.url("/healthz"))
        .send()
        .await
        .expect("405");
    let (status, code, _) = error_of(r).await;
    assert_eq!((status, code.as_str()), (405, "method_not_allowed"));
    app.stop().await;
}

#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &[])).await;
    let r = app
        .http
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert!(r.headers().get("x-request-id").is_some());
    let r = app
        .http
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .expect("healthz");
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    app.stop().await;
}

#[tokio::test]
async fn metrics_are_open_by_default_and_count_requests() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &[])).await;
    app.http
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    let r = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(r.status(), 200);
    let body = r.text().await.expect("text");
    assert!(
        body.contains(
            "cinevault_analytics_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"
        ),
        "{body}"
    );
    assert!(
        body.contains("cinevault_analytics_db_pool_max_connections 4"),
        "{body}"
    );
    assert!(body.contains("cinevault_analytics_build_info"), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn metrics_token_protects_the_scrape() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(
        &db.url,
        &["--metrics-token", "scrape-token-0001"],
    ))
    .await;
    let r = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(error_of(r).await.0, 401);
    let r = app
        .http
        .get(app.url("/metrics"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("metrics");
    assert_eq!(
        error_of(r).await.0,
        403,
        "an admin token is not the scrape token"
    );
    let r = app
        .http
        .get(app.url("/metrics"))
        .bearer_auth("scrape-token-0001")
        .send()
        .await
        .expect("metrics");
    assert_eq!(r.status(), 200);
    // The scrape token is no admin credential either.
    let r = app
        .http
        .get(app.url("/api/v1/status"))
        .bearer_auth("scrape-token-0001")
        .send()
        .await
        .expect("status");
    assert_eq!(error_of(r).await.0, 403);
    app.stop().await;
}
