//! `GET /analytics/system` (the latest snapshot per host) and `GET /analytics/system/history`
//! (the time series, averaged into at most ~500 buckets per host).

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::{GenericClient, Row};

use super::{round2, DbResult};

/// One `system_metrics` row (decisions.md §3 for the units). Rows with the host `''` are
/// CineVault's own collector's (its INSERT does not name the column): other units (GiB,
/// CPU averaged since boot), so no answer of the sidecar's uses them; they are counted to
/// tell that CineVault's collector runs (src/workers/coexistence.rs).
#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq)]
pub struct SystemMetric {
    pub host: String,
    pub recorded_at: DateTime<Utc>,
    pub cpu_percent: f32,
    pub memory_percent: f32,
    pub memory_used_mb: i32,
    pub gpu_encoder_percent: Option<f32>,
    pub gpu_memory_percent: Option<f32>,
    pub gpu_temp_celsius: Option<f32>,
    pub disk_total_gb: f32,
    pub disk_used_gb: f32,
    pub disk_free_gb: f32,
    pub active_streams: i32,
    pub active_transcodes: i32,
}

impl SystemMetric {
    fn from_row(row: &Row) -> DbResult<Self> {
        Ok(Self {
            host: row.try_get("host")?,
            recorded_at: row.try_get("recorded_at")?,
            cpu_percent: row.try_get("cpu_percent")?,
            memory_percent: row.try_get("memory_percent")?,
            memory_used_mb: row.try_get("memory_used_mb")?,
            gpu_encoder_percent: row.try_get("gpu_encoder_percent")?,
            gpu_memory_percent: row.try_get("gpu_memory_percent")?,
            gpu_temp_celsius: row.try_get("gpu_temp_celsius")?,
            disk_total_gb: row.try_get("disk_total_gb")?,
            disk_used_gb: row.try_get("disk_used_gb")?,
            disk_free_gb: row.try_get("disk_free_gb")?,
            active_streams: row.try_get("active_streams")?,
            active_transcodes: row.try_get("active_transcodes")?,
        })
    }
}

/// `GET /analytics/system`: the newest reading of each host, by host name.
#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq)]
pub struct SystemSnapshots {
    pub hosts: Vec<SystemMetric>,
}

const COLUMNS: &str = "host, recorded_at, cpu_percent, memory_percent, memory_used_mb, \
    gpu_encoder_percent, gpu_memory_percent, gpu_temp_celsius, disk_total_gb, disk_used_gb, \
    disk_free_gb, active_streams, active_transcodes";

/// The distinct hosts by a skip scan of `idx_system_metrics_host_recorded` (one index probe
/// per host rather than reading 30 days of rows), then each host's newest row.
fn latest_per_host_sql() -> String {
    format!(
        "WITH RECURSIVE hosts(host) AS (
             SELECT min(host) FROM system_metrics WHERE host > ''
             UNION ALL
             SELECT (SELECT min(host) FROM system_metrics WHERE host > hosts.host)
             FROM hosts WHERE hosts.host IS NOT NULL
         )
         SELECT m.* FROM hosts
         CROSS JOIN LATERAL (
             SELECT {COLUMNS} FROM system_metrics
             WHERE system_metrics.host = hosts.host
             ORDER BY recorded_at DESC LIMIT 1
         ) m
         WHERE hosts.host IS NOT NULL
         ORDER BY m.host"
    )
}

/// The newest reading of every host, or of `host` alone.
pub async fn latest(client: &impl GenericClient, host: Option<&str>) -> DbResult<SystemSnapshots> {
    let rows = match host {
        Some(h) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM system_metrics WHERE host = $1
                 ORDER BY recorded_at DESC LIMIT 1"
            );
            client.query(&sql, &[&h]).await?
        }
        None => client.query(&latest_per_host_sql(), &[]).await?,
    };
    let hosts = rows
        .iter()
        .map(SystemMetric::from_row)
        .collect::<DbResult<_>>()?;
    Ok(SystemSnapshots { hosts })
}

/// The overview's gauges: `own_host`'s newest reading, else the newest reading of any host.
pub async fn latest_for_overview(
    client: &impl GenericClient,
    own_host: &str,
) -> DbResult<Option<SystemMetric>> {
    let own = format!(
        "SELECT {COLUMNS} FROM system_metrics WHERE host = $1 ORDER BY recorded_at DESC LIMIT 1"
    );
    if let Some(row) = client.query_opt(&own, &[&own_host]).await? {
        return SystemMetric::from_row(&row).map(Some);
    }
    let any = format!(
        "SELECT {COLUMNS} FROM system_metrics WHERE host <> '' ORDER BY recorded_at DESC LIMIT 1"
    );
    client
        .query_opt(&any, &[])
        .await?
        .map(|r| SystemMetric::from_row(&r))
        .transpose()
}

/// At most this many buckets per host in a history.
pub const MAX_POINTS: i64 = 500;

/// One bucket of a history: the averages of the readings taken in it.
#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq)]
pub struct SystemMetricPoint {
    /// The start of the bucket.
    pub recorded_at: DateTime<Utc>,
    /// Readings averaged into this point.
    pub samples: i64,
    pub cpu_percent: f64,
    pub memory_percent: f64,
    pub memory_used_mb: f64,
    pub gpu_encoder_percent: Option<f64>,
    pub gpu_memory_percent: Option<f64>,
    pub gpu_temp_celsius: Option<f64>,
    pub disk_total_gb: f64,
    pub disk_used_gb: f64,
    pub disk_free_gb: f64,
    pub active_streams: f64,
    pub active_transcodes: f64,
}

#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq)]
pub struct HostSeries {
    pub host: String,
    pub points: Vec<SystemMetricPoint>,
}

#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq)]
pub struct SystemHistory {
    pub hours: u32,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Width of each bucket: readings are averaged over it.
    pub bucket_seconds: i64,
    pub hosts: Vec<HostSeries>,
}

/// The bucket width for a window of `hours`: wide enough that the window, however it falls
/// on the epoch-aligned bucket grid, touches at most `MAX_POINTS` buckets.
pub fn bucket_seconds(hours: u32) -> i64 {
    let window = i64::from(hours) * 3600;
    // A window of length L meets at most ceil(L / w) + 1 buckets of width w.
    ((window + MAX_POINTS - 2) / (MAX_POINTS - 1)).max(1)
}

/// Buckets are aligned to the epoch (not to the request time), so a chart refreshed a
/// minute later shows the same points, plus one.
const HISTORY_SQL: &str = "\
SELECT host,
       to_timestamp(floor(extract(epoch FROM recorded_at)::float8 / $2) * $2) AS bucket,
       count(*) AS samples,
       avg(cpu_percent)::float8 AS cpu_percent,
       avg(memory_percent)::float8 AS memory_percent,
       avg(memory_used_mb)::float8 AS memory_used_mb,
       avg(gpu_encoder_percent)::float8 AS gpu_encoder_percent,
       avg(gpu_memory_percent)::float8 AS gpu_memory_percent,
       avg(gpu_temp_celsius)::float8 AS gpu_temp_celsius,
       avg(disk_total_gb)::float8 AS disk_total_gb,
       avg(disk_used_gb)::float8 AS disk_used_gb,
       avg(disk_free_gb)::float8 AS disk_free_gb,
       avg(active_streams)::float8 AS active_streams,
       avg(active_transcodes)::float8 AS active_transcodes
FROM system_metrics
WHERE recorded_at >= $1 AND recorded_at <= $3 AND ($4::text IS NULL OR host = $4)
  AND host <> ''
GROUP BY host, bucket
ORDER BY host, bucket";

pub async fn history(
    client: &impl GenericClient,
    hours: u32,
    host: Option<&str>,
    now: DateTime<Utc>,
) -> DbResult<SystemHistory> {
    let from = now - chrono::Duration::hours(i64::from(hours));
    let width = bucket_seconds(hours);
    let rows = client
        .query(HISTORY_SQL, &[&from, &(width as f64), &now, &host])
        .await?;
    let mut hosts: Vec<HostSeries> = Vec::new();
    for row in &rows {
        let name: String = row.try_get("host")?;
        let opt = |col: &str| -> DbResult<Option<f64>> {
            Ok(row.try_get::<_, Option<f64>>(col)?.map(round2))
        };
        let val = |col: &str| -> DbResult<f64> { Ok(round2(row.try_get(col)?)) };
        let point = SystemMetricPoint {
            recorded_at: row.try_get("bucket")?,
            samples: row.try_get("samples")?,
            cpu_percent: val("cpu_percent")?,
            memory_percent: val("memory_percent")?,
            memory_used_mb: val("memory_used_mb")?,
            gpu_encoder_percent: opt("gpu_encoder_percent")?,
            gpu_memory_percent: opt("gpu_memory_percent")?,
            gpu_temp_celsius: opt("gpu_temp_celsius")?,
            disk_total_gb: val("disk_total_gb")?,
            disk_used_gb: val("disk_used_gb")?,
            disk_free_gb: val("disk_free_gb")?,
            active_streams: val("active_streams")?,
            active_transcodes: val("active_transcodes")?,
        };
        match hosts.last_mut() {
            Some(series) if series.host == name => series.points.push(point),
            _ => hosts.push(HostSeries {
                host: name,
                points: vec![point],
            }),
        }
    }
    Ok(SystemHistory {
        hours,
        from,
        to: now,
        bucket_seconds: width,
        hosts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_keep_every_window_within_the_point_limit() {
        for hours in 1..=168u32 {
            let w = bucket_seconds(hours);
            let window = i64::from(hours) * 3600;
            // Worst case: the window starts just before a bucket boundary.
            let touched = (window + w - 1) / w + 1;
            assert!(
                touched <= MAX_POINTS,
                "{hours} h: {touched} buckets of {w} s"
            );
        }
        // With one reading a minute, a day is 1,440 readings in buckets of ~3 minutes.
        assert_eq!(bucket_seconds(24), 174);
        assert_eq!(bucket_seconds(168), 1213);
        assert_eq!(bucket_seconds(1), 8);
    }
}
