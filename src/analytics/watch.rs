//! `GET /analytics/watch-activity`: who watched what, newest first, filtered, in pages that
//! continue by keyset on `(started_at, id)` (a cursor, never an offset), so a page deep in
//! ten million sessions costs what the first one does.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, Row};
use uuid::Uuid;

use super::{plays, DbResult};

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

/// How far a play got: the time watched, and for CineVault's plays the player's position and
/// completed flag from `watch_history` when the player reported them during the play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    pub watch_seconds: i32,
    pub position_seconds: Option<i32>,
    pub history_completed: Option<bool>,
}

/// Completed when the player said so, or when the position or the watched time reaches the
/// threshold of the runtime; otherwise in progress while the play is active, partial once
/// it ended, and unknown when the item's runtime is not known.
pub fn completion(progress: Progress, runtime_seconds: Option<i32>, is_active: bool) -> Completion {
    if progress.history_completed == Some(true) {
        return Completion::Completed;
    }
    let runtime = runtime_seconds.filter(|r| *r > 0).map(i64::from);
    let reached = i64::from(
        progress
            .watch_seconds
            .max(progress.position_seconds.unwrap_or(0)),
    );
    match runtime {
        Some(r) if reached * 100 >= r * COMPLETION_THRESHOLD_PERCENT => Completion::Completed,
        _ if is_active => Completion::InProgress,
        Some(_) => Completion::Partial,
        None => Completion::Unknown,
    }
}

/// What the completion was judged on: CineVault's `watch_history` (the player's position and
/// flag) when it reported during the play, else the time watched.
pub fn completion_source(progress: Progress) -> &'static str {
    if progress.position_seconds.is_some() || progress.history_completed.is_some() {
        "watch_history"
    } else {
        "watch_time"
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
    /// Time watched: as reported (ingest API), or the union of CineVault's request times.
    pub duration_seconds: i32,
    /// The item's runtime (`media_items.duration_seconds`).
    pub runtime_seconds: Option<i32>,
    /// How far the play got (the larger of the time watched and the player's position) as a
    /// percentage of the runtime (at most 100); null when the runtime is unknown.
    pub completion_percent: Option<f64>,
    pub completion_status: Completion,
    pub is_active: bool,
    /// `ingest` (reported through the ingest API) or `cinevault` (CineVault's own rows).
    pub source: String,
    /// How many stream_sessions rows the play covers (CineVault writes one per request).
    pub request_rows: i32,
    /// Where `duration_seconds` comes from: `reported`, `requests` or `unknown`.
    pub duration_source: String,
    /// The player's position from CineVault's watch_history, when reported during the play.
    pub position_seconds: Option<i32>,
    /// What the completion was judged on: `watch_history` or `watch_time`.
    pub completion_source: &'static str,
}

impl WatchActivityEntry {
    fn from_row(row: &Row) -> DbResult<Self> {
        let progress = Progress {
            watch_seconds: row.try_get("watch_seconds")?,
            position_seconds: row.try_get("position_seconds")?,
            history_completed: row.try_get("history_completed")?,
        };
        let runtime_seconds: Option<i32> = row.try_get("runtime_seconds")?;
        let is_active: bool = row.try_get("is_active")?;
        let reached = progress
            .watch_seconds
            .max(progress.position_seconds.unwrap_or(0));
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
            duration_seconds: progress.watch_seconds,
            runtime_seconds,
            completion_percent: runtime_seconds
                .filter(|r| *r > 0)
                .map(|r| super::round2((f64::from(reached) * 100.0 / f64::from(r)).min(100.0))),
            completion_status: completion(progress, runtime_seconds, is_active),
            is_active,
            source: row.try_get("source")?,
            request_rows: row.try_get("request_rows")?,
            duration_source: row.try_get("duration_source")?,
            position_seconds: progress.position_seconds,
            completion_source: completion_source(progress),
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

/// The play columns an entry shows (names, title and runtime come from the joins).
const COLUMNS: [&str; 14] = [
    "id",
    "user_id",
    "media_item_id",
    "playback_type",
    "started_at",
    "ended_at",
    "watch_seconds",
    "is_active",
    "source",
    "request_rows",
    "duration_source",
    "position_seconds",
    "history_completed",
    "bytes_served",
];

pub async fn page(
    client: &impl GenericClient,
    filter: &WatchFilter,
) -> DbResult<WatchActivityPage> {
    let limit = filter.limit.clamp(1, MAX_LIMIT);
    let fetch = limit + 1;
    let mut clauses = vec!["true".to_owned()];
    let mut params: Vec<&(dyn ToSql + Sync)> = Vec::new();
    // Each filter adds its clause with the next placeholder number.
    if let Some(user) = &filter.user_id {
        params.push(user);
        clauses.push(format!("s.user_id = ${}", params.len()));
    }
    if let Some(from) = &filter.from {
        params.push(from);
        clauses.push(format!("s.started_at >= ${}", params.len()));
    }
    if let Some(to) = &filter.to {
        params.push(to);
        clauses.push(format!("s.started_at < ${}", params.len()));
    }
    if let Some(kind) = &filter.media_type {
        params.push(kind);
        clauses.push(format!("m.media_type::text = ${}", params.len()));
    }
    if let Some(cursor) = &filter.after {
        params.push(&cursor.started_at);
        params.push(&cursor.id);
        let n = params.len();
        clauses.push(format!("(s.started_at, s.id) < (${}, ${n})", n - 1));
    }
    params.push(&fetch);
    let sql = plays::newest_first(
        &COLUMNS,
        "u.username::text AS username, m.title::text AS title,
         m.media_type::text AS media_type, m.duration_seconds AS runtime_seconds",
        "JOIN users u ON u.id = s.user_id JOIN media_items m ON m.id = s.media_item_id",
        &clauses.join(" AND "),
        &format!("${}", params.len()),
    );
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
        let w = |watch_seconds| Progress {
            watch_seconds,
            ..Progress::default()
        };
        assert_eq!(completion(w(5400), Some(6000), false), Completed); // exactly 90 %
        assert_eq!(completion(w(5399), Some(6000), false), Partial);
        assert_eq!(completion(w(5399), Some(6000), true), InProgress);
        assert_eq!(completion(w(6000), Some(6000), true), Completed);
        assert_eq!(completion(w(100), None, false), Unknown);
        assert_eq!(completion(w(100), Some(0), false), Unknown);
        assert_eq!(completion(w(100), None, true), InProgress);
        // No overflow near the column's limits.
        assert_eq!(completion(w(i32::MAX), Some(i32::MAX), false), Completed);
        assert_eq!(completion_source(w(10)), "watch_time");
    }

    #[test]
    fn watch_history_position_and_flag_count_towards_completion() {
        use Completion::*;
        let resumed = Progress {
            watch_seconds: 600,
            position_seconds: Some(5500),
            history_completed: Some(false),
        };
        assert_eq!(completion(resumed, Some(6000), false), Completed);
        assert_eq!(completion_source(resumed), "watch_history");
        let flagged = Progress {
            watch_seconds: 60,
            position_seconds: Some(100),
            history_completed: Some(true),
        };
        assert_eq!(completion(flagged, None, false), Completed);
        let early = Progress {
            watch_seconds: 60,
            position_seconds: Some(100),
            history_completed: None,
        };
        assert_eq!(completion(early, Some(6000), false), Partial);
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
