//! `/api/v1/ingest/...`: the media server's reports. Single-event routes and a batch route
//! share one path into the group-commit writer; a 2xx means the events are committed.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, ApiPath};
use crate::ingest::events::{
    Id, LibraryUpsert, MediaItemUpsert, SessionProgress, SessionStart, SessionStop, StreamError,
    TranscodeComplete, TranscodeStart, UserUpsert,
};
use crate::ingest::{Event, Rejection};
use crate::state::AppState;

/// Most events one batch request may carry.
pub const MAX_BATCH_EVENTS: usize = 5_000;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SessionPath {
    /// The session's UUID.
    id: Id,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TranscodePath {
    /// The transcode's UUID.
    id: Id,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    events: Vec<Event>,
}

/// What a successful ingest call answers: `{"status":"committed"}`, plus `events` for a batch.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Committed {
    /// Always `committed`.
    #[schema(example = "committed")]
    status: &'static str,
    /// How many events a batch committed (batches only).
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<usize>,
}

impl Committed {
    fn new(events: Option<usize>) -> Self {
        Self {
            status: "committed",
            events,
        }
    }
}

async fn commit(
    state: &AppState,
    events: Vec<Event>,
    prefix: impl Fn(usize) -> String,
) -> AppResult<usize> {
    let n = events.len();
    // On CineVault's database its users, libraries and media items are CineVault's own: the
    // catalogue events are for a media server whose catalogue lives elsewhere.
    if state.is_cinevault() {
        if let Some(i) = events.iter().position(Event::is_catalogue) {
            return Err(AppError::conflict(
                "catalogue events are refused on CineVault's database: its users, libraries \
                 and media items are CineVault's own (send sessions, transcodes and errors only)",
            )
            .with_field(format!("{}type", prefix(i))));
        }
    }
    match state.ingest.submit(events).await {
        Ok(_) => Ok(n),
        Err(Rejection::Event(i, refusal)) => Err(refusal.into_app_error(&prefix(i))),
        Err(Rejection::Group(err)) => Err(err),
    }
}

async fn one(state: &AppState, event: Event) -> AppResult<(StatusCode, Json<Committed>)> {
    commit(state, vec![event], |_| String::new()).await?;
    Ok((StatusCode::OK, Json(Committed::new(None))))
}

#[utoipa::path(
    post,
    path = "/api/v1/ingest/sessions",
    tag = "ingest",
    summary = "A stream session started",
    request_body = SessionStart,
    responses(
        (status = 200, description = "Committed", body = Committed),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        (status = 404, description = "No such resource", body = crate::error::ErrorResponse),
        (status = 409, description = "Conflicts with the current state", body = crate::error::ErrorResponse),
        (status = 413, description = "The body is larger than the limit", body = crate::error::ErrorResponse),
        (status = 415, description = "The body is not JSON", body = crate::error::ErrorResponse),
        (status = 422, description = "Well-formed but refers to something that does not fit", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn session_start(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<SessionStart>,
) -> AppResult<(StatusCode, Json<Committed>)> {
    one(&s, Event::SessionStart(b)).await
}

#[utoipa::path(
    post,
    path = "/api/v1/ingest/sessions/{id}/progress",
    tag = "ingest",
    summary = "A stream session's progress",
    params(SessionPath),
    request_body = SessionProgress,
    responses(
        (status = 200, description = "Committed", body = Committed),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        (status = 404, description = "No such resource", body = crate::error::ErrorResponse),
        (status = 409, description = "Conflicts with the current state", body = crate::error::ErrorResponse),
        (status = 413, description = "The body is larger than the limit", body = crate::error::ErrorResponse),
        (status = 415, description = "The body is not JSON", body = crate::error::ErrorResponse),
        (status = 422, description = "Well-formed but refers to something that does not fit", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn session_progress(
    State(s): State<AppState>,
    ApiPath(p): ApiPath<SessionPath>,
    ApiJson(progress): ApiJson<SessionProgress>,
) -> AppResult<(StatusCode, Json<Committed>)> {
    one(
        &s,
        Event::SessionProgress {
            session_id: p.id,
            progress,
        },
    )
    .await
}

/// A stop may come with no body at all, or with final figures.
#[utoipa::path(
    post,
    path = "/api/v1/ingest/sessions/{id}/stop",
    tag = "ingest",
    summary = "A stream session stopped (the body may be empty)",
    params(SessionPath),
    request_body = Option<SessionStop>,
    responses(
        (status = 200, description = "Committed", body = Committed),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        (status = 404, description = "No such resource", body = crate::error::ErrorResponse),
        (status = 409, description = "Conflicts with the current state", body = crate::error::ErrorResponse),
        (status = 413, description = "The body is larger than the limit", body = crate::error::ErrorResponse),
        (status = 415, description = "The body is not JSON", body = crate::error::ErrorResponse),
        (status = 422, description = "Well-formed but refers to something that does not fit", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn session_stop(
    State(s): State<AppState>,
    ApiPath(p): ApiPath<SessionPath>,
    body: axum::body::Bytes,
) -> AppResult<(StatusCode, Json<Committed>)> {
    let stop = if body.iter().all(u8::is_ascii_whitespace) {
        SessionStop::default()
    } else {
        crate::http::extract::parse_json::<SessionStop>(&body)?
    };
    one(
        &s,
        Event::SessionStop {
            session_id: p.id,
            stop,
        },
    )
    .await
}

#[utoipa::path(
    post,
    path = "/api/v1/ingest/stream-errors",
    tag = "ingest",
    summary = "A stream error (give session_id, or user_id and media_item_id)",
    request_body = StreamError,
    responses(
        (status = 200, description = "Committed", body = Committed),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        (status = 404, description = "No such resource", body = crate::error::ErrorResponse),
        (status = 409, description = "Conflicts with the current state", body = crate::error::ErrorResponse),
        (status = 413, description = "The body is larger than the limit", body = crate::error::ErrorResponse),
        (status = 415, description = "The body is not JSON", body = crate::error::ErrorResponse),
        (status = 422, description = "Well-formed but refers to something that does not fit", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn stream_error(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<StreamError>,
) -> AppResult<(StatusCode, Json<Committed>)> {
    if b.session_id.is_none() && (b.user_id.is_none() || b.media_item_id.is_none()) {
        return Err(AppError::bad_request(
            "session_id",
            "give session_id, or user_id and media_item_id",
        ));
    }
    one(&s, Event::StreamError(b)).await
}

#[utoipa::path(
    post,
    path = "/api/v1/ingest/transcodes",
    tag = "ingest",
    summary = "A transcode started",
    request_body = TranscodeStart,
    responses(
        (status = 200, description = "Committed", body = Committed),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        (status = 404, description = "No such resource", body = crate::error::ErrorResponse),
        (status = 409, description = "Conflicts with the current state", body = crate::error::ErrorResponse),
        (status = 413, description = "The body is larger than the limit", body = crate::error::ErrorResponse),
        (status = 415, description = "The body is not JSON", body = crate::error::ErrorResponse),
        (status = 422, description = "Well-formed but refers to something that does not fit", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn transcode_start(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<TranscodeStart>,
) -> AppResult<(StatusCode, Json<Committed>)> {
    one(&s, Event::TranscodeStart(b)).await
}

#[utoipa::path(
    post,
    path = "/api/v1/ingest/transcodes/{id}/complete",
    tag = "ingest",
    summary = "A transcode finished",
    params(TranscodePath),
    request_body = TranscodeComplete,
    responses(
        (status = 200, description = "Committed", body = Committed),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        (status = 404, description = "No such resource", body = crate::error::ErrorResponse),
        (status = 409, description = "Conflicts with the current state", body = crate::error::ErrorResponse),
        (status = 413, description = "The body is larger than the limit", body = crate::error::ErrorResponse),
        (status = 415, description = "The body is not JSON", body = crate::error::ErrorResponse),
        (status = 422, description = "Well-formed but refers to something that does not fit", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn transcode_complete(
    State(s): State<AppState>,
    ApiPath(p): ApiPath<TranscodePath>,
    ApiJson(complete): ApiJson<TranscodeComplete>,
) -> AppResult<(StatusCode, Json<Committed>)> {
    one(
        &s,
        Event::TranscodeComplete {
            transcode_id: p.id,
            complete,
        },
    )
    .await
}

#[utoipa::path(
    put,
    path = "/api/v1/ingest/users",
    tag = "ingest",
    summary = "Create or update a user",
    request_body = UserUpsert,
    responses(
        (status = 200, description = "Committed", body = Committed),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        (status = 404, description = "No such resource", body = crate::error::ErrorResponse),
        (status = 409, description = "Conflicts with the current state", body = crate::error::ErrorResponse),
        (status = 413, description = "The body is larger than the limit", body = crate::error::ErrorResponse),
        (status = 415, description = "The body is not JSON", body = crate::error::ErrorResponse),
        (status = 422, description = "Well-formed but refers to something that does not fit", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn user(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<UserUpsert>,
) -> AppResult<(StatusCode, Json<Committed>)> {
    one(&s, Event::User(b)).await
}

#[utoipa::path(
    put,
    path = "/api/v1/ingest/libraries",
    tag = "ingest",
    summary = "Create or update a library",
    request_body = LibraryUpsert,
    responses(
        (status = 200, description = "Committed", body = Committed),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        (status = 404, description = "No such resource", body = crate::error::ErrorResponse),
        (status = 409, description = "Conflicts with the current state", body = crate::error::ErrorResponse),
        (status = 413, description = "The body is larger than the limit", body = crate::error::ErrorResponse),
        (status = 415, description = "The body is not JSON", body = crate::error::ErrorResponse),
        (status = 422, description = "Well-formed but refers to something that does not fit", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn library(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<LibraryUpsert>,
) -> AppResult<(StatusCode, Json<Committed>)> {
    one(&s, Event::Library(b)).await
}

#[utoipa::path(
    put,
    path = "/api/v1/ingest/media-items",
    tag = "ingest",
    summary = "Create or update a media item",
    request_body = MediaItemUpsert,
    responses(
        (status = 200, description = "Committed", body = Committed),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        (status = 404, description = "No such resource", body = crate::error::ErrorResponse),
        (status = 409, description = "Conflicts with the current state", body = crate::error::ErrorResponse),
        (status = 413, description = "The body is larger than the limit", body = crate::error::ErrorResponse),
        (status = 415, description = "The body is not JSON", body = crate::error::ErrorResponse),
        (status = 422, description = "Well-formed but refers to something that does not fit", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn media_item(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<MediaItemUpsert>,
) -> AppResult<(StatusCode, Json<Committed>)> {
    one(&s, Event::MediaItem(b)).await
}

/// Many events in one request, committed together: all or none.
#[utoipa::path(
    post,
    path = "/api/v1/ingest/batch",
    tag = "ingest",
    summary = "Up to 5,000 events in one transaction; `field` is prefixed events[i].",
    request_body = Batch,
    responses(
        (status = 200, description = "Committed", body = Committed),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        (status = 404, description = "No such resource", body = crate::error::ErrorResponse),
        (status = 409, description = "Conflicts with the current state", body = crate::error::ErrorResponse),
        (status = 413, description = "The body is larger than the limit", body = crate::error::ErrorResponse),
        (status = 415, description = "The body is not JSON", body = crate::error::ErrorResponse),
        (status = 422, description = "Well-formed but refers to something that does not fit", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn batch(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<Batch>,
) -> AppResult<Json<Committed>> {
    if b.events.is_empty() {
        return Err(AppError::bad_request(
            "events",
            "must hold at least one event",
        ));
    }
    if b.events.len() > MAX_BATCH_EVENTS {
        return Err(AppError::bad_request(
            "events",
            format!("must hold at most {MAX_BATCH_EVENTS} events; split the batch"),
        ));
    }
    for (i, e) in b.events.iter().enumerate() {
        if let Event::StreamError(se) = e {
            if se.session_id.is_none() && (se.user_id.is_none() || se.media_item_id.is_none()) {
                return Err(AppError::bad_request(
                    format!("events[{i}].session_id"),
                    "give session_id, or user_id and media_item_id",
                ));
            }
        }
    }
    let n = commit(&s, b.events, |i| format!("events[{i}].")).await?;
    Ok(Json(Committed::new(Some(n))))
}
