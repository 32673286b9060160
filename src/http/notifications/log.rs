//! `GET /notifications/log`: the last 100 deliveries, newest first.

use axum::extract::State;
use axum::Json;

use crate::error::AppResult;
use crate::notifications::log::{self, Entry};
use crate::state::AppState;

pub async fn recent(State(state): State<AppState>) -> AppResult<Json<Vec<Entry>>> {
    let client = state.pool.get().await?;
    Ok(Json(log::recent(&**client).await?))
}
