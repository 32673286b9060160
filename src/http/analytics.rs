//! The 11 analytics endpoints (`/api/v1/analytics/...`).

use super::AdminRoute;

pub fn routes() -> Vec<AdminRoute> {
    Vec::new()
}
