//! The PostgreSQL pool and the checks built on it.

pub mod migrate;

use std::time::Duration;

use anyhow::Context;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::secret::mask_database_url;

/// Parses the URL and builds a pool whose every wait (connect, checkout, recycle) is bounded
/// by `timeout`, so a database outage turns into a prompt 503 instead of a hang.
pub fn connect_pool(
    database_url: &str,
    max_size: usize,
    timeout: Duration,
) -> anyhow::Result<Pool> {
    let pg_config = pg_config(database_url, timeout)?;
    let manager = Manager::from_config(
        pg_config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(max_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(timeout))
        .build()
        .context("building the database pool")
}

pub fn pg_config(database_url: &str, timeout: Duration) -> anyhow::Result<tokio_postgres::Config> {
    let mut cfg: tokio_postgres::Config = database_url.parse().with_context(|| {
        format!(
            "DATABASE_URL is not a valid PostgreSQL URL: {}",
            mask_database_url(database_url)
        )
    })?;
    cfg.connect_timeout(timeout);
    cfg.keepalives(true);
    cfg.keepalives_idle(Duration::from_secs(30));
    if cfg.get_application_name().is_none() {
        cfg.application_name("cinevault-analytics");
    }
    // JIT compilation pays off only for queries running for seconds; the sidecar's queries
    // take milliseconds, and a plan that merely looks expensive (a correlated subquery that
    // almost never runs) would spend hundreds of milliseconds compiling. Off for our sessions
    // only, whatever the server's default; an `options` given in the URL comes first.
    let options = match cfg.get_options() {
        Some(given) if !given.trim().is_empty() => format!("{given} -c jit=off"),
        _ => "-c jit=off".to_owned(),
    };
    cfg.options(&options);
    Ok(cfg)
}

/// Takes the transaction-scoped advisory lock `key` if no other session holds it; false
/// when another replica is doing the same work right now (it is released at commit).
pub async fn try_xact_lock(
    tx: &tokio_postgres::Transaction<'_>,
    key: i64,
) -> Result<bool, tokio_postgres::Error> {
    Ok(tx
        .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&key])
        .await?
        .get(0))
}

/// Opens one connection outside the pool (migrations, demo seeding, admin commands).
pub async fn connect_one(
    database_url: &str,
    timeout: Duration,
) -> anyhow::Result<tokio_postgres::Client> {
    let cfg = pg_config(database_url, timeout)?;
    let (client, connection) = cfg.connect(NoTls).await.with_context(|| {
        format!(
            "connecting to PostgreSQL at {}",
            mask_database_url(database_url)
        )
    })?;
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::debug!(error = %err, "database connection closed");
        }
    });
    Ok(client)
}

/// Readiness: the database answers and every embedded migration is applied.
pub async fn check_ready(pool: &Pool) -> anyhow::Result<()> {
    let client = pool.get().await.context("getting a database connection")?;
    let applied: Option<i32> = client
        .query_one("SELECT max(version) FROM refinery_schema_history", &[])
        .await
        .context("reading the migration history")?
        .get(0);
    let expected = migrate::latest_version();
    match applied {
        Some(v) if i64::from(v) >= i64::from(expected) => Ok(()),
        other => anyhow::bail!(
            "migrations not applied: database at {:?}, this build needs {expected}",
            other
        ),
    }
}
