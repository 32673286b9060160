//! What every handler and worker shares.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use deadpool_postgres::Pool;

use crate::config::Config;
use crate::db::schema::{Kind, NotReady};
use crate::http::auth::Authenticator;
use crate::ingest::IngestWriter;
use crate::metrics::Metrics;
use crate::workers::coexistence::CineVaultWorkers;

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
    /// Where this process stands with the database's schema.
    schema: RwLock<SchemaState>,
    /// CineVault's own workers as last seen (src/workers/coexistence.rs).
    cinevault_workers: RwLock<CineVaultWorkers>,
}

/// Where the schema stands, as the last attempt to prepare it left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaState {
    /// Not tried yet, or the database was unreachable.
    Preparing(Option<String>),
    NotReady(NotReady),
    Ready {
        kind: Kind,
        decided_by: String,
    },
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
            schema: RwLock::new(SchemaState::Preparing(None)),
            cinevault_workers: RwLock::new(CineVaultWorkers::default()),
        }))
    }

    pub fn is_migrated(&self) -> bool {
        self.database_kind().is_some()
    }

    /// The kind of database, once its schema is ready.
    pub fn database_kind(&self) -> Option<Kind> {
        match &*self.schema.read().unwrap_or_else(|e| e.into_inner()) {
            SchemaState::Ready { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    pub fn is_cinevault(&self) -> bool {
        self.database_kind() == Some(Kind::Cinevault)
    }

    pub fn schema_state(&self) -> SchemaState {
        self.schema
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set_schema_state(&self, new: SchemaState) {
        *self.schema.write().unwrap_or_else(|e| e.into_inner()) = new;
    }

    pub fn cinevault_workers(&self) -> CineVaultWorkers {
        self.cinevault_workers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set_cinevault_workers(&self, seen: CineVaultWorkers) {
        *self
            .cinevault_workers
            .write()
            .unwrap_or_else(|e| e.into_inner()) = seen;
    }
}
