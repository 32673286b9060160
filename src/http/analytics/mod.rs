//! The 11 analytics endpoints (`/api/v1/analytics/...`): thin handlers that check their
//! parameters (`params`) and call the queries in [`crate::analytics`]. The reference with
//! every parameter and answer field is `docs/api-analytics.md`.

mod params;

use std::time::Duration;

use axum::extract::State;
use axum::http::Method;
use axum::routing::get;
use axum::Json;
use chrono::Utc;
use deadpool_postgres::Timeouts;

use super::{admin, AdminRoute};
use crate::analytics::{
    library_health, overview, storage, streams, system, transcodes, trends, users, watch,
    AnalyticsOverview, LibraryHealth, StorageSummary, StreamList, StreamTypeBreakdown,
    SystemHistory, SystemSnapshots, TranscodeStats, Trends, UserActivityList, WatchActivityPage,
};
use crate::error::AppResult;
use crate::http::extract::ApiQuery;
use crate::state::AppState;
use params::{DaysParams, HistoryParams, HostParams, TrendParams, WatchParams};

pub fn routes() -> Vec<AdminRoute> {
    vec![
        admin(Method::GET, "/analytics/overview", get(get_overview)),
        admin(Method::GET, "/analytics/streams", get(get_streams)),
        admin(
            Method::GET,
            "/analytics/streams/breakdown",
            get(get_stream_breakdown),
        ),
        admin(
            Method::GET,
            "/analytics/watch-activity",
            get(get_watch_activity),
        ),
        admin(
            Method::GET,
            "/analytics/users/activity",
            get(get_user_activity),
        ),
        admin(Method::GET, "/analytics/transcodes", get(get_transcodes)),
        admin(Method::GET, "/analytics/system", get(get_system)),
        admin(
            Method::GET,
            "/analytics/system/history",
            get(get_system_history),
        ),
        admin(Method::GET, "/analytics/storage", get(get_storage)),
        admin(
            Method::GET,
            "/analytics/library-health",
            get(get_library_health),
        ),
        admin(Method::GET, "/analytics/trends", get(get_trends)),
    ]
}

/// A second connection for an answer made of independent scans, so they run at once; `None`
/// when the pool has none free this instant (the scans then share the first connection, one
/// after the other: never waiting for a second connection while holding one).
async fn spare_connection(state: &AppState) -> Option<deadpool_postgres::Object> {
    let now = Timeouts {
        wait: Some(Duration::ZERO),
        ..state.pool.timeouts()
    };
    state.pool.timeout_get(&now).await.ok()
}

#[utoipa::path(
    get,
    path = "/api/v1/analytics/overview",
    tag = "analytics",
    summary = "Server overview now and today",
    responses(
        (status = 200, description = "The answer", body = AnalyticsOverview),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn get_overview(
    State(state): State<AppState>,
) -> AppResult<Json<AnalyticsOverview>> {
    let mut client = state.pool.get().await?;
    let mut spare = spare_connection(&state).await;
    let answer = overview::load(
        &mut client,
        spare.as_deref_mut().map(|c| &mut **c),
        state.time_zone,
        &state.host,
        Utc::now(),
    )
    .await?;
    Ok(Json(answer))
}

#[utoipa::path(
    get,
    path = "/api/v1/analytics/streams",
    tag = "analytics",
    summary = "Active and recent stream sessions",
    responses(
        (status = 200, description = "The answer", body = StreamList),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn get_streams(State(state): State<AppState>) -> AppResult<Json<StreamList>> {
    let client = state.pool.get().await?;
    Ok(Json(streams::list(&**client).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/analytics/streams/breakdown",
    tag = "analytics",
    summary = "Plays per playback type over the last N days",
    params(DaysParams),
    responses(
        (status = 200, description = "The answer", body = StreamTypeBreakdown),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn get_stream_breakdown(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DaysParams>,
) -> AppResult<Json<StreamTypeBreakdown>> {
    let days = q.days()?;
    let client = state.pool.get().await?;
    let answer = streams::breakdown(&**client, state.time_zone, days, Utc::now()).await?;
    Ok(Json(answer))
}

#[utoipa::path(
    get,
    path = "/api/v1/analytics/watch-activity",
    tag = "analytics",
    summary = "Watch history, newest first, with a cursor",
    params(WatchParams),
    responses(
        (status = 200, description = "The answer", body = WatchActivityPage),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn get_watch_activity(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<WatchParams>,
) -> AppResult<Json<WatchActivityPage>> {
    let filter = q.filter(state.time_zone)?;
    let client = state.pool.get().await?;
    Ok(Json(watch::page(&**client, &filter).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/analytics/users/activity",
    tag = "analytics",
    summary = "Per-user activity summaries",
    responses(
        (status = 200, description = "The answer", body = UserActivityList),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn get_user_activity(
    State(state): State<AppState>,
) -> AppResult<Json<UserActivityList>> {
    let client = state.pool.get().await?;
    Ok(Json(users::summaries(&**client).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/analytics/transcodes",
    tag = "analytics",
    summary = "Transcode statistics over the last N days",
    params(DaysParams),
    responses(
        (status = 200, description = "The answer", body = TranscodeStats),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn get_transcodes(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DaysParams>,
) -> AppResult<Json<TranscodeStats>> {
    let days = q.days()?;
    let client = state.pool.get().await?;
    let answer = transcodes::stats(&**client, state.time_zone, days, Utc::now()).await?;
    Ok(Json(answer))
}

#[utoipa::path(
    get,
    path = "/api/v1/analytics/system",
    tag = "analytics",
    summary = "The latest system snapshot per host",
    params(HostParams),
    responses(
        (status = 200, description = "The answer", body = SystemSnapshots),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn get_system(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<HostParams>,
) -> AppResult<Json<SystemSnapshots>> {
    let host = q.host();
    let client = state.pool.get().await?;
    Ok(Json(system::latest(&**client, host.as_deref()).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/analytics/system/history",
    tag = "analytics",
    summary = "System metrics over time, downsampled",
    params(HistoryParams),
    responses(
        (status = 200, description = "The answer", body = SystemHistory),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn get_system_history(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<HistoryParams>,
) -> AppResult<Json<SystemHistory>> {
    let (hours, host) = q.check()?;
    let client = state.pool.get().await?;
    let answer = system::history(&**client, hours, host.as_deref(), Utc::now()).await?;
    Ok(Json(answer))
}

#[utoipa::path(
    get,
    path = "/api/v1/analytics/storage",
    tag = "analytics",
    summary = "Items and bytes per library",
    responses(
        (status = 200, description = "The answer", body = StorageSummary),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn get_storage(State(state): State<AppState>) -> AppResult<Json<StorageSummary>> {
    let client = state.pool.get().await?;
    Ok(Json(storage::summary(&**client).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/analytics/library-health",
    tag = "analytics",
    summary = "Metadata completeness and media formats per library",
    responses(
        (status = 200, description = "The answer", body = LibraryHealth),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn get_library_health(
    State(state): State<AppState>,
) -> AppResult<Json<LibraryHealth>> {
    let client = state.pool.get().await?;
    let spare = spare_connection(&state).await;
    let other = spare_connection(&state).await;
    let second: &tokio_postgres::Client = spare.as_deref().unwrap_or(&client);
    let third: &tokio_postgres::Client = match other.as_deref() {
        Some(c) => c,
        None => second,
    };
    Ok(Json(
        library_health::reports(&**client, second, third).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/analytics/trends",
    tag = "analytics",
    summary = "Daily statistics in a date range",
    params(TrendParams),
    responses(
        (status = 200, description = "The answer", body = Trends),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn get_trends(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<TrendParams>,
) -> AppResult<Json<Trends>> {
    let (from, to) = q.range(state.time_zone, Utc::now())?;
    let client = state.pool.get().await?;
    Ok(Json(trends::range(&**client, from, to).await?))
}
