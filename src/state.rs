//! What every handler and worker shares.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use deadpool_postgres::Pool;

use crate::config::Config;
use crate::http::auth::Authenticator;
use crate::ingest::IngestWriter;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub pool: Pool,
    pub auth: Authenticator,
    pub metrics: Metrics,
    pub ingest: IngestWriter,
    pub time_zone: Tz,
    pub host: String,
    pub started_at: DateTime<Utc>,
    /// Set once this process has applied (or found applied) every migration.
    migrated: AtomicBool,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(config: Config, pool: Pool, metrics: Metrics, ingest: IngestWriter) -> Self {
        let auth = Authenticator::new(
            config.admin_tokens.clone(),
            config.ingest_token.clone(),
            config.metrics_token.clone(),
            config.jwt_secret.as_ref(),
        );
        Self(Arc::new(Inner {
            time_zone: config.time_zone(),
            host: config.host(),
            metrics,
            ingest,
            auth,
            pool,
            config,
            started_at: Utc::now(),
            migrated: AtomicBool::new(false),
        }))
    }

    pub fn is_migrated(&self) -> bool {
        self.migrated.load(Ordering::Acquire)
    }

    pub fn mark_migrated(&self) {
        self.migrated.store(true, Ordering::Release);
    }
}
