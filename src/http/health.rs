//! Liveness, readiness and the Prometheus scrape.

use std::time::Duration;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::error::AppError;
use crate::metrics::PoolLabels;
use crate::state::AppState;

/// The process is alive and serving; says nothing about the database.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready when the database answers within the configured timeout and migrations are applied.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let limit = state.config.db_timeout + Duration::from_secs(1);
    let outcome = match tokio::time::timeout(limit, crate::db::check_ready(&state.pool)).await {
        Ok(Ok(())) if state.is_migrated() => Ok(()),
        Ok(Ok(())) => Err("migrations are being applied".to_owned()),
        Ok(Err(err)) => Err(format!("{err:#}")),
        Err(_) => Err("the database did not answer in time".to_owned()),
    };
    match outcome {
        Ok(()) => {
            state.metrics.ready.set(1);
            Json(json!({ "status": "ready" })).into_response()
        }
        Err(reason) => {
            state.metrics.ready.set(0);
            tracing::warn!(reason = %reason, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "not_ready",
                    "error": { "code": "not_ready", "message": "the database is unavailable or not migrated" }
                })),
            )
                .into_response()
        }
    }
}

pub async fn metrics(State(state): State<AppState>) -> Result<Response, AppError> {
    let status = state.pool.status();
    let m = &state.metrics;
    let idle = i64::try_from(status.available).unwrap_or(0);
    let total = i64::try_from(status.size).unwrap_or(0);
    m.db_pool_connections
        .get_or_create(&PoolLabels { state: "idle" })
        .set(idle);
    m.db_pool_connections
        .get_or_create(&PoolLabels { state: "in_use" })
        .set((total - idle).max(0));
    m.db_pool_max
        .set(i64::try_from(status.max_size).unwrap_or(0));
    let body = m
        .encode()
        .map_err(|e| AppError::internal(anyhow::anyhow!("encoding metrics: {e}")))?;
    Ok((
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response())
}
