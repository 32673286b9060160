//! Notification channels: list, create, update (partial), delete, test. The webhook URL is
//! shown masked in every answer; the signing secret is write-only.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{yes, IdPath};
use crate::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, ApiPath};
use crate::ingest::events::{Id, Name};
use crate::notifications::channels::{self, Channel, Deleted, NewChannel};
use crate::notifications::fields::{double_option, mask_url, SigningSecret, WebhookUrl};
use crate::notifications::kinds::{ChannelType, Events};
use crate::notifications::log;
use crate::notifications::message::Alert;
use crate::notifications::policy::AddressPolicy;
use crate::notifications::sender::{Sender, Target};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ChannelOut {
    id: Uuid,
    name: String,
    channel_type: String,
    webhook_url: String,
    is_enabled: bool,
    events: Events,
    signing_secret_set: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Channel> for ChannelOut {
    fn from(c: Channel) -> Self {
        Self {
            webhook_url: mask_url(&c.webhook_url),
            signing_secret_set: c.signing_secret.is_some(),
            id: c.id,
            name: c.name,
            channel_type: c.channel_type,
            is_enabled: c.is_enabled,
            events: c.events,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannel {
    name: Name<100>,
    channel_type: ChannelType,
    webhook_url: WebhookUrl,
    #[serde(default = "yes")]
    is_enabled: bool,
    #[serde(default)]
    events: Option<Events>,
    #[serde(default)]
    signing_secret: Option<SigningSecret>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateChannel {
    name: Option<Name<100>>,
    channel_type: Option<ChannelType>,
    webhook_url: Option<WebhookUrl>,
    is_enabled: Option<bool>,
    events: Option<Events>,
    /// Absent: kept; `null`: removed; a string: replaced.
    #[serde(default, deserialize_with = "double_option")]
    signing_secret: Option<Option<SigningSecret>>,
}

fn check_target(state: &AppState, url: &WebhookUrl) -> AppResult<()> {
    let parsed = crate::notifications::fields::parse_webhook_url(&url.0)
        .map_err(|e| AppError::bad_request("webhook_url", e))?;
    AddressPolicy::from_config(&state.config)
        .check_url(&parsed)
        .map_err(|e| AppError::bad_request("webhook_url", format!("refused: {e}")))
}

fn only_generic_is_signed(channel_type: ChannelType) -> AppResult<()> {
    if channel_type == ChannelType::Generic {
        Ok(())
    } else {
        Err(AppError::bad_request(
            "signing_secret",
            "only generic channels are signed; leave signing_secret out",
        ))
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/notifications/channels",
    tag = "notifications",
    summary = "List notification channels",
    responses(
        (status = 200, description = "The answer", body = Vec<ChannelOut>),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn list(State(state): State<AppState>) -> AppResult<Json<Vec<ChannelOut>>> {
    let client = state.pool.get().await?;
    let all = channels::list(&**client).await?;
    Ok(Json(all.into_iter().map(ChannelOut::from).collect()))
}

#[utoipa::path(
    post,
    path = "/api/v1/notifications/channels",
    tag = "notifications",
    summary = "Create a notification channel",
    request_body = CreateChannel,
    responses(
        (status = 201, description = "Created", body = ChannelOut),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        (status = 413, description = "The body is larger than the limit", body = crate::error::ErrorResponse),
        (status = 415, description = "The body is not JSON", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateChannel>,
) -> AppResult<(StatusCode, Json<ChannelOut>)> {
    check_target(&state, &body.webhook_url)?;
    if body.signing_secret.is_some() {
        only_generic_is_signed(body.channel_type)?;
    }
    let new = NewChannel {
        name: body.name.0,
        channel_type: body.channel_type,
        webhook_url: body.webhook_url.0,
        is_enabled: body.is_enabled,
        events: body.events.unwrap_or_else(Events::all),
        signing_secret: body.signing_secret.map(|s| s.0),
    };
    let client = state.pool.get().await?;
    let channel = channels::insert(&**client, &new).await?;
    tracing::info!(channel.id = %channel.id, channel.kind = %channel.channel_type, "notification channel created");
    Ok((StatusCode::CREATED, Json(channel.into())))
}

#[utoipa::path(
    put,
    path = "/api/v1/notifications/channels/{id}",
    tag = "notifications",
    summary = "Change a notification channel (fields left out are kept)",
    params(IdPath),
    request_body = UpdateChannel,
    responses(
        (status = 200, description = "The answer", body = ChannelOut),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        (status = 404, description = "No such resource", body = crate::error::ErrorResponse),
        (status = 413, description = "The body is larger than the limit", body = crate::error::ErrorResponse),
        (status = 415, description = "The body is not JSON", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn update(
    State(state): State<AppState>,
    ApiPath(IdPath { id: Id(id) }): ApiPath<IdPath>,
    ApiJson(body): ApiJson<UpdateChannel>,
) -> AppResult<Json<ChannelOut>> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let mut channel = channels::get_for_update(&*tx, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no notification channel with id {id}")))?;
    if let Some(name) = body.name {
        channel.name = name.0;
    }
    if let Some(kind) = body.channel_type {
        channel.channel_type = kind.as_str().to_owned();
    }
    if let Some(url) = body.webhook_url {
        // A client that sends back what it was shown keeps the stored URL.
        if url.0 != mask_url(&channel.webhook_url) {
            if url.0.contains('…') {
                return Err(AppError::bad_request(
                    "webhook_url",
                    "this looks like a masked URL; send the full webhook URL, or leave the field out to keep it",
                ));
            }
            check_target(&state, &url)?;
            channel.webhook_url = url.0;
        }
    }
    if let Some(enabled) = body.is_enabled {
        channel.is_enabled = enabled;
    }
    if let Some(events) = body.events {
        channel.events = events;
    }
    let kind = channel.kind();
    match body.signing_secret {
        Some(Some(secret)) => {
            only_generic_is_signed(kind.unwrap_or(ChannelType::Discord))?;
            channel.signing_secret = Some(secret.0);
        }
        Some(None) => channel.signing_secret = None,
        None => {}
    }
    if kind != Some(ChannelType::Generic) {
        channel.signing_secret = None;
    }
    let saved = channels::save(&*tx, &channel).await?;
    tx.commit().await?;
    Ok(Json(saved.into()))
}

#[utoipa::path(
    delete,
    path = "/api/v1/notifications/channels/{id}",
    tag = "notifications",
    summary = "Delete a notification channel",
    params(IdPath),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        (status = 404, description = "No such resource", body = crate::error::ErrorResponse),
        (status = 409, description = "Conflicts with the current state", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn remove(
    State(state): State<AppState>,
    ApiPath(IdPath { id: Id(id) }): ApiPath<IdPath>,
) -> AppResult<StatusCode> {
    let mut client = state.pool.get().await?;
    match channels::delete(&mut client, id).await? {
        Deleted::Yes => {
            tracing::info!(channel.id = %id, "notification channel deleted");
            Ok(StatusCode::NO_CONTENT)
        }
        Deleted::NotFound => Err(AppError::not_found(format!(
            "no notification channel with id {id}"
        ))),
        Deleted::InUse(rules) => Err(AppError::conflict(format!(
            "the channel is used by {} alert rule(s): {}; delete them or move them to another channel first",
            rules.len(),
            rules
                .iter()
                .map(|r| format!("'{r}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TestOutcome {
    delivered: bool,
    http_status: Option<u16>,
    error: Option<String>,
    attempts: u32,
    duration_ms: u64,
}

/// Sends the standard test message now (even to a disabled channel: that is how an admin
/// checks it before enabling it), logs the outcome and answers with it.
#[utoipa::path(
    post,
    path = "/api/v1/notifications/channels/{id}/test",
    tag = "notifications",
    summary = "Send a test alert through a channel",
    params(IdPath),
    responses(
        (status = 200, description = "The delivery outcome", body = TestOutcome),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        (status = 404, description = "No such resource", body = crate::error::ErrorResponse),
        (status = 422, description = "Well-formed but refers to something that does not fit", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn test(
    State(state): State<AppState>,
    ApiPath(IdPath { id: Id(id) }): ApiPath<IdPath>,
) -> AppResult<Json<TestOutcome>> {
    let channel = {
        let client = state.pool.get().await?;
        channels::get(&**client, id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("no notification channel with id {id}")))?
    };
    let Some(channel_type) = channel.kind() else {
        return Err(AppError::unprocessable(
            "channel_type",
            format!("unknown channel type '{}'", channel.channel_type),
        ));
    };
    let sender = Sender::for_state(&state).map_err(AppError::internal)?;
    let sender = sender
        .clone()
        .with_timing(sender.timing().for_test_endpoint());
    let alert = Alert::test(&channel.name, Utc::now());
    let target = Target {
        channel_type,
        webhook_url: channel.webhook_url,
        signing_secret: channel.signing_secret,
    };
    let outcome = sender
        .deliver(&target, &alert, &CancellationToken::new())
        .await;
    let client = state.pool.get().await?;
    log::record(&**client, None, Some(id), &alert, &outcome, Utc::now()).await?;
    Ok(Json(TestOutcome {
        delivered: outcome.delivered,
        http_status: outcome.http_status,
        error: outcome.error,
        attempts: outcome.attempts,
        duration_ms: u64::try_from(outcome.elapsed.as_millis()).unwrap_or(u64::MAX),
    }))
}
