//! One day's figures (issue 4) and their upsert into `daily_stats`.

use std::sync::LazyLock;

use anyhow::Context;
use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Serialize;
use tokio_postgres::{GenericClient, Row};

use super::days::day_bounds;

/// One `daily_stats` row: the figures of one day of the configured time zone.
#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq, Eq)]
pub struct DailyStat {
    pub stat_date: NaiveDate,
    /// Plays started that day (a play across midnight counts on its start day).
    pub total_plays: i32,
    /// Distinct users among those plays.
    pub unique_users: i32,
    /// Their time watched summed, divided by 60, rounded down.
    pub total_watch_minutes: i32,
    /// Their `bytes_served` summed.
    pub total_bytes_served: i64,
    /// Those plays with `playback_type = 'transcode'`.
    pub transcodes: i32,
    /// Those plays with `playback_type = 'direct_play'`.
    pub direct_plays: i32,
    /// Those plays with `playback_type = 'direct_stream'`.
    pub direct_streams: i32,
    /// `transcode_history` rows started that day with `success = false`.
    pub transcode_failures: i32,
    /// Media items whose `added_at` falls on that day.
    pub new_media_added: i32,
    /// Media items added up to the end of that day.
    pub library_size_total: i32,
    /// Total `file_size` of those items.
    pub storage_used_bytes: i64,
}

impl DailyStat {
    /// The figures of a day with no activity and no library.
    pub fn zero(stat_date: NaiveDate) -> Self {
        Self {
            stat_date,
            total_plays: 0,
            unique_users: 0,
            total_watch_minutes: 0,
            total_bytes_served: 0,
            transcodes: 0,
            direct_plays: 0,
            direct_streams: 0,
            transcode_failures: 0,
            new_media_added: 0,
            library_size_total: 0,
            storage_used_bytes: 0,
        }
    }

    fn from_row(stat_date: NaiveDate, row: &Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            stat_date,
            total_plays: row.try_get("total_plays")?,
            unique_users: row.try_get("unique_users")?,
            total_watch_minutes: row.try_get("total_watch_minutes")?,
            total_bytes_served: row.try_get("total_bytes_served")?,
            transcodes: row.try_get("transcodes")?,
            direct_plays: row.try_get("direct_plays")?,
            direct_streams: row.try_get("direct_streams")?,
            transcode_failures: row.try_get("transcode_failures")?,
            new_media_added: row.try_get("new_media_added")?,
            library_size_total: row.try_get("library_size_total")?,
            storage_used_bytes: row.try_get("storage_used_bytes")?,
        })
    }
}

/// Every figure of the day `[$1, $2)` in one statement, so they all come from one snapshot.
///
/// Plays (`plays`: the ingest API's sessions and CineVault's request rows grouped into
/// viewings) are read with a range predicate on their start, an index range scan on each
/// side of the view, never a table scan. `media_items.added_at` is a `timestamp without time
/// zone` in the database's zone (`cv_db_zone()`); the library figures need every item added
/// up to the day's end (an item without `added_at` counts from the start). Sums are taken as
/// `bigint`/`numeric` and clamped into the column's type, so no figure can overflow the
/// INT/BIGINT columns (a saturated figure instead of a failed night).
pub static COMPUTE_SQL: LazyLock<String> = LazyLock::new(|| {
    let plays = crate::analytics::plays::union(&[
        "user_id",
        "watch_seconds",
        "bytes_served",
        "playback_type",
        "started_at",
    ]);
    format!(
        "WITH s AS (
    SELECT count(*) AS plays,
           count(DISTINCT user_id) AS users,
           COALESCE(sum(watch_seconds::bigint), 0)::numeric AS seconds,
           COALESCE(sum(bytes_served), 0)::numeric AS bytes,
           count(*) FILTER (WHERE playback_type = 'transcode') AS transcodes,
           count(*) FILTER (WHERE playback_type = 'direct_play') AS direct_plays,
           count(*) FILTER (WHERE playback_type = 'direct_stream') AS direct_streams
    FROM {plays} p
    WHERE started_at >= $1 AND started_at < $2
), t AS (
    SELECT count(*) AS failures
    FROM transcode_history
    WHERE started_at >= $1 AND started_at < $2 AND success = false
), m AS (
    SELECT count(*) FILTER (WHERE added_at >= ($1 AT TIME ZONE cv_db_zone())) AS new_media,
           count(*) AS library_size,
           COALESCE(sum(file_size), 0)::numeric AS storage
    FROM media_items
    WHERE added_at < ($2 AT TIME ZONE cv_db_zone()) OR added_at IS NULL
)
SELECT LEAST(s.plays, 2147483647)::int4 AS total_plays,
       LEAST(s.users, 2147483647)::int4 AS unique_users,
       LEAST(GREATEST(floor(s.seconds / 60), -2147483648), 2147483647)::int4
           AS total_watch_minutes,
       LEAST(GREATEST(s.bytes, -9223372036854775808), 9223372036854775807)::int8
           AS total_bytes_served,
       LEAST(s.transcodes, 2147483647)::int4 AS transcodes,
       LEAST(s.direct_plays, 2147483647)::int4 AS direct_plays,
       LEAST(s.direct_streams, 2147483647)::int4 AS direct_streams,
       LEAST(t.failures, 2147483647)::int4 AS transcode_failures,
       LEAST(m.new_media, 2147483647)::int4 AS new_media_added,
       LEAST(m.library_size, 2147483647)::int4 AS library_size_total,
       LEAST(GREATEST(m.storage, -9223372036854775808), 9223372036854775807)::int8
           AS storage_used_bytes
FROM s, t, m"
    )
});

/// The day's row in the sidecar's own copy and in the spec's `daily_stats` (which CineVault's
/// rollup may overwrite: src/workers/coexistence.rs writes it back), in one statement.
const UPSERT_SQL: &str = "\
WITH own AS (
    INSERT INTO sidecar_daily_stats (stat_date, total_plays, unique_users, total_watch_minutes,
        total_bytes_served, transcodes, direct_plays, direct_streams, transcode_failures,
        new_media_added, library_size_total, storage_used_bytes, computed_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, now())
    ON CONFLICT (stat_date) DO UPDATE SET
        total_plays = EXCLUDED.total_plays,
        unique_users = EXCLUDED.unique_users,
        total_watch_minutes = EXCLUDED.total_watch_minutes,
        total_bytes_served = EXCLUDED.total_bytes_served,
        transcodes = EXCLUDED.transcodes,
        direct_plays = EXCLUDED.direct_plays,
        direct_streams = EXCLUDED.direct_streams,
        transcode_failures = EXCLUDED.transcode_failures,
        new_media_added = EXCLUDED.new_media_added,
        library_size_total = EXCLUDED.library_size_total,
        storage_used_bytes = EXCLUDED.storage_used_bytes,
        computed_at = EXCLUDED.computed_at
)
INSERT INTO daily_stats (stat_date, total_plays, unique_users, total_watch_minutes,
    total_bytes_served, transcodes, direct_plays, direct_streams, transcode_failures,
    new_media_added, library_size_total, storage_used_bytes)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (stat_date) DO UPDATE SET
    total_plays = EXCLUDED.total_plays,
    unique_users = EXCLUDED.unique_users,
    total_watch_minutes = EXCLUDED.total_watch_minutes,
    total_bytes_served = EXCLUDED.total_bytes_served,
    transcodes = EXCLUDED.transcodes,
    direct_plays = EXCLUDED.direct_plays,
    direct_streams = EXCLUDED.direct_streams,
    transcode_failures = EXCLUDED.transcode_failures,
    new_media_added = EXCLUDED.new_media_added,
    library_size_total = EXCLUDED.library_size_total,
    storage_used_bytes = EXCLUDED.storage_used_bytes";

const SELECT_SQL: &str = "\
SELECT total_plays, unique_users, total_watch_minutes, total_bytes_served, transcodes,
       direct_plays, direct_streams, transcode_failures, new_media_added,
       library_size_total, storage_used_bytes
FROM sidecar_daily_stats WHERE stat_date = $1";

/// Computes the figures of local day `day` in `tz` (read only; see [`upsert_day`]).
pub async fn compute_day(
    client: &impl GenericClient,
    tz: Tz,
    day: NaiveDate,
) -> anyhow::Result<DailyStat> {
    let (from, to) = day_bounds(tz, day);
    let row = client
        .query_one(COMPUTE_SQL.as_str(), &[&from, &to])
        .await
        .with_context(|| format!("computing the figures of {day}"))?;
    Ok(DailyStat::from_row(day, &row)?)
}

/// Writes `stat`'s row, replacing every figure of a row already there for its date.
pub async fn upsert_day(client: &impl GenericClient, stat: &DailyStat) -> anyhow::Result<()> {
    client
        .execute(
            UPSERT_SQL,
            &[
                &stat.stat_date,
                &stat.total_plays,
                &stat.unique_users,
                &stat.total_watch_minutes,
                &stat.total_bytes_served,
                &stat.transcodes,
                &stat.direct_plays,
                &stat.direct_streams,
                &stat.transcode_failures,
                &stat.new_media_added,
                &stat.library_size_total,
                &stat.storage_used_bytes,
            ],
        )
        .await
        .with_context(|| format!("writing the daily_stats row of {}", stat.stat_date))?;
    Ok(())
}

/// The sidecar's stored row of `day`, if there is one.
pub async fn load_day(
    client: &impl GenericClient,
    day: NaiveDate,
) -> anyhow::Result<Option<DailyStat>> {
    let row = client
        .query_opt(SELECT_SQL, &[&day])
        .await
        .with_context(|| format!("reading the daily_stats row of {day}"))?;
    row.map(|r| DailyStat::from_row(day, &r))
        .transpose()
        .map_err(Into::into)
}
