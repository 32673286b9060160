//! cinevault-analytics: the analytics, monitoring and alerting sidecar of CineVault.
//!
//! `main.rs` parses configuration and calls [`run`]; tests call it too, on port 0.

pub mod analytics;
pub mod collector;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod http;
pub mod ingest;
pub mod logging;
pub mod metrics;
pub mod notifications;
pub mod plays;
pub mod rollup;
pub mod secret;
pub mod servers;
pub mod state;
pub mod workers;

use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::state::{AppState, SchemaState};
use crate::workers::Workers;

/// Serves the API and runs the workers until `shutdown` fires, then stops gracefully: stop
/// accepting, let in-flight requests finish, let workers finish their step, all within
/// `config.shutdown_timeout`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let pool = db::connect_pool(
        config.database_url.expose(),
        usize::from(config.db_pool_size),
        config.db_timeout,
        config.db_timezone,
    )?;
    let deadline = config.shutdown_timeout;
    let metrics = metrics::Metrics::new(&config.host());
    // Writers outlive the HTTP server (they answer its last requests); stopped after it.
    let writer_stop = CancellationToken::new();
    let writers = (usize::from(config.db_pool_size) / 2).clamp(1, 4);
    let (ingest, writer_tasks) =
        ingest::IngestWriter::start(pool.clone(), metrics.clone(), writers, writer_stop.clone());
    let state = AppState::new(config, pool, metrics, ingest);
    let addr = listener
        .local_addr()
        .context("reading the listen address")?;
    tracing::info!(config = %state.config.summary(), "starting");

    let mut workers = Workers::new(shutdown.child_token());
    // Fired once the schema is in place; workers that need it wait for it.
    let migrated = CancellationToken::new();
    workers.spawn(
        "migrations",
        migrate_until_done(state.clone(), workers.cancel_token(), migrated.clone()),
    );
    let cancel = workers.cancel_token();
    workers.spawn(
        "collector",
        after(
            migrated.clone(),
            cancel.clone(),
            collector::run(state.clone(), cancel.clone()),
        ),
    );
    workers.spawn(
        "rollup",
        after(
            migrated.clone(),
            cancel.clone(),
            rollup::run(state.clone(), cancel.clone()),
        ),
    );
    workers.spawn(
        "alert-evaluator",
        after(
            migrated.clone(),
            cancel.clone(),
            notifications::run(state.clone(), cancel.clone()),
        ),
    );
    workers.spawn(
        "reaper",
        after(
            migrated.clone(),
            cancel.clone(),
            workers::reaper::run(state.clone(), cancel.clone()),
        ),
    );
    workers.spawn(
        "plays",
        after(
            migrated.clone(),
            cancel.clone(),
            plays::run(state.clone(), cancel.clone()),
        ),
    );
    workers.spawn(
        "cinevault-workers",
        after(
            migrated.clone(),
            cancel.clone(),
            workers::coexistence::run(state.clone(), cancel.clone()),
        ),
    );
    workers.spawn(
        "summaries",
        after(
            migrated.clone(),
            cancel.clone(),
            workers::summaries::run(state.clone(), cancel),
        ),
    );

    let app = http::router(state.clone());
    tracing::info!(%addr, "listening");
    let server = http::serve::serve(listener, app, state.config.client_timeout, shutdown.clone());
    let mut server = tokio::spawn(server);

    tokio::select! {
        biased;
        _ = shutdown.cancelled() => {}
        res = &mut server, if !shutdown.is_cancelled() => {
            // The server ended without being asked to: that is a failure, not a shutdown.
            workers.shutdown(deadline).await;
            return match res {
                Ok(Ok(())) => Err(anyhow::anyhow!("the HTTP server stopped unexpectedly")),
                Ok(Err(err)) => Err(err).context("the HTTP server failed"),
                Err(err) => Err(err).context("the HTTP server task failed"),
            };
        }
    }

    tracing::info!("shutting down");
    let started = tokio::time::Instant::now();
    match tokio::time::timeout(deadline, &mut server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(err))) => tracing::error!(error = %err, "server error during shutdown"),
        Ok(Err(err)) => tracing::error!(error = %err, "server task failed"),
        Err(_) => {
            tracing::warn!("in-flight requests did not finish in time; closing them");
            server.abort();
        }
    }
    writer_stop.cancel();
    let left = deadline.saturating_sub(started.elapsed());
    let _ = tokio::time::timeout(left, futures_util::future::join_all(writer_tasks)).await;
    let left = deadline.saturating_sub(started.elapsed());
    workers.shutdown(left.max(Duration::from_millis(100))).await;
    state.pool.close();
    tracing::info!("stopped");
    Ok(())
}

/// Applies migrations, retrying with backoff while the database is unreachable, so the
/// sidecar can start before its database does. The API answers 503 until this succeeds.
/// Runs `work` once `ready` fires (workers that need the schema wait for the migrations).
async fn after<F>(
    ready: CancellationToken,
    cancel: CancellationToken,
    work: F,
) -> anyhow::Result<()>
where
    F: std::future::Future<Output = anyhow::Result<()>>,
{
    tokio::select! {
        _ = cancel.cancelled() => Ok(()),
        _ = ready.cancelled() => work.await,
    }
}

/// Prepares the schema, retrying with backoff while the database is unreachable or not
/// ready (CineVault has not created its schema yet), so the sidecar can start before its
/// database and before CineVault. The API answers 503 with the reason until this succeeds;
/// each new reason is logged once.
async fn migrate_until_done(
    state: AppState,
    cancel: CancellationToken,
    migrated: CancellationToken,
) -> anyhow::Result<()> {
    let mut backoff = Duration::from_millis(250);
    let mut last_reason: Option<String> = None;
    loop {
        let attempt = async {
            let mut client =
                db::connect_one(state.config.database_url.expose(), state.config.db_timeout)
                    .await?;
            db::schema::prepare(&mut client, db::schema_options(&state.config)).await
        };
        let (state_now, max_backoff) = match attempt.await {
            Ok(db::schema::Outcome::Ready(prepared)) => {
                for (change, object) in &prepared.changes {
                    tracing::info!(change = %change, object = %object, "schema");
                }
                tracing::info!(
                    database = %prepared.kind,
                    decided_by = %prepared.decided_by,
                    applied = ?prepared.applied,
                    "database schema ready"
                );
                state.set_schema_state(SchemaState::Ready {
                    kind: prepared.kind,
                    decided_by: prepared.decided_by,
                });
                migrated.cancel();
                return Ok(());
            }
            Ok(db::schema::Outcome::NotReady(why)) => {
                if last_reason.as_deref() != Some(why.reason()) {
                    match &why {
                        db::schema::NotReady::Waiting(r) => {
                            tracing::info!(reason = %r, "database not ready; waiting")
                        }
                        db::schema::NotReady::Refused(r) => {
                            tracing::error!(reason = %r, "database refused; fix the database or the configuration")
                        }
                    }
                    last_reason = Some(why.reason().to_owned());
                }
                (SchemaState::NotReady(why), Duration::from_secs(5))
            }
            Err(err) => {
                let reason = format!("{err:#}");
                tracing::warn!(
                    error = %reason,
                    retry_in_ms = backoff.as_millis() as u64,
                    "cannot prepare the schema yet"
                );
                (
                    SchemaState::Preparing(Some(reason)),
                    Duration::from_secs(30),
                )
            }
        };
        state.set_schema_state(state_now);
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(max_backoff);
    }
}
