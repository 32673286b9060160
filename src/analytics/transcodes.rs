//! `GET /analytics/transcodes`: transcodes started in the last N local days: outcomes,
//! hardware acceleration, codec pairs, and the most recent ones with their errors.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use tokio_postgres::{GenericClient, Row};
use uuid::Uuid;

use super::period::last_days_start;
use super::{percent, sort_by_count, DbResult, NameCount};

/// How many transcodes `recent` lists, and how many codec pairs at most.
pub const RECENT_TRANSCODES: i64 = 50;
pub const MAX_CODEC_PAIRS: usize = 100;

/// `hw_accel` when it names an accelerator; NULL for software (no value, an empty one, or
/// one of the words encoders report for "none").
const HW_EXPR: &str = "CASE WHEN hw_accel IS NULL OR btrim(hw_accel) = ''
        OR lower(btrim(hw_accel)) IN ('none', 'software', 'cpu', 'sw', 'off') THEN NULL
    ELSE btrim(hw_accel) END";

#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq)]
pub struct TranscodeEntry {
    pub id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub media_item_id: Uuid,
    pub title: String,
    pub input_codec: Option<String>,
    pub output_codec: Option<String>,
    pub input_resolution: Option<String>,
    pub output_resolution: Option<String>,
    pub hw_accel: Option<String>,
    pub quality: Option<String>,
    pub duration_seconds: i32,
    pub file_size_bytes: i64,
    /// `in_progress` (not completed yet), `succeeded` or `failed`.
    pub status: &'static str,
    pub success: bool,
    pub error_message: Option<String>,
    pub started_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl TranscodeEntry {
    fn from_row(row: &Row) -> DbResult<Self> {
        let success: bool = row.try_get("success")?;
        let completed_at: Option<DateTime<Utc>> = row.try_get("completed_at")?;
        Ok(Self {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            username: row.try_get("username")?,
            media_item_id: row.try_get("media_item_id")?,
            title: row.try_get("title")?,
            input_codec: row.try_get("input_codec")?,
            output_codec: row.try_get("output_codec")?,
            input_resolution: row.try_get("input_resolution")?,
            output_resolution: row.try_get("output_resolution")?,
            hw_accel: row.try_get("hw_accel")?,
            quality: row.try_get("quality")?,
            duration_seconds: row.try_get("duration_seconds")?,
            file_size_bytes: row.try_get("file_size_bytes")?,
            status: status(success, completed_at.is_some()),
            success,
            error_message: row.try_get("error_message")?,
            started_at: row.try_get("started_at")?,
            completed_at,
        })
    }
}

/// A failure is a failure whether or not it was closed; success needs a completion.
pub fn status(success: bool, completed: bool) -> &'static str {
    match (success, completed) {
        (false, _) => "failed",
        (true, true) => "succeeded",
        (true, false) => "in_progress",
    }
}

#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq)]
pub struct TranscodeStats {
    pub days: u32,
    pub since: DateTime<Utc>,
    pub total: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub in_progress: i64,
    /// Succeeded out of finished (succeeded + failed), in percent; 0 when none finished.
    pub success_rate_percent: f64,
    /// Transcodes that named a hardware accelerator, and their share of all.
    pub hw_accel_count: i64,
    pub hw_accel_percent: f64,
    /// Hardware-accelerated transcodes per accelerator, most used first.
    pub by_accelerator: Vec<NameCount>,
    /// Transcodes per `input → output` codec pair (`unknown` for a missing codec), most
    /// frequent first, at most `MAX_CODEC_PAIRS`.
    pub codec_distribution: Vec<NameCount>,
    /// The most recent transcodes of the period, newest first, with their errors.
    pub recent: Vec<TranscodeEntry>,
}

/// Totals, per accelerator and per codec pair in one pass over the period's rows;
/// `grouping(hw, pair)` says which a row is: 3 the totals, 1 an accelerator, 2 a pair.
fn figures_sql() -> String {
    format!(
        "SELECT grouping(hw, pair) AS grouping_set, hw, pair,
                count(*) AS total,
                count(*) FILTER (WHERE success AND completed_at IS NOT NULL) AS succeeded,
                count(*) FILTER (WHERE NOT success) AS failed,
                count(*) FILTER (WHERE success AND completed_at IS NULL) AS in_progress,
                count(hw) AS hw_count
         FROM (
             SELECT {HW_EXPR} AS hw,
                    COALESCE(NULLIF(btrim(input_codec), ''), 'unknown') || ' → '
                        || COALESCE(NULLIF(btrim(output_codec), ''), 'unknown') AS pair,
                    success, completed_at
             FROM transcode_history WHERE started_at >= $1
         ) t
         GROUP BY GROUPING SETS ((), (hw), (pair))"
    )
}

const TOTALS: i32 = 0b11;
const ACCELERATOR: i32 = 0b01;
const CODEC_PAIR: i32 = 0b10;

const RECENT_SQL: &str = "\
SELECT t.id, t.user_id, u.username, t.media_item_id, m.title, t.input_codec, t.output_codec,
       t.input_resolution, t.output_resolution, t.hw_accel, t.quality, t.duration_seconds,
       t.file_size_bytes, t.success, t.error_message, t.started_at, t.completed_at
FROM transcode_history t
JOIN users u ON u.id = t.user_id
JOIN media_items m ON m.id = t.media_item_id
WHERE t.started_at >= $1
ORDER BY t.started_at DESC, t.id DESC
LIMIT $2";

pub async fn stats(
    client: &impl GenericClient,
    tz: Tz,
    days: u32,
    now: DateTime<Utc>,
) -> DbResult<TranscodeStats> {
    let since = last_days_start(tz, now, days);
    let (mut total, mut succeeded, mut failed, mut in_progress, mut hw) = (0, 0, 0, 0, 0);
    let mut by_accelerator = Vec::new();
    let mut codec_distribution = Vec::new();
    for row in client.query(&figures_sql(), &[&since]).await? {
        let set: i32 = row.try_get("grouping_set")?;
        let n: i64 = row.try_get("total")?;
        match set {
            TOTALS => {
                total = n;
                succeeded = row.try_get("succeeded")?;
                failed = row.try_get("failed")?;
                in_progress = row.try_get("in_progress")?;
                hw = row.try_get("hw_count")?;
            }
            ACCELERATOR => {
                // The software group (no accelerator) is not an accelerator.
                if let Some(name) = row.try_get::<_, Option<String>>("hw")? {
                    by_accelerator.push(NameCount::new(name, n));
                }
            }
            CODEC_PAIR => {
                codec_distribution.push(NameCount::new(row.try_get::<_, String>("pair")?, n))
            }
            _ => {}
        }
    }
    sort_by_count(&mut by_accelerator);
    sort_by_count(&mut codec_distribution);
    codec_distribution.truncate(MAX_CODEC_PAIRS);
    let recent = client
        .query(RECENT_SQL, &[&since, &RECENT_TRANSCODES])
        .await?
        .iter()
        .map(TranscodeEntry::from_row)
        .collect::<DbResult<Vec<_>>>()?;
    Ok(TranscodeStats {
        days,
        since,
        total,
        succeeded,
        failed,
        in_progress,
        success_rate_percent: percent(succeeded, succeeded + failed),
        hw_accel_count: hw,
        hw_accel_percent: percent(hw, total),
        by_accelerator,
        codec_distribution,
        recent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_of_a_transcode() {
        assert_eq!(status(true, true), "succeeded");
        assert_eq!(status(true, false), "in_progress");
        assert_eq!(status(false, true), "failed");
        assert_eq!(status(false, false), "failed");
    }
}
