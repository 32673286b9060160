//! The collector's SQL: one row per run, and the retention purge.

use std::sync::LazyLock;

use anyhow::Context;
use chrono::Utc;

use super::readers::summarize;
use super::Snapshot;
use crate::state::AppState;

/// Rows deleted per purge statement, and statements per run: bounded work per cycle.
const PURGE_BATCH: i64 = 10_000;
const PURGE_BATCHES_PER_RUN: usize = 20;
const PURGE_LOCK: i64 = crate::db::locks::PURGE;

/// One row; the live counts are read in the same statement.
static INSERT_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO system_metrics (host, cpu_percent, memory_percent, memory_used_mb,
             gpu_encoder_percent, gpu_memory_percent, gpu_temp_celsius, disk_total_gb,
             disk_used_gb, disk_free_gb, active_streams, active_transcodes, recorded_at)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
             (SELECT count(*) FROM {} p WHERE is_active),
             (SELECT count(*) FROM transcode_history WHERE completed_at IS NULL),
             $11",
        crate::analytics::plays::union(&["is_active"])
    )
});

pub async fn insert(state: &AppState, s: &Snapshot) -> anyhow::Result<()> {
    let client = state
        .pool
        .get()
        .await
        .context("getting a database connection")?;
    let gpu = s.gpus.as_deref().map(summarize).unwrap_or_default();
    let as_f32 = |v: Option<f64>| v.map(|x| x as f32);
    let (mem_pct, mem_mb) = s
        .memory
        .map(|m| (m.used_percent() as f32, m.used_mib()))
        .unwrap_or((0.0, 0));
    let (dt, du, df) = s
        .disk
        .map(|d| (d.total_gb() as f32, d.used_gb() as f32, d.free_gb() as f32))
        .unwrap_or((0.0, 0.0, 0.0));
    let stmt = client.prepare_cached(INSERT_SQL.as_str()).await?;
    client
        .execute(
            &stmt,
            &[
                &state.host,
                &(s.cpu_percent.unwrap_or(0.0) as f32),
                &mem_pct,
                &mem_mb,
                &as_f32(gpu.encoder_percent),
                &as_f32(gpu.memory_percent),
                &as_f32(gpu.temperature_celsius),
                &dt,
                &du,
                &df,
                &Utc::now(),
            ],
        )
        .await
        .context("storing the system_metrics row")?;
    Ok(())
}

/// CineVault's collector deletes every row older than this, whoever wrote it.
const CINEVAULT_RETENTION: chrono::Duration = chrono::Duration::days(30);

/// Rows of this host older than this are moved to `system_metrics_archive` on CineVault's
/// database when the retention is longer than CineVault's (a day before its purge).
const CINEVAULT_PURGE_AGE: chrono::Duration = chrono::Duration::days(29);

/// Deletes rows older than the retention, a batch at a time; one replica at a time. Beside
/// CineVault with a retention beyond its 30 days, this host's rows older than 29 days are
/// kept in the archive first (and purged from there at the retention).
pub async fn purge(state: &AppState) -> anyhow::Result<u64> {
    let retention = chrono::Duration::from_std(state.config.metrics_retention)
        .unwrap_or(chrono::Duration::days(30));
    let cutoff = Utc::now() - retention;
    let archive_before = (state.is_cinevault() && retention > CINEVAULT_RETENTION)
        .then(|| Utc::now() - CINEVAULT_PURGE_AGE);
    let mut client = state
        .pool
        .get()
        .await
        .context("getting a database connection")?;
    let mut deleted = 0;
    for _ in 0..PURGE_BATCHES_PER_RUN {
        let tx = client.transaction().await?;
        let locked = crate::db::try_xact_lock(&tx, PURGE_LOCK).await?;
        if !locked {
            break;
        }
        let mut n = tx
            .execute(
                "DELETE FROM system_metrics WHERE id IN (
                     SELECT id FROM system_metrics WHERE recorded_at < $1 LIMIT $2)",
                &[&cutoff, &PURGE_BATCH],
            )
            .await
            .context("purging old system_metrics rows")?;
        if let Some(before) = archive_before {
            tx.execute(
                "WITH moved AS (
                     DELETE FROM system_metrics WHERE id IN (
                         SELECT id FROM system_metrics
                         WHERE host = $1 AND recorded_at < $2 LIMIT $3)
                     RETURNING id, host, cpu_percent, memory_percent, memory_used_mb,
                         gpu_encoder_percent, gpu_memory_percent, gpu_temp_celsius,
                         disk_total_gb, disk_used_gb, disk_free_gb, active_streams,
                         active_transcodes, recorded_at)
                 INSERT INTO system_metrics_archive SELECT * FROM moved
                 ON CONFLICT (id) DO NOTHING",
                &[&state.host, &before, &PURGE_BATCH],
            )
            .await
            .context("keeping this host's older rows from CineVault's 30-day purge")?;
            n += tx
                .execute(
                    "DELETE FROM system_metrics_archive WHERE id IN (
                         SELECT id FROM system_metrics_archive WHERE recorded_at < $1 LIMIT $2)",
                    &[&cutoff, &PURGE_BATCH],
                )
                .await
                .context("purging old archived rows")?;
        }
        tx.commit().await?;
        deleted += n;
        if n < PURGE_BATCH as u64 {
            break;
        }
    }
    Ok(deleted)
}
