//! `/api/v1/ingest/...`: the media server's reports. Single-event routes and a batch route
//! share one path into the group-commit writer; a 2xx means the events are committed.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

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

#[derive(Deserialize)]
pub struct SessionPath {
    id: Id,
}

#[derive(Deserialize)]
pub struct TranscodePath {
    id: Id,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    events: Vec<Event>,
}

async fn commit(
    state: &AppState,
    events: Vec<Event>,
    prefix: impl Fn(usize) -> String,
) -> AppResult<usize> {
    let n = events.len();
    match state.ingest.submit(events).await {
        Ok(_) => Ok(n),
        Err(Rejection::Event(i, refusal)) => Err(refusal.into_app_error(&prefix(i))),
        Err(Rejection::Group(err)) => Err(err),
    }
}

async fn one(state: &AppState, event: Event) -> AppResult<(StatusCode, Json<Value>)> {
    commit(state, vec![event], |_| String::new()).await?;
    Ok((StatusCode::OK, Json(json!({ "status": "committed" }))))
}

pub async fn session_start(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<SessionStart>,
) -> AppResult<(StatusCode, Json<Value>)> {
    one(&s, Event::SessionStart(b)).await
}

pub async fn session_progress(
    State(s): State<AppState>,
    ApiPath(p): ApiPath<SessionPath>,
    ApiJson(progress): ApiJson<SessionProgress>,
) -> AppResult<(StatusCode, Json<Value>)> {
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
pub async fn session_stop(
    State(s): State<AppState>,
    ApiPath(p): ApiPath<SessionPath>,
    body: axum::body::Bytes,
) -> AppResult<(StatusCode, Json<Value>)> {
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

pub async fn stream_error(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<StreamError>,
) -> AppResult<(StatusCode, Json<Value>)> {
    if b.session_id.is_none() && (b.user_id.is_none() || b.media_item_id.is_none()) {
        return Err(AppError::bad_request(
            "session_id",
            "give session_id, or user_id and media_item_id",
        ));
    }
    one(&s, Event::StreamError(b)).await
}

pub async fn transcode_start(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<TranscodeStart>,
) -> AppResult<(StatusCode, Json<Value>)> {
    one(&s, Event::TranscodeStart(b)).await
}

pub async fn transcode_complete(
    State(s): State<AppState>,
    ApiPath(p): ApiPath<TranscodePath>,
    ApiJson(complete): ApiJson<TranscodeComplete>,
) -> AppResult<(StatusCode, Json<Value>)> {
    one(
        &s,
        Event::TranscodeComplete {
            transcode_id: p.id,
            complete,
        },
    )
    .await
}

pub async fn user(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<UserUpsert>,
) -> AppResult<(StatusCode, Json<Value>)> {
    one(&s, Event::User(b)).await
}

pub async fn library(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<LibraryUpsert>,
) -> AppResult<(StatusCode, Json<Value>)> {
    one(&s, Event::Library(b)).await
}

pub async fn media_item(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<MediaItemUpsert>,
) -> AppResult<(StatusCode, Json<Value>)> {
    one(&s, Event::MediaItem(b)).await
}

/// Many events in one request, committed together: all or none.
pub async fn batch(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<Batch>,
) -> AppResult<Json<Value>> {
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
    Ok(Json(json!({ "status": "committed", "events": n })))
}
