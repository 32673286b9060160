//! One error type for every handler, one JSON shape for every 4xx/5xx:
//! `{"error": {"code": "...", "message": "...", "field": "..."}}` (`field` when one is at fault).
//! Internal details are logged once, here, and never sent to the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Logged, never shown: what really went wrong behind a 5xx.
    source: Option<anyhow::Error>,
}

/// The body of every 4xx/5xx answer (published in the OpenAPI document as `ErrorResponse`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ErrorResponse)]
pub struct Body<'a> {
    error: ErrorBody<'a>,
}

/// The OpenAPI name of [`Body`].
pub type ErrorResponse = Body<'static>;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    /// A stable machine-readable code, e.g. `invalid_request`, `not_found`, `unauthorized`.
    code: &'a str,
    /// What went wrong, for a person.
    message: &'a str,
    /// The request field or parameter at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            source: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn bad_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message).with_field(field)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn unprocessable(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", message).with_field(field)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    pub fn internal(source: anyhow::Error) -> Self {
        Self {
            source: Some(source),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error; see the sidecar's log",
            )
        }
    }

    fn database_unavailable(source: anyhow::Error) -> Self {
        Self {
            source: Some(source),
            ..Self::unavailable("the database is unavailable; try again shortly")
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match (&self.source, self.status.is_server_error()) {
            (Some(err), true) if self.status == StatusCode::SERVICE_UNAVAILABLE => {
                tracing::warn!(error = format!("{err:#}"), "request answered 503")
            }
            (Some(err), true) => tracing::error!(error = format!("{err:#}"), "request failed"),
            _ => {}
        }
        let body = Body {
            error: ErrorBody {
                code: self.code,
                message: &self.message,
                field: self.field.as_deref(),
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> Self {
        // A database error wrapped in context keeps its meaning (503, 409, ...).
        if let Some(pg) = err.downcast_ref::<tokio_postgres::Error>() {
            if is_connection_error(pg) {
                return Self::database_unavailable(err);
            }
        }
        if err.downcast_ref::<deadpool_postgres::PoolError>().is_some() {
            return Self::database_unavailable(err);
        }
        Self::internal(err)
    }
}

impl From<deadpool_postgres::PoolError> for AppError {
    fn from(err: deadpool_postgres::PoolError) -> Self {
        Self::database_unavailable(err.into())
    }
}

impl From<tokio_postgres::Error> for AppError {
    fn from(err: tokio_postgres::Error) -> Self {
        use tokio_postgres::error::SqlState;
        if is_connection_error(&err) {
            return Self::database_unavailable(err.into());
        }
        match err.code() {
            Some(c) if *c == SqlState::FOREIGN_KEY_VIOLATION => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
                "a referenced record does not exist",
            ),
            Some(c) if *c == SqlState::UNIQUE_VIOLATION => {
                Self::conflict("a record with this key already exists")
            }
            Some(c) if *c == SqlState::QUERY_CANCELED => Self {
                source: Some(err.into()),
                ..Self::unavailable("the database took too long to answer")
            },
            _ => Self::internal(err.into()),
        }
    }
}

/// True when the error means "no database right now" rather than "this query is wrong".
pub fn is_connection_error(err: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    if err.is_closed() {
        return true;
    }
    match err.code() {
        Some(c) => {
            *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CRASH_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
                || c.code().starts_with("08")
        }
        // No SQLSTATE: either the connection (I/O, connect, timeout, closed) or a client-side
        // mistake such as a parameter that does not serialise, which is a bug, not an outage.
        None => {
            let text = err.to_string();
            [
                "error communicating",
                "error connecting",
                "timeout",
                "connection closed",
            ]
            .iter()
            .any(|p| text.starts_with(p))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(err: AppError) -> (StatusCode, serde_json::Value) {
        let resp = err.into_response();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .expect("body");
        (status, serde_json::from_slice(&bytes).expect("json"))
    }

    #[tokio::test]
    async fn error_shape_names_code_message_and_field() {
        let (status, v) = body_of(AppError::bad_request("threshold", "must be >= 0")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(v["error"]["code"], "invalid_request");
        assert_eq!(v["error"]["message"], "must be >= 0");
        assert_eq!(v["error"]["field"], "threshold");
    }

    #[tokio::test]
    async fn internal_errors_hide_their_cause() {
        let (status, v) = body_of(AppError::internal(anyhow::anyhow!(
            "password=hunter2 leaked"
        )))
        .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!v.to_string().contains("hunter2"));
        assert!(v["error"].get("field").is_none());
    }
}
