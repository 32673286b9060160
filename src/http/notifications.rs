//! The 10 notification endpoints (`/api/v1/notifications/...`).

use super::AdminRoute;

pub fn routes() -> Vec<AdminRoute> {
    Vec::new()
}
