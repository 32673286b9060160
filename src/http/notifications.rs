//! The 10 notification endpoints (`/api/v1/notifications/...`): channels, alert rules and
//! the alert log. Thin handlers; queries live in `crate::notifications`.

pub(super) mod channels;
pub(super) mod log;
pub(super) mod rules;

use axum::http::Method;
use axum::routing::{delete, get, post, put};

use super::{admin, AdminRoute};

pub fn routes() -> Vec<AdminRoute> {
    vec![
        admin(Method::GET, "/notifications/channels", get(channels::list)),
        admin(
            Method::POST,
            "/notifications/channels",
            post(channels::create),
        ),
        admin(
            Method::PUT,
            "/notifications/channels/{id}",
            put(channels::update),
        ),
        admin(
            Method::DELETE,
            "/notifications/channels/{id}",
            delete(channels::remove),
        ),
        admin(
            Method::POST,
            "/notifications/channels/{id}/test",
            post(channels::test),
        ),
        admin(Method::GET, "/notifications/alerts", get(rules::list)),
        admin(Method::POST, "/notifications/alerts", post(rules::create)),
        admin(
            Method::PUT,
            "/notifications/alerts/{id}",
            put(rules::update),
        ),
        admin(
            Method::DELETE,
            "/notifications/alerts/{id}",
            delete(rules::remove),
        ),
        admin(Method::GET, "/notifications/log", get(log::recent)),
    ]
}

/// The `{id}` of a route; a bad UUID is a 400 naming `id`.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct IdPath {
    /// The resource's UUID.
    id: crate::ingest::events::Id,
}

fn yes() -> bool {
    true
}
