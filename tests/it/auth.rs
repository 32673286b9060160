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

/// A non-admin user's JWT, an admin's, an admin's signed with the wrong secret, an expired
/// admin's.
fn jwt_kinds() -> [String; 4] {
    let admin = |exp| serde_json::json!({"sub": "u0", "exp": exp, "is_admin": true});
    [
        jwt(
            serde_json::json!({"sub": "u1", "exp": exp(), "is_admin": false}),
            JWT_SECRET,
        ),
        jwt(admin(exp()), JWT_SECRET),
        jwt(admin(exp()), "wrong-secret-000"),
        jwt(admin(1_000_000), JWT_SECRET),
    ]
}

#[tokio::test]
async fn every_admin_route_refuses_anonymous_and_non_admin_callers() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &[])).await;
    let [user_jwt, admin_jwt, forged, expired] = jwt_kinds();

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

/// A JWT with another algorithm than HS256, signed with the right secret, and an unsigned
/// one (`alg: none`): both must be refused like a forgery.
fn odd_jwts() -> Vec<String> {
    let claims = serde_json::json!({"sub": "u0", "exp": exp(), "is_admin": true});
    let hs384 = encode(
        &Header::new(Algorithm::HS384),
        &claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("jwt");
    let b64 = |s: &str| {
        use std::fmt::Write;
        // base64url without padding, by hand (no base64 crate among the dev dependencies).
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let bytes = s.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                let _ = out.write_char(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            }
        }
        out
    };
    let none = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","typ":"JWT"}"#),
        b64(&claims.to_string())
    );
    vec![hs384, none]
}

#[tokio::test]
async fn every_ingest_route_takes_the_ingest_token_and_nothing_else() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &[])).await;
    let [user_jwt, admin_jwt, forged, expired] = jwt_kinds();
    let odd = odd_jwts();
    let near_miss = format!("{INGEST_TOKEN}x");
    let mut cases = vec![
        (None, 401),
        (Some("not-a-real-token"), 401),
        (Some(near_miss.as_str()), 401),
        (Some(forged.as_str()), 401),
        (Some(expired.as_str()), 401),
        (Some(ADMIN_TOKEN), 403),
        (Some(admin_jwt.as_str()), 403),
        (Some(user_jwt.as_str()), 403),
    ];
    cases.extend(odd.iter().map(|t| (Some(t.as_str()), 401)));
    for r in ingest_routes() {
        let path = format!("/ingest{}", r.path);
        for (token, want) in &cases {
            let resp = send(&app, &r.method, &path, *token).await;
            assert_eq!(error_of(resp).await.0, *want, "{path} with {token:?}");
        }
        // The ingest token passes the check (the empty body is then refused on its merits).
        let resp = send(&app, &r.method, &path, Some(INGEST_TOKEN)).await;
        assert!(
            ![401, 403].contains(&resp.status().as_u16()),
            "{path}: the ingest token was refused with {}",
            resp.status()
        );
    }
    // The odd JWTs are no admin credential either.
    for token in &odd {
        let resp = send(&app, &Method::GET, "/status", Some(token)).await;
        assert_eq!(error_of(resp).await.0, 401);
    }
    // Other ways of presenting a credential are not a bearer token.
    for header in [
        format!("Basic {ADMIN_TOKEN}"),
        format!("Token {ADMIN_TOKEN}"),
        ADMIN_TOKEN.to_owned(),
        "Bearer".to_owned(),
    ] {
        let resp = app
            .http
            .get(app.url("/api/v1/status"))
            .header("authorization", header.as_str())
            .send()
            .await
            .expect("status");
        assert_eq!(error_of(resp).await.0, 401, "{header}");
    }
    let resp = app
        .http
        .get(app.url(&format!("/api/v1/status?token={ADMIN_TOKEN}")))
        .send()
        .await
        .expect("status");
    assert_eq!(
        error_of(resp).await.0,
        401,
        "a token in the query is ignored"
    );
    app.stop().await;
}

#[tokio::test]
async fn open_routes_need_no_credential_and_answers_never_carry_one() {
    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &[])).await;
    for path in ["/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"] {
        let resp = app.http.get(app.url(path)).send().await.expect("open");
        assert_eq!(resp.status(), 200, "{path}");
        let text = resp.text().await.expect("text");
        for secret in [ADMIN_TOKEN, INGEST_TOKEN, JWT_SECRET] {
            assert!(!text.contains(secret), "{path} shows a secret");
        }
    }
    // Every admin GET with the admin token: no credential in any answer.
    for r in admin_routes().iter().filter(|r| r.method == Method::GET) {
        let resp = send(&app, &r.method, r.path, Some(ADMIN_TOKEN)).await;
        let text = resp.text().await.expect("text");
        for secret in [ADMIN_TOKEN, INGEST_TOKEN, JWT_SECRET] {
            assert!(!text.contains(secret), "{} shows a secret", r.path);
        }
    }
    app.stop().await;
}
