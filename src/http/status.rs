//! `GET /api/v1/status`: what this sidecar is and how it is configured, for an admin.

use axum::extract::State;
use axum::Json;
use chrono::Utc;
use serde_json::{json, Value};

use crate::db::schema;
use crate::error::AppResult;
use crate::state::{AppState, SchemaState};

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
    let schema_versions: Vec<i32> = client
        .query(
            "SELECT version FROM analytics_schema_history ORDER BY 1",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let changes: Vec<Value> = client
        .query(
            "SELECT at, change, object FROM analytics_schema_changes ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            let at: chrono::DateTime<Utc> = r.get(0);
            json!({ "at": at, "change": r.get::<_, String>(1), "object": r.get::<_, String>(2) })
        })
        .collect();
    let c = &state.config;
    let (kind, decided_by) = match state.schema_state() {
        SchemaState::Ready { kind, decided_by } => (Some(kind), Some(decided_by)),
        _ => (None, None),
    };
    let pool = state.pool.status();
    Ok(Json(json!({
        "service": "cinevault-analytics",
        "version": env!("CARGO_PKG_VERSION"),
        "host": state.host,
        "timezone": state.time_zone.name(),
        "started_at": state.started_at,
        "uptime_seconds": (Utc::now() - state.started_at).num_seconds(),
        "schema": {
            "steps_applied": schema_versions,
            "steps_expected": kind.map(schema::required_versions),
            "changes": changes,
        },
        "database": {
            "mode": kind.map(schema::Kind::as_str),
            "decided_by": decided_by,
            "configured_mode": c.database_mode.as_str(),
            "db_timezone": c.db_timezone.name(),
            "pool_size": pool.size, "pool_available": pool.available, "pool_max": pool.max_size,
        },
        "cinevault_workers": state.is_cinevault().then(|| state.cinevault_workers()),
        "settings": {
            "media_path": c.media_path.display().to_string(),
            "collect_interval_seconds": c.collect_interval.as_secs(),
            "alert_interval_seconds": c.alert_interval.as_secs(),
            "metrics_retention_seconds": c.metrics_retention.as_secs(),
            "stale_session_after_seconds": c.stale_session_after.as_secs(),
            "play_gap_seconds": c.play_gap.as_secs(),
            "evaluate_alerts": c.evaluate_alerts,
            "jwt_enabled": c.jwt_secret.is_some(),
            "metrics_protected": c.metrics_token.is_some(),
        }
    })))
}
