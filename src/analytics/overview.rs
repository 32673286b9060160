//! `GET /analytics/overview`: the dashboard's stat cards and gauges in one answer.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, GenericClient, IsolationLevel};

use super::period::{today, today_bounds, week_bounds, week_monday};
use super::plays;
use super::system::latest_for_overview;
use super::DbResult;

/// Day figures count plays *started* that day, as `daily_stats` does, so today's cards match
/// the row the rollup writes for today once it is over. A play is a session reported through
/// the ingest API, or CineVault's request rows of one viewing grouped into one (`plays`).
#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq)]
pub struct AnalyticsOverview {
    /// The local day the "today" figures are for, and the Monday of its ISO week.
    pub today: NaiveDate,
    pub week_start: NaiveDate,
    pub active_streams: i64,
    /// Transcodes started and not yet completed.
    pub active_transcodes: i64,
    pub plays_today: i64,
    pub plays_this_week: i64,
    pub unique_users_today: i64,
    pub bytes_served_today: i64,
    pub watch_minutes_today: i64,
    /// Today's sessions by playback type.
    pub transcodes_today: i64,
    pub direct_plays_today: i64,
    pub direct_streams_today: i64,
    /// `transcode_history` rows started today that failed.
    pub transcode_failures_today: i64,
    /// Where today's plays come from: CineVault's own request rows (grouped into plays by
    /// the sidecar; no bytes, request times for durations) and the ingest API.
    pub plays_today_by_source: PlaysBySource,
    pub library_items: i64,
    pub library_bytes: i64,
    /// The latest `system_metrics` reading (this sidecar's host when it has one, else the
    /// newest of any host); zeros and `null` time and host when there is none.
    pub cpu_percent: f32,
    pub memory_percent: f32,
    pub memory_used_mb: i32,
    pub disk_total_gb: f32,
    pub disk_used_gb: f32,
    pub disk_free_gb: f32,
    pub metrics_host: Option<String>,
    pub metrics_recorded_at: Option<DateTime<Utc>>,
}

/// One statement for the session figures, so they come from one snapshot. Today's figures
/// and the week's count are separate range scans: the distinct-user count then sorts today's
/// sessions only, and the week needs only a count (index-only with
/// `idx_stream_sessions_started_cover`, migration 27).
static FIGURES_SQL: LazyLock<String> = LazyLock::new(|| {
    let today = plays::union(&[
        "user_id",
        "bytes_served",
        "watch_seconds",
        "playback_type",
        "source",
        "started_at",
    ]);
    let week = plays::each_side(
        "SELECT count(*) AS n FROM {plays} AND s.started_at >= $3 AND s.started_at < $4",
    );
    let active = plays::union(&["is_active"]);
    format!(
        "WITH today AS (
    SELECT count(*) AS plays_today,
           count(DISTINCT user_id) AS users_today,
           COALESCE(sum(bytes_served), 0)::int8 AS bytes_today,
           COALESCE(sum(watch_seconds), 0) / 60 AS minutes_today,
           count(*) FILTER (WHERE playback_type = 'transcode') AS transcodes_today,
           count(*) FILTER (WHERE playback_type = 'direct_play') AS direct_plays_today,
           count(*) FILTER (WHERE playback_type = 'direct_stream') AS direct_streams_today,
           count(*) FILTER (WHERE source = 'cinevault') AS cinevault_plays_today
    FROM {today} p
    WHERE started_at >= $1 AND started_at < $2
)
SELECT today.*,
       (SELECT sum(n)::int8 FROM ({week}) w) AS plays_week,
       (SELECT count(*) FROM {active} p WHERE is_active) AS active_streams,
       (SELECT count(*) FROM transcode_history WHERE completed_at IS NULL) AS active_transcodes,
       (SELECT count(*) FROM transcode_history
        WHERE started_at >= $1 AND started_at < $2 AND success = false) AS failures_today
FROM today"
    )
});

/// The catalogue's size: a pass over `media_items` (CineVault's table, which the sidecar neither
/// indexes nor triggers on), the costliest part of the answer. With a second connection the pass
/// is split by heap page (a TID range scan each) so the two halves run at once; both connections
/// read one exported snapshot, so a row an update moves between the halves counts once.
const LIBRARY_PAGES_SQL: &str = "\
SELECT count(*) AS items, COALESCE(sum(file_size), 0)::int8 AS bytes
FROM media_items
WHERE ctid >= format('(%s,0)', $1::int8)::tid AND ctid < format('(%s,0)', $2::int8)::tid";

const LIBRARY_FROM_PAGE_SQL: &str = "\
SELECT count(*) AS items, COALESCE(sum(file_size), 0)::int8 AS bytes
FROM media_items
WHERE ctid >= format('(%s,0)', $1::int8)::tid";

/// The snapshot the second connection adopts, and the table's size in pages now.
const EXPORT_SQL: &str = "\
SELECT pg_export_snapshot(),
       pg_relation_size('media_items') / current_setting('block_size')::int8";

/// The share of `media_items`' pages read by the connection that also runs the session
/// figures (about a third of the answer's work when the catalogue is large).
const FIRST_CONNECTION_SHARE: f64 = 0.35;

/// How many plays of a figure came from each source.
#[derive(Serialize, utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaysBySource {
    pub cinevault: i64,
    pub ingest: i64,
}

impl PlaysBySource {
    pub fn split(total: i64, cinevault: i64) -> Self {
        Self {
            cinevault,
            ingest: total - cinevault,
        }
    }
}

async fn library_from(client: &impl GenericClient, first_page: i64) -> DbResult<(i64, i64)> {
    let row = client
        .query_one(LIBRARY_FROM_PAGE_SQL, &[&first_page])
        .await?;
    Ok((row.try_get("items")?, row.try_get("bytes")?))
}

async fn library_pages(client: &impl GenericClient, from: i64, to: i64) -> DbResult<(i64, i64)> {
    let row = client.query_one(LIBRARY_PAGES_SQL, &[&from, &to]).await?;
    Ok((row.try_get("items")?, row.try_get("bytes")?))
}

/// The whole answer from one REPEATABLE READ snapshot. With `spare`, a second connection
/// adopts that snapshot and reads most of the catalogue while `client` runs the rest.
pub async fn load(
    client: &mut Client,
    spare: Option<&mut Client>,
    tz: Tz,
    own_host: &str,
    now: DateTime<Utc>,
) -> DbResult<AnalyticsOverview> {
    let a = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let Some(spare) = spare else {
        return compute(&a, library_from(&a, 0), tz, own_host, now).await;
    };
    let row = a.query_one(EXPORT_SQL, &[]).await?;
    let snapshot: String = row.try_get(0)?;
    let pages: i64 = row.try_get(1)?;
    // The identifier is PostgreSQL's own (hex digits and dashes); checked before it goes into
    // a statement that takes no parameters.
    if snapshot.is_empty() || !snapshot.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return compute(&a, library_from(&a, 0), tz, own_host, now).await;
    }
    let b = spare
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    b.batch_execute(&format!("SET TRANSACTION SNAPSHOT '{snapshot}'"))
        .await?;
    let split = (pages as f64 * FIRST_CONNECTION_SHARE).ceil() as i64;
    let library = async {
        let (first, rest) = tokio::try_join!(library_pages(&a, 0, split), library_from(&b, split))?;
        Ok((first.0 + rest.0, first.1.saturating_add(rest.1)))
    };
    compute(&a, library, tz, own_host, now).await
}

async fn compute(
    client: &impl GenericClient,
    library: impl std::future::Future<Output = DbResult<(i64, i64)>>,
    tz: Tz,
    own_host: &str,
    now: DateTime<Utc>,
) -> DbResult<AnalyticsOverview> {
    let (day_start, day_end) = today_bounds(tz, now);
    let (week_start, week_end) = week_bounds(tz, now);
    let bounds: [&(dyn ToSql + Sync); 4] = [&day_start, &day_end, &week_start, &week_end];
    let (row, (library_items, library_bytes), latest) = tokio::try_join!(
        client.query_one(FIGURES_SQL.as_str(), &bounds),
        library,
        latest_for_overview(client, own_host),
    )?;
    let day = today(tz, now);
    let mut overview = AnalyticsOverview {
        today: day,
        week_start: week_monday(day),
        active_streams: row.try_get("active_streams")?,
        active_transcodes: row.try_get("active_transcodes")?,
        plays_today: row.try_get("plays_today")?,
        plays_this_week: row.try_get("plays_week")?,
        unique_users_today: row.try_get("users_today")?,
        bytes_served_today: row.try_get("bytes_today")?,
        watch_minutes_today: row.try_get("minutes_today")?,
        transcodes_today: row.try_get("transcodes_today")?,
        direct_plays_today: row.try_get("direct_plays_today")?,
        direct_streams_today: row.try_get("direct_streams_today")?,
        transcode_failures_today: row.try_get("failures_today")?,
        plays_today_by_source: PlaysBySource::split(
            row.try_get("plays_today")?,
            row.try_get("cinevault_plays_today")?,
        ),
        library_items,
        library_bytes,
        cpu_percent: 0.0,
        memory_percent: 0.0,
        memory_used_mb: 0,
        disk_total_gb: 0.0,
        disk_used_gb: 0.0,
        disk_free_gb: 0.0,
        metrics_host: None,
        metrics_recorded_at: None,
    };
    if let Some(m) = latest {
        overview.cpu_percent = m.cpu_percent;
        overview.memory_percent = m.memory_percent;
        overview.memory_used_mb = m.memory_used_mb;
        overview.disk_total_gb = m.disk_total_gb;
        overview.disk_used_gb = m.disk_used_gb;
        overview.disk_free_gb = m.disk_free_gb;
        overview.metrics_host = Some(m.host);
        overview.metrics_recorded_at = Some(m.recorded_at);
    }
    Ok(overview)
}
