//! Access control (decisions.md §4). Admin routes take a static admin token or an HS256 JWT
//! whose claims mark an admin; ingest takes the ingest token; /metrics optionally its own.
//! No credential or a wrong one: 401. A valid credential of another kind: 403.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::error::AppError;
use crate::secret::Secret;
use crate::state::AppState;

/// Who a bearer token identifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Admin,
    /// A valid CineVault user that is not an admin.
    User,
    Ingest,
    Metrics,
    /// Nothing we recognise.
    Unknown,
}

/// What verifies tokens: built once from configuration.
pub struct Authenticator {
    admin_tokens: Vec<Secret>,
    ingest_token: Option<Secret>,
    metrics_token: Option<Secret>,
    jwt: Option<DecodingKey>,
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    is_admin: Option<bool>,
    #[serde(default)]
    admin: Option<bool>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    roles: Option<Vec<String>>,
}

impl Claims {
    fn marks_admin(&self) -> bool {
        self.is_admin == Some(true)
            || self.admin == Some(true)
            || self.role.as_deref() == Some("admin")
            || self
                .roles
                .as_ref()
                .is_some_and(|r| r.iter().any(|x| x == "admin"))
    }
}

fn matches(candidate: &str, secret: &Secret) -> bool {
    bool::from(candidate.as_bytes().ct_eq(secret.expose().as_bytes()))
}

impl Authenticator {
    pub fn new(
        admin_tokens: Vec<Secret>,
        ingest_token: Option<Secret>,
        metrics_token: Option<Secret>,
        jwt_secret: Option<&Secret>,
    ) -> Self {
        Self {
            admin_tokens,
            ingest_token,
            metrics_token,
            jwt: jwt_secret.map(|s| DecodingKey::from_secret(s.expose().as_bytes())),
        }
    }

    pub fn identify(&self, token: &str) -> Credential {
        // Compare against every admin token, without stopping at the first match, so the
        // time taken does not tell which token (or how many) matched.
        let admin = self
            .admin_tokens
            .iter()
            .fold(false, |acc, t| acc | matches(token, t));
        if admin {
            return Credential::Admin;
        }
        if self
            .ingest_token
            .as_ref()
            .is_some_and(|t| matches(token, t))
        {
            return Credential::Ingest;
        }
        if self
            .metrics_token
            .as_ref()
            .is_some_and(|t| matches(token, t))
        {
            return Credential::Metrics;
        }
        if let Some(key) = &self.jwt {
            let mut validation = Validation::new(Algorithm::HS256);
            validation.leeway = 30;
            if let Ok(data) = jsonwebtoken::decode::<Claims>(token, key, &validation) {
                return if data.claims.marks_admin() {
                    Credential::Admin
                } else {
                    Credential::User
                };
            }
        }
        Credential::Unknown
    }

    pub fn metrics_open(&self) -> bool {
        self.metrics_token.is_none()
    }
}

/// The bearer token of a request, if it carries one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty()).then_some(token)
}

fn check(headers: &HeaderMap, state: &AppState, wanted: Credential) -> Result<(), AppError> {
    let Some(token) = bearer(headers) else {
        return Err(AppError::unauthorized(
            "this endpoint needs an Authorization: Bearer credential",
        ));
    };
    match state.auth.identify(token) {
        c if c == wanted => Ok(()),
        Credential::Unknown => Err(AppError::unauthorized("the credential is not valid")),
        _ => Err(AppError::forbidden(match wanted {
            Credential::Admin => "this endpoint needs an admin credential",
            Credential::Ingest => "this endpoint needs the ingest token",
            _ => "this endpoint needs the metrics token",
        })),
    }
}

pub async fn require_admin(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, AppError> {
    check(req.headers(), &state, Credential::Admin)?;
    Ok(next.run(req).await)
}

pub async fn require_ingest(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, AppError> {
    check(req.headers(), &state, Credential::Ingest)?;
    Ok(next.run(req).await)
}

pub async fn require_metrics(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, AppError> {
    if !state.auth.metrics_open() {
        check(req.headers(), &state, Credential::Metrics)?;
    }
    Ok(next.run(req).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};

    fn auth() -> Authenticator {
        Authenticator::new(
            vec![
                Secret::new("admin-one-token"),
                Secret::new("admin-two-token"),
            ],
            Some(Secret::new("ingest-token-1")),
            None,
            Some(&Secret::new("jwt-signing-secret")),
        )
    }

    fn jwt(secret: &str, claims: serde_json::Value) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("encode")
    }

    fn exp() -> i64 {
        chrono::Utc::now().timestamp() + 600
    }

    #[test]
    fn static_tokens_are_told_apart() {
        let a = auth();
        assert_eq!(a.identify("admin-one-token"), Credential::Admin);
        assert_eq!(a.identify("admin-two-token"), Credential::Admin);
        assert_eq!(a.identify("ingest-token-1"), Credential::Ingest);
        assert_eq!(a.identify("admin-one-toke"), Credential::Unknown);
        assert_eq!(a.identify(""), Credential::Unknown);
    }

    #[test]
    fn jwt_claims_decide_admin() {
        let a = auth();
        let admin = jwt(
            "jwt-signing-secret",
            serde_json::json!({"sub":"u1","exp":exp(),"is_admin":true}),
        );
        let role = jwt(
            "jwt-signing-secret",
            serde_json::json!({"sub":"u1","exp":exp(),"role":"admin"}),
        );
        let user = jwt(
            "jwt-signing-secret",
            serde_json::json!({"sub":"u2","exp":exp(),"is_admin":false}),
        );
        let forged = jwt(
            "other-secret",
            serde_json::json!({"sub":"u1","exp":exp(),"is_admin":true}),
        );
        let expired = jwt(
            "jwt-signing-secret",
            serde_json::json!({"sub":"u1","exp":1000,"is_admin":true}),
        );
        assert_eq!(a.identify(&admin), Credential::Admin);
        assert_eq!(a.identify(&role), Credential::Admin);
        assert_eq!(a.identify(&user), Credential::User);
        assert_eq!(a.identify(&forged), Credential::Unknown);
        assert_eq!(a.identify(&expired), Credential::Unknown);
    }

    /// CineVault's own tokens (internal/auth/auth.go): `user_id`, `username`, `role` (its
    /// `user_role` enum), `exp`, `iat`, no `sub`.
    #[test]
    fn cinevaults_own_jwts_are_recognised_by_their_role() {
        let a = auth();
        let now = chrono::Utc::now().timestamp();
        let claims = |role: &str| {
            serde_json::json!({"user_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
                               "username": "owner", "role": role, "exp": exp(), "iat": now})
        };
        assert_eq!(
            a.identify(&jwt("jwt-signing-secret", claims("admin"))),
            Credential::Admin
        );
        for role in ["user", "guest"] {
            assert_eq!(
                a.identify(&jwt("jwt-signing-secret", claims(role))),
                Credential::User,
                "{role}"
            );
        }
    }

    #[test]
    fn no_admin_tokens_means_nobody_is_admin() {
        let a = Authenticator::new(vec![], None, None, None);
        assert_eq!(a.identify("anything-at-all"), Credential::Unknown);
    }

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(AUTHORIZATION, "Bearer abc".parse().expect("header"));
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(AUTHORIZATION, "bearer  abc ".parse().expect("header"));
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(AUTHORIZATION, "Basic abc".parse().expect("header"));
        assert_eq!(bearer(&h), None);
    }
}
