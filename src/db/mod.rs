//! The PostgreSQL pool and the checks built on it.

pub mod locks;
pub mod schema;

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
    db_time_zone: chrono_tz::Tz,
) -> anyhow::Result<Pool> {
    let mut pg_config = pg_config(database_url, timeout)?;
    // How the sidecar's SQL reads `timestamp without time zone` values (cv_db_zone(),
    // migration 029); a custom setting, so it changes nothing else of the session.
    let options = format!(
        "{} -c cinevault_analytics.db_timezone={}",
        pg_config.get_options().unwrap_or_default(),
        db_time_zone.name()
    );
    pg_config.options(options.trim());
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

/// Readiness: the database answers and every schema step this kind of database needs is
/// applied.
pub async fn check_ready(pool: &Pool, kind: schema::Kind) -> anyhow::Result<()> {
    let client = pool.get().await.context("getting a database connection")?;
    schema::check_applied(&**client, kind).await
}

/// Prepares the schema over a connection of its own (the `migrate`, `demo` and `rollup`
/// commands): an error when the schema cannot be made ready now.
pub async fn prepare_schema(config: &crate::config::Config) -> anyhow::Result<schema::Prepared> {
    let mut client = connect_one(config.database_url.expose(), config.db_timeout).await?;
    match schema::prepare(&mut client, schema_options(config)).await? {
        schema::Outcome::Ready(prepared) => Ok(prepared),
        schema::Outcome::NotReady(why) => anyhow::bail!("the database is not ready: {why}"),
    }
}

pub fn schema_options(config: &crate::config::Config) -> schema::Options {
    schema::Options {
        mode: config.database_mode,
        db_time_zone: config.db_timezone,
    }
}
