//! `GET /analytics/trends`: the daily rows of a range of days, oldest first. A day without a
//! row (not rolled up yet, or before the history starts) is absent, never invented. They are
//! read from the sidecar's own copy (`sidecar_daily_stats`), which CineVault's rollup cannot
//! overwrite; `daily_stats` holds the same figures (src/rollup).

use chrono::NaiveDate;
use serde::Serialize;
use tokio_postgres::GenericClient;

use super::{DailyStat, DbResult};

#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq, Eq)]
pub struct Trends {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: Vec<DailyStat>,
}

const SQL: &str = "\
SELECT stat_date, total_plays, unique_users, total_watch_minutes, total_bytes_served,
       transcodes, direct_plays, direct_streams, transcode_failures, new_media_added,
       library_size_total, storage_used_bytes
FROM sidecar_daily_stats
WHERE stat_date >= $1 AND stat_date <= $2
ORDER BY stat_date";

/// The rows from `from` to `to`, both included.
pub async fn range(
    client: &impl GenericClient,
    from: NaiveDate,
    to: NaiveDate,
) -> DbResult<Trends> {
    let rows = client.query(SQL, &[&from, &to]).await?;
    let days = rows
        .iter()
        .map(|r| {
            Ok(DailyStat {
                stat_date: r.try_get("stat_date")?,
                total_plays: r.try_get("total_plays")?,
                unique_users: r.try_get("unique_users")?,
                total_watch_minutes: r.try_get("total_watch_minutes")?,
                total_bytes_served: r.try_get("total_bytes_served")?,
                transcodes: r.try_get("transcodes")?,
                direct_plays: r.try_get("direct_plays")?,
                direct_streams: r.try_get("direct_streams")?,
                transcode_failures: r.try_get("transcode_failures")?,
                new_media_added: r.try_get("new_media_added")?,
                library_size_total: r.try_get("library_size_total")?,
                storage_used_bytes: r.try_get("storage_used_bytes")?,
            })
        })
        .collect::<DbResult<Vec<_>>>()?;
    Ok(Trends { from, to, days })
}
