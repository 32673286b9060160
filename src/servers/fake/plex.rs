//! The fake plex server's routes. STUB: being written.

use axum::Router;

use super::Shared;

pub fn router(world: Shared) -> Router {
    Router::new().with_state(world)
}
