//! `GET /api/v1/status`: what this sidecar is and how it is configured, for an admin.

use axum::extract::State;
use axum::Json;
use chrono::Utc;
use serde_json::{json, Value};

use crate::db::migrate;
use crate::error::AppResult;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/v1/status",
    tag = "status",
    summary = "Service, schema, pool and settings",
    responses(
        (status = 200, description = "Service status", body = Object),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn status(State(state): State<AppState>) -> AppResult<Json<Value>> {
    let client = state.pool.get().await?;
    let schema_version: Option<i32> = client
        .query_one("SELECT max(version) FROM refinery_schema_history", &[])
        .await?
        .get(0);
    let pool = state.pool.status();
    let c = &state.config;
    Ok(Json(json!({
        "service": "cinevault-analytics",
        "version": env!("CARGO_PKG_VERSION"),
        "host": state.host,
        "timezone": state.time_zone.name(),
        "started_at": state.started_at,
        "uptime_seconds": (Utc::now() - state.started_at).num_seconds(),
        "schema_version": schema_version,
        "schema_version_expected": migrate::latest_version(),
        "database": { "pool_size": pool.size, "pool_available": pool.available, "pool_max": pool.max_size },
        "settings": {
            "media_path": c.media_path.display().to_string(),
            "collect_interval_seconds": c.collect_interval.as_secs(),
            "alert_interval_seconds": c.alert_interval.as_secs(),
            "metrics_retention_seconds": c.metrics_retention.as_secs(),
            "stale_session_after_seconds": c.stale_session_after.as_secs(),
            "jwt_enabled": c.jwt_secret.is_some(),
            "metrics_protected": c.metrics_token.is_some(),
        }
    })))
}
