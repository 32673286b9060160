//! `GET /analytics/watch-activity`: who watched what, newest first, filtered, in pages that
//! continue by keyset on `(started_at, id)` (a cursor, never an offset), so a page deep in
//! ten million sessions costs what the first one does.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, Row};
use uuid::Uuid;

use super::DbResult;

/// A watch is complete once it has played this share of the item's runtime (decisions.md §3).
pub const COMPLETION_THRESHOLD_PERCENT: i64 = 90;
/// `?limit=` when absent, and its ceiling (larger values are clamped).
pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 500;

#[derive(Serialize, utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Completion {
    Completed,
    InProgress,
    Partial,
    Unknown,
}

/// Completed when the watched time reaches the threshold of the runtime; otherwise in
/// progress while the session is active, partial once it ended, and unknown when the item's
/// runtime is not known.
pub fn completion(
    duration_seconds: i32,
    runtime_seconds: Option<i32>,
    is_active: bool,
) -> Completion {
    let runtime = runtime_seconds.filter(|r| *r > 0).map(i64::from);
    match runtime {
        Some(r) if i64::from(duration_seconds) * 100 >= r * COMPLETION_THRESHOLD_PERCENT => {
            Completion::Completed
        }
        _ if is_active => Completion::InProgress,
        Some(_) => Completion::Partial,
        None => Completion::Unknown,
    }
}

#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq)]
pub struct WatchActivityEntry {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub media_item_id: Uuid,
    pub title: String,
    pub media_type: String,
    pub playback_type: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_seconds: i32,
    pub runtime_seconds: Option<i32>,
    /// Watched time as a percentage of the runtime (at most 100); null when unknown.
    pub completion_percent: Option<f64>,
    pub completion_status: Completion,
    pub is_active: bool,
}

impl WatchActivityEntry {
    fn from_row(row: &Row) -> DbResult<Self> {
        let duration_seconds: i32 = row.try_get("duration_seconds")?;
        let runtime_seconds: Option<i32> = row.try_get("runtime_seconds")?;
        let is_active: bool = row.try_get("is_active")?;
        Ok(Self {
            session_id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            username: row.try_get("username")?,
            media_item_id: row.try_get("media_item_id")?,
            title: row.try_get("title")?,
            media_type: row.try_get("media_type")?,
            playback_type: row.try_get("playback_type")?,
            started_at: row.try_get("started_at")?,
            ended_at: row.try_get("ended_at")?,
            duration_seconds,
            runtime_seconds,
            completion_percent: runtime_seconds.filter(|r| *r > 0).map(|r| {
                super::round2((f64::from(duration_seconds) * 100.0 / f64::from(r)).min(100.0))
            }),
            completion_status: completion(duration_seconds, runtime_seconds, is_active),
            is_active,
        })
    }
}

/// Where a page ends: the last entry's `(started_at, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub started_at: DateTime<Utc>,
    pub id: Uuid,
}

impl Cursor {
    /// 48 hex digits: the start time in microseconds, then the session id. Opaque to clients.
    pub fn encode(&self) -> String {
        format!(
            "{:016x}{}",
            self.started_at.timestamp_micros() as u64,
            self.id.simple()
        )
    }

    pub fn decode(s: &str) -> Option<Self> {
        if s.len() != 48 || !s.is_ascii() {
            return None;
        }
        let micros = u64::from_str_radix(&s[..16], 16).ok()? as i64;
        let id = Uuid::try_parse(&s[16..]).ok()?;
        Some(Self {
            started_at: DateTime::from_timestamp_micros(micros)?,
            id,
        })
    }
}

/// The filters of one page; `from`/`to` are UTC bounds `[from, to)` of local days.
#[derive(Debug, Clone, Default)]
pub struct WatchFilter {
    pub user_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub media_type: Option<String>,
    pub after: Option<Cursor>,
    pub limit: i64,
}

#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq)]
pub struct WatchActivityPage {
    pub limit: i64,
    pub entries: Vec<WatchActivityEntry>,
    /// Pass as `?cursor=` (with the same filters) for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

pub async fn page(
    client: &impl GenericClient,
    filter: &WatchFilter,
) -> DbResult<WatchActivityPage> {
    let limit = filter.limit.clamp(1, MAX_LIMIT);
    let fetch = limit + 1;
    let mut sql = String::from(
        "SELECT s.id, s.user_id, u.username, s.media_item_id, m.title, m.media_type,
                s.playback_type, s.started_at, s.ended_at, s.duration_seconds, m.runtime_seconds,
                s.is_active
         FROM stream_sessions s
         JOIN users u ON u.id = s.user_id
         JOIN media_items m ON m.id = s.media_item_id
         WHERE true",
    );
    let mut params: Vec<&(dyn ToSql + Sync)> = Vec::new();
    // Each filter appends its clause with the next placeholder number.
    if let Some(user) = &filter.user_id {
        params.push(user);
        sql.push_str(&format!(" AND s.user_id = ${}", params.len()));
    }
    if let Some(from) = &filter.from {
        params.push(from);
        sql.push_str(&format!(" AND s.started_at >= ${}", params.len()));
    }
    if let Some(to) = &filter.to {
        params.push(to);
        sql.push_str(&format!(" AND s.started_at < ${}", params.len()));
    }
    if let Some(kind) = &filter.media_type {
        params.push(kind);
        sql.push_str(&format!(" AND m.media_type = ${}", params.len()));
    }
    if let Some(cursor) = &filter.after {
        params.push(&cursor.started_at);
        params.push(&cursor.id);
        let n = params.len();
        sql.push_str(&format!(" AND (s.started_at, s.id) < (${}, ${n})", n - 1));
    }
    params.push(&fetch);
    sql.push_str(&format!(
        " ORDER BY s.started_at DESC, s.id DESC LIMIT ${}",
        params.len()
    ));
    let rows = client.query(&sql, &params).await?;
    let mut entries = rows
        .iter()
        .map(WatchActivityEntry::from_row)
        .collect::<DbResult<Vec<_>>>()?;
    let more = entries.len() as i64 > limit;
    entries.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = match entries.last() {
        Some(last) if more => Some(
            Cursor {
                started_at: last.started_at,
                id: last.session_id,
            }
            .encode(),
        ),
        _ => None,
    };
    Ok(WatchActivityPage {
        limit,
        entries,
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_follows_the_threshold_and_the_session_state() {
        use Completion::*;
        assert_eq!(completion(5400, Some(6000), false), Completed); // exactly 90 %
        assert_eq!(completion(5399, Some(6000), false), Partial);
        assert_eq!(completion(5399, Some(6000), true), InProgress);
        assert_eq!(completion(6000, Some(6000), true), Completed);
        assert_eq!(completion(100, None, false), Unknown);
        assert_eq!(completion(100, Some(0), false), Unknown);
        assert_eq!(completion(100, None, true), InProgress);
        // No overflow near the column's limits.
        assert_eq!(completion(i32::MAX, Some(i32::MAX), false), Completed);
    }

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let c = Cursor {
            started_at: DateTime::from_timestamp_micros(1_767_225_600_123_456).expect("time"),
            id: Uuid::new_v4(),
        };
        let s = c.encode();
        assert_eq!(s.len(), 48);
        assert_eq!(Cursor::decode(&s), Some(c));
        // Before 1970 too.
        let old = Cursor {
            started_at: DateTime::from_timestamp_micros(-5_000_000).expect("time"),
            ..c
        };
        assert_eq!(Cursor::decode(&old.encode()), Some(old));
        for bad in ["", "abc", &"z".repeat(48), &format!("{}é", &s[..46])] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }
}
