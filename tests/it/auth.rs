//! The auth matrix over every registered admin route: none (401), garbage (401), a valid
//! non-admin credential (403), an admin credential (let through).

use cinevault_analytics::http::{admin_routes, ingest_routes};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::Method;

use crate::common::{
    error_of, test_config, TestApp, TestDb, ADMIN_TOKEN, INGEST_TOKEN, JWT_SECRET,
};

fn jwt(claims: serde_json::Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("jwt")
}

fn exp() -> i64 {
    chrono::Utc::now().timestamp() + 3600
}

/// A concrete URL for a route template: `{id}` and friends become a fresh UUID.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                uuid::Uuid::new_v4().to_string()
            } else {
                seg.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn send(
    app: &TestApp,
    method: &Method,
    path: &str,
    token: Option<&str>,
) -> reqwest::Response {
    let mut req = app.http.request(
        method.clone(),
        app.url(&format!("/api/v1{}", concrete(path))),
    );
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if *method != Method::GET && *method != Method::DELETE {
        req = req.json(&serde_json::json!({}));
    }
    req.send().await.expect("request")
}

#[tokio::test]
async fn every_admin_route_refuses_anonymous_and_non_admin_callers() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &[])).await;
    let user_jwt = jwt(
        serde_json::json!({"sub": "u1", "exp": exp(), "is_admin": false}),
        JWT_SECRET,
    );
    let admin_jwt = jwt(
        serde_json::json!({"sub": "u0", "exp": exp(), "is_admin": true}),
        JWT_SECRET,
    );
    let forged = jwt(
        serde_json::json!({"sub": "u0", "exp": exp(), "is_admin": true}),
        "wrong-secret-000",
    );
    let expired = jwt(
        serde_json::json!({"sub": "u0", "exp": 1_000_000, "is_admin": true}),
        JWT_SECRET,
    );

    let routes = admin_routes();
    assert!(!routes.is_empty());
    for r in &routes {
        let label = format!("{} {}", r.method, r.path);
        for (token, want) in [
            (None, 401),
            (Some("not-a-real-token"), 401),
            (Some(forged.as_str()), 401),
            (Some(expired.as_str()), 401),
            (Some(INGEST_TOKEN), 403),
            (Some(user_jwt.as_str()), 403),
        ] {
            let resp = send(&app, &r.method, r.path, token).await;
            let (status, code, _) = error_of(resp).await;
            assert_eq!(status, want, "{label} with {token:?}");
            assert_eq!(
                code,
                if want == 401 {
                    "unauthorized"
                } else {
                    "forbidden"
                }
            );
        }
        for token in [ADMIN_TOKEN, admin_jwt.as_str()] {
            let resp = send(&app, &r.method, r.path, Some(token)).await;
            assert!(
                ![401, 403].contains(&resp.status().as_u16()),
                "{label}: admin refused with {}",
                resp.status()
            );
        }
    }
    for r in ingest_routes() {
        let resp = send(
            &app,
            &r.method,
            &format!("/ingest{}", r.path),
            Some(ADMIN_TOKEN),
        )
        .await;
        assert_eq!(
            error_of(resp).await.0,
            403,
            "admin token on ingest {}",
            r.path
        );
        let resp = send(&app, &r.method, &format!("/ingest{}", r.path), None).await;
        assert_eq!(error_of(resp).await.0, 401, "no token on ingest {}", r.path);
    }
    app.stop().await;
}

#[tokio::test]
async fn without_admin_tokens_admin_routes_refuse_everyone() {
    let db = TestDb::migrated().await;
    let mut config = test_config(&db.url, &[]);
    config.admin_tokens.clear();
    config.jwt_secret = None;
    let app = TestApp::spawn(config).await;
    for token in [None, Some(ADMIN_TOKEN), Some("")] {
        let resp = send(&app, &Method::GET, "/status", token).await;
        assert_eq!(error_of(resp).await.0, 401, "{token:?}");
    }
    app.stop().await;
}
