//! Liveness, readiness and the Prometheus scrape.

use std::time::Duration;

use axum::extract::State;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::error::AppError;
use crate::ingest::events::PlaybackType;
use crate::metrics::{
    encode_text_004, PlaybackLabel, StateLabel, OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE,
};
use crate::state::{AppState, SchemaState};

/// The process is alive and serving; says nothing about the database.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    summary = "Liveness: the process answers",
    responses(
        (status = 200, description = "Alive", body = Object, example = json!({"status": "ok"})),
    ),
)]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready when the database answers within the configured timeout and migrations are applied.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    summary = "Readiness: the database answers and migrations are applied",
    responses(
        (status = 200, description = "Ready", body = Object, example = json!({"status": "ready"})),
        (status = 503, description = "Not ready", body = Object, example = json!({"status": "not_ready", "error": {"code": "not_ready", "message": "waiting for CineVault's schema: table media_items is missing (CineVault's migration 001, 018, 024 creates it)"}})),
    ),
)]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let limit = state.config.db_timeout + Duration::from_secs(1);
    let outcome = match state.schema_state() {
        SchemaState::Ready { kind, .. } => {
            match tokio::time::timeout(limit, crate::db::check_ready(&state.pool, kind)).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(err)) => Err(format!("the database is unavailable: {err:#}")),
                Err(_) => Err("the database did not answer in time".to_owned()),
            }
        }
        SchemaState::NotReady(why) => Err(why.reason().to_owned()),
        SchemaState::Preparing(None) => Err("the schema is being prepared".to_owned()),
        SchemaState::Preparing(Some(err)) => Err(format!("the database is unavailable: {err}")),
    };
    match outcome {
        Ok(()) => {
            state.metrics.ready.set(1);
            Json(json!({ "status": "ready" })).into_response()
        }
        Err(reason) => {
            state.metrics.ready.set(0);
            tracing::debug!(reason = %reason, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "not_ready",
                    "error": { "code": "not_ready", "message": reason }
                })),
            )
                .into_response()
        }
    }
}

/// The scrape: OpenMetrics when the scraper asks for it, Prometheus text 0.0.4 otherwise.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "health",
    summary = "Prometheus metrics (text 0.0.4, or OpenMetrics when asked); a bearer token only when one is configured",
    responses(
        (status = 200, description = "Metrics", body = String, content_type = "text/plain"),
        (status = 401, description = "No credential, or one not recognised", body = crate::error::ErrorResponse),
        (status = 403, description = "A valid credential of another kind", body = crate::error::ErrorResponse),
        (status = 500, description = "An internal error (details are logged, not sent)", body = crate::error::ErrorResponse),
    ),
    security((), ("bearer" = [])),
)]
pub async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    refresh_at_scrape(&state).await;
    let body = state
        .metrics
        .encode_openmetrics()
        .map_err(|e| AppError::internal(anyhow::anyhow!("encoding metrics: {e}")))?;
    let wants_openmetrics = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/openmetrics-text"));
    let (content_type, body) = if wants_openmetrics {
        (OPENMETRICS_CONTENT_TYPE, body)
    } else {
        (TEXT_CONTENT_TYPE, encode_text_004(&body))
    };
    Ok(([(CONTENT_TYPE, content_type)], body).into_response())
}

static ACTIVE_BY_TYPE_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT playback_type::text, count(*) FROM {} p WHERE is_active GROUP BY 1",
        crate::analytics::plays::union(&["playback_type", "is_active"])
    )
});

/// Pool usage and live sessions are read now rather than tracked. The database query is
/// bounded: when it is slow or away, the scrape still answers with the last values.
async fn refresh_at_scrape(state: &AppState) {
    let m = &state.metrics;
    let status = state.pool.status();
    let idle = i64::try_from(status.available).unwrap_or(0);
    let total = i64::try_from(status.size).unwrap_or(0);
    m.db_pool_connections
        .get_or_create(&StateLabel { state: "idle" })
        .set(idle);
    m.db_pool_connections
        .get_or_create(&StateLabel { state: "in_use" })
        .set((total - idle).max(0));
    m.db_pool_max
        .set(i64::try_from(status.max_size).unwrap_or(0));
    if !state.is_migrated() {
        return;
    }
    let live = async {
        let client = state.pool.get().await?;
        let rows = client.query(ACTIVE_BY_TYPE_SQL.as_str(), &[]).await?;
        let transcodes: i64 = client
            .query_one(
                "SELECT count(*) FROM transcode_history WHERE completed_at IS NULL",
                &[],
            )
            .await?
            .get(0);
        anyhow::Ok((rows, transcodes))
    };
    match tokio::time::timeout(Duration::from_secs(1), live).await {
        Ok(Ok((rows, transcodes))) => {
            for t in PlaybackType::ALL {
                let n: i64 = rows
                    .iter()
                    .find(|r| r.get::<_, &str>(0) == t.as_str())
                    .map(|r| r.get(1))
                    .unwrap_or(0);
                m.active_streams
                    .get_or_create(&PlaybackLabel {
                        playback_type: t.as_str(),
                    })
                    .set(n);
            }
            m.active_transcodes.set(transcodes);
        }
        Ok(Err(err)) => tracing::debug!(
            error = format!("{err:#}"),
            "live session counts unavailable"
        ),
        Err(_) => tracing::debug!("live session counts timed out"),
    }
}
