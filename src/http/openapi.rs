//! The OpenAPI 3 document of the whole API, served open at `/api/v1/openapi.json`. It is
//! assembled from the handlers' own `#[utoipa::path]` attributes and the request and answer
//! types they use, so it follows the code.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{analytics, health, ingest, notifications, status};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CineVault Analytics",
        description = "Admin, ingest and health API of the CineVault analytics sidecar. Every \
                       4xx/5xx answer has the body `{\"error\": {\"code\", \"message\", \"field\"}}` \
                       (`field` only when one is at fault). Admin routes take the admin token or an \
                       admin JWT; ingest routes take the ingest token; both as `Authorization: Bearer`."
    ),
    paths(
        health::healthz,
        health::readyz,
        health::metrics,
        status::status,
        analytics::get_overview,
        analytics::get_streams,
        analytics::get_stream_breakdown,
        analytics::get_watch_activity,
        analytics::get_user_activity,
        analytics::get_transcodes,
        analytics::get_system,
        analytics::get_system_history,
        analytics::get_storage,
        analytics::get_library_health,
        analytics::get_trends,
        notifications::channels::list,
        notifications::channels::create,
        notifications::channels::update,
        notifications::channels::remove,
        notifications::channels::test,
        notifications::rules::list,
        notifications::rules::create,
        notifications::rules::update,
        notifications::rules::remove,
        notifications::log::recent,
        ingest::session_start,
        ingest::session_progress,
        ingest::session_stop,
        ingest::stream_error,
        ingest::transcode_start,
        ingest::transcode_complete,
        ingest::user,
        ingest::library,
        ingest::media_item,
        ingest::batch,
        document,
    ),
    components(schemas(crate::error::ErrorResponse, crate::ingest::Event)),
    modifiers(&BearerScheme),
    tags(
        (name = "health", description = "Liveness, readiness, metrics and this document (no credential)"),
        (name = "status", description = "The service's own state (admin)"),
        (name = "analytics", description = "Read-only analytics (admin); see docs/api-analytics.md"),
        (name = "notifications", description = "Alert channels, rules and log (admin)"),
        (name = "ingest", description = "What the media server reports (ingest token)"),
    )
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The admin token or an admin JWT (admin routes), the ingest token \
                         (ingest routes), or the metrics token (/metrics, when configured).",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document, built once.
pub fn spec() -> &'static utoipa::openapi::OpenApi {
    static SPEC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    SPEC.get_or_init(ApiDoc::openapi)
}

#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "health",
    summary = "This OpenAPI document",
    responses((status = 200, description = "The OpenAPI 3 document", body = Object)),
)]
pub(super) async fn document() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(spec())
}

/// The answers every authenticated route can give besides its own: one place for their
/// wording, listed in each operation with `responses(..., AuthErrors)`.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum AuthErrors {
    #[response(status = 401, description = "No credential, or one not recognised")]
    Unauthorized(crate::error::ErrorResponse),
    #[response(status = 403, description = "A valid credential of another kind")]
    Forbidden(crate::error::ErrorResponse),
    #[response(
        status = 500,
        description = "An internal error (details are logged, not sent)"
    )]
    Internal(crate::error::ErrorResponse),
    #[response(
        status = 503,
        description = "Starting up (migrations not applied), the database is unavailable, or the request took too long"
    )]
    Unavailable(crate::error::ErrorResponse),
}
