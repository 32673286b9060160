//! `GET /notifications/log`: the last 100 deliveries, newest first.

use axum::extract::State;
use axum::Json;

use crate::error::AppResult;
use crate::notifications::log::{self, Entry};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/v1/notifications/log",
    tag = "notifications",
    summary = "The most recent alert deliveries, newest first",
    responses(
        (status = 200, description = "The answer", body = Vec<Entry>),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn recent(State(state): State<AppState>) -> AppResult<Json<Vec<Entry>>> {
    let client = state.pool.get().await?;
    Ok(Json(log::recent(&**client).await?))
}
