//! The HTTP layer: one router, the admin and ingest subtrees behind their credentials, and
//! the layers every request goes through (tracing, metrics, body limit, time limit).

mod analytics;
pub mod auth;
pub mod extract;
mod health;
mod ingest;
mod notifications;
mod openapi;
pub mod serve;
mod status;
mod web;

use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put, MethodRouter};
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::error::AppError;
use crate::metrics::{HttpLabels, RouteLabels};
use crate::state::AppState;

/// How long one request may take before it is answered 503; bounded so that a database
/// that stops answering never leaves a client hanging.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One admin route: registered from this table, so the auth tests can walk exactly what the
/// router serves.
pub struct AdminRoute {
    pub method: Method,
    pub path: &'static str,
    pub handler: MethodRouter<AppState>,
}

pub(crate) fn admin(
    method: Method,
    path: &'static str,
    handler: MethodRouter<AppState>,
) -> AdminRoute {
    AdminRoute {
        method,
        path,
        handler,
    }
}

/// Every admin route under `/api/v1`, with its method.
pub fn admin_routes() -> Vec<AdminRoute> {
    let mut routes = vec![admin(Method::GET, "/status", get(status::status))];
    routes.extend(analytics::routes());
    routes.extend(notifications::routes());
    routes
}

/// Every ingest route under `/api/v1/ingest`.
pub fn ingest_routes() -> Vec<AdminRoute> {
    vec![
        admin(Method::POST, "/sessions", post(ingest::session_start)),
        admin(
            Method::POST,
            "/sessions/{id}/progress",
            post(ingest::session_progress),
        ),
        admin(
            Method::POST,
            "/sessions/{id}/stop",
            post(ingest::session_stop),
        ),
        admin(Method::POST, "/stream-errors", post(ingest::stream_error)),
        admin(Method::POST, "/transcodes", post(ingest::transcode_start)),
        admin(
            Method::POST,
            "/transcodes/{id}/complete",
            post(ingest::transcode_complete),
        ),
        admin(Method::PUT, "/users", put(ingest::user)),
        admin(Method::PUT, "/libraries", put(ingest::library)),
        admin(Method::PUT, "/media-items", put(ingest::media_item)),
        admin(Method::POST, "/batch", post(ingest::batch)),
    ]
}

/// A subtree of routes behind one credential check (none when the table is empty: axum
/// refuses a route layer over no routes).
fn guarded<F, Fut>(routes: Vec<AdminRoute>, state: &AppState, check: F) -> Router<AppState>
where
    F: Fn(State<AppState>, Request, Next) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Response, AppError>> + Send + 'static,
{
    if routes.is_empty() {
        return Router::new();
    }
    routes
        .into_iter()
        .fold(Router::new(), |router, r| router.route(r.path, r.handler))
        // Bodies are read (within --client-timeout) only once the credential passed, so an
        // anonymous client cannot make the server buffer anything.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            serve::read_body,
        ))
        .route_layer(middleware::from_fn_with_state(state.clone(), check))
}

pub fn router(state: AppState) -> Router {
    let admin = guarded(admin_routes(), &state, auth::require_admin);
    let ingest = guarded(ingest_routes(), &state, auth::require_ingest);
    let api =
        Router::new()
            .nest("/ingest", ingest)
            .merge(admin)
            .layer(middleware::from_fn_with_state(
                state.clone(),
                require_migrated,
            ));
    let metrics = Router::new()
        .route("/metrics", get(health::metrics))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_metrics,
        ));

    Router::new()
        .route("/", get(web::index))
        .route("/assets/{*path}", get(web::asset))
        .route("/healthz", get(health::healthz))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/readyz", get(health::readyz))
        .merge(metrics)
        .nest("/api/v1", api)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.body_limit))
        .layer(middleware::from_fn(time_limit))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        // Failures are logged once, where they are handled (AppError), not again here.
        .layer(
            TraceLayer::new_for_http()
                // The path, never the query string: a client may put a credential there.
                .make_span_with(|req: &Request| {
                    tracing::debug_span!(
                        "request",
                        method = %req.method(),
                        path = %req.uri().path(),
                        version = ?req.version(),
                    )
                })
                .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

async fn not_found() -> AppError {
    AppError::not_found("no such endpoint")
}

async fn method_not_allowed() -> AppError {
    AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method",
    )
}

/// Until this process has seen every migration applied, API calls answer 503 rather than
/// failing on a missing table.
async fn require_migrated(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, AppError> {
    if !state.is_migrated() {
        return Err(AppError::unavailable(
            "the sidecar is starting: database migrations are not applied yet",
        ));
    }
    Ok(next.run(req).await)
}

async fn time_limit(req: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => AppError::unavailable("the request took too long; try again").into_response(),
    }
}

async fn record_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    // The matched route template, never the raw path, so ids do not explode cardinality.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let resp = next.run(req).await;
    let elapsed = start.elapsed().as_secs_f64();
    state
        .metrics
        .http_requests
        .get_or_create(&HttpLabels {
            method: method.clone(),
            route: route.clone(),
            status: resp.status().as_u16(),
        })
        .inc();
    state
        .metrics
        .http_duration
        .get_or_create(&RouteLabels { method, route })
        .observe(elapsed);
    resp
}
