//! Alert rules: list, create, update (partial), delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{yes, IdPath};
use crate::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, ApiPath};
use crate::ingest::events::{Id, Name};
use crate::notifications::fields::{Cooldown, Threshold};
use crate::notifications::kinds::ConditionType;
use crate::notifications::rules::{self, real_to_f64, Rule};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct RuleOut {
    id: Uuid,
    name: String,
    condition_type: String,
    threshold: f64,
    cooldown_minutes: i32,
    channel_id: Uuid,
    is_enabled: bool,
    send_resolved: bool,
    last_triggered_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Rule> for RuleOut {
    fn from(r: Rule) -> Self {
        Self {
            id: r.id,
            name: r.name,
            condition_type: r.condition_type,
            threshold: real_to_f64(r.threshold),
            cooldown_minutes: r.cooldown_minutes,
            channel_id: r.channel_id,
            is_enabled: r.is_enabled,
            send_resolved: r.send_resolved,
            last_triggered_at: r.last_triggered_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRule {
    name: Name<100>,
    condition_type: ConditionType,
    #[serde(default)]
    threshold: Threshold,
    #[serde(default)]
    cooldown_minutes: Cooldown,
    channel_id: Uuid,
    #[serde(default = "yes")]
    is_enabled: bool,
    #[serde(default = "yes")]
    send_resolved: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRule {
    name: Option<Name<100>>,
    condition_type: Option<ConditionType>,
    threshold: Option<Threshold>,
    cooldown_minutes: Option<Cooldown>,
    channel_id: Option<Uuid>,
    is_enabled: Option<bool>,
    send_resolved: Option<bool>,
}

fn unknown_channel(id: Uuid) -> AppError {
    AppError::unprocessable(
        "channel_id",
        format!("no notification channel with id {id}"),
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/notifications/alerts",
    tag = "notifications",
    summary = "List alert rules",
    responses(
        (status = 200, description = "The answer", body = Vec<RuleOut>),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn list(State(state): State<AppState>) -> AppResult<Json<Vec<RuleOut>>> {
    let client = state.pool.get().await?;
    let all = rules::list(&**client).await?;
    Ok(Json(all.into_iter().map(RuleOut::from).collect()))
}

#[utoipa::path(
    post,
    path = "/api/v1/notifications/alerts",
    tag = "notifications",
    summary = "Create an alert rule",
    request_body = CreateRule,
    responses(
        (status = 201, description = "Created", body = RuleOut),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        (status = 413, description = "The body is larger than the limit", body = crate::error::ErrorResponse),
        (status = 415, description = "The body is not JSON", body = crate::error::ErrorResponse),
        (status = 422, description = "Well-formed but refers to something that does not fit", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateRule>,
) -> AppResult<(StatusCode, Json<RuleOut>)> {
    let now = Utc::now();
    let new = Rule {
        id: Uuid::nil(),
        name: body.name.0,
        condition_type: body.condition_type.as_str().to_owned(),
        threshold: body.threshold.0,
        cooldown_minutes: body.cooldown_minutes.0,
        channel_id: body.channel_id,
        is_enabled: body.is_enabled,
        send_resolved: body.send_resolved,
        last_triggered_at: None,
        created_at: now,
        updated_at: now,
    };
    let client = state.pool.get().await?;
    let rule = rules::insert(&**client, &new)
        .await?
        .ok_or_else(|| unknown_channel(body.channel_id))?;
    tracing::info!(rule.id = %rule.id, rule.condition = %rule.condition_type, "alert rule created");
    Ok((StatusCode::CREATED, Json(rule.into())))
}

#[utoipa::path(
    put,
    path = "/api/v1/notifications/alerts/{id}",
    tag = "notifications",
    summary = "Change an alert rule (fields left out are kept)",
    params(IdPath),
    request_body = UpdateRule,
    responses(
        (status = 200, description = "The answer", body = RuleOut),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        (status = 404, description = "No such resource", body = crate::error::ErrorResponse),
        (status = 413, description = "The body is larger than the limit", body = crate::error::ErrorResponse),
        (status = 415, description = "The body is not JSON", body = crate::error::ErrorResponse),
        (status = 422, description = "Well-formed but refers to something that does not fit", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn update(
    State(state): State<AppState>,
    ApiPath(IdPath { id: Id(id) }): ApiPath<IdPath>,
    ApiJson(body): ApiJson<UpdateRule>,
) -> AppResult<Json<RuleOut>> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let mut rule = rules::get_for_update(&*tx, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no alert rule with id {id}")))?;
    let mut condition_changed = false;
    if let Some(name) = body.name {
        rule.name = name.0;
    }
    if let Some(c) = body.condition_type {
        condition_changed = c.as_str() != rule.condition_type;
        rule.condition_type = c.as_str().to_owned();
    }
    if let Some(t) = body.threshold {
        rule.threshold = t.0;
    }
    if let Some(c) = body.cooldown_minutes {
        rule.cooldown_minutes = c.0;
    }
    if let Some(ch) = body.channel_id {
        rule.channel_id = ch;
    }
    if let Some(e) = body.is_enabled {
        rule.is_enabled = e;
    }
    if let Some(s) = body.send_resolved {
        rule.send_resolved = s;
    }
    let saved = rules::save(&*tx, &rule)
        .await?
        .ok_or_else(|| unknown_channel(rule.channel_id))?;
    if condition_changed {
        // Another condition is judged on other subjects: start from a clean slate.
        rules::clear_state(&*tx, id).await?;
    }
    tx.commit().await?;
    Ok(Json(saved.into()))
}

#[utoipa::path(
    delete,
    path = "/api/v1/notifications/alerts/{id}",
    tag = "notifications",
    summary = "Delete an alert rule",
    params(IdPath),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "A parameter or field is invalid; `field` names it", body = crate::error::ErrorResponse),
        (status = 404, description = "No such resource", body = crate::error::ErrorResponse),
        crate::http::openapi::AuthErrors,
    ),
    security(("bearer" = [])),
)]
pub async fn remove(
    State(state): State<AppState>,
    ApiPath(IdPath { id: Id(id) }): ApiPath<IdPath>,
) -> AppResult<StatusCode> {
    let client = state.pool.get().await?;
    if rules::delete(&**client, id).await? {
        tracing::info!(rule.id = %id, "alert rule deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::not_found(format!("no alert rule with id {id}")))
    }
}
