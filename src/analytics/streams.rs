//! `GET /analytics/streams` (active and recent sessions) and `GET /analytics/streams/breakdown`
//! (plays per playback type over the last N days).

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use tokio_postgres::{GenericClient, Row};
use uuid::Uuid;

use super::overview::PlaysBySource;
use super::period::last_days_start;
use super::plays;
use super::{percent, DbResult};
use crate::ingest::events::PlaybackType;

/// How many ended sessions `streams` lists.
pub const RECENT_SESSIONS: i64 = 50;

/// A play (a session reported through the ingest API, or CineVault's request rows of one
/// viewing) with the names an admin reads.
#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq)]
pub struct StreamSession {
    pub id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub media_item_id: Uuid,
    pub title: String,
    pub media_type: String,
    pub playback_type: String,
    pub quality: Option<String>,
    pub codec: Option<String>,
    pub resolution: Option<String>,
    pub container: Option<String>,
    pub client_info: Option<String>,
    /// Time watched: as reported (ingest API), or the union of CineVault's request times.
    pub duration_seconds: i32,
    pub bytes_served: i64,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub is_active: bool,
    /// `ingest` (reported through the ingest API) or `cinevault` (CineVault's own rows).
    pub source: String,
    /// How many stream_sessions rows the play covers (CineVault writes one per request).
    pub request_rows: i32,
    /// Where `duration_seconds` comes from: `reported`, `requests` (CineVault's request
    /// times) or `unknown` (CineVault recorded only the start; counted as 0).
    pub duration_source: String,
}

impl StreamSession {
    fn from_row(row: &Row) -> DbResult<Self> {
        Ok(Self {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            username: row.try_get("username")?,
            media_item_id: row.try_get("media_item_id")?,
            title: row.try_get("title")?,
            media_type: row.try_get("media_type")?,
            playback_type: row.try_get("playback_type")?,
            quality: row.try_get("quality")?,
            codec: row.try_get("codec")?,
            resolution: row.try_get("resolution")?,
            container: row.try_get("container")?,
            client_info: row.try_get("client_info")?,
            duration_seconds: row.try_get("watch_seconds")?,
            bytes_served: row.try_get("bytes_served")?,
            started_at: row.try_get("started_at")?,
            ended_at: row.try_get("ended_at")?,
            is_active: row.try_get("is_active")?,
            source: row.try_get("source")?,
            request_rows: row.try_get("request_rows")?,
            duration_source: row.try_get("duration_source")?,
        })
    }
}

/// `GET /analytics/streams`: every active play and the most recent ended ones, newest
/// first.
#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq)]
pub struct StreamList {
    pub active: Vec<StreamSession>,
    pub recent: Vec<StreamSession>,
}

/// The play columns an entry shows (the names and title come from the joins).
const COLUMNS: [&str; 17] = [
    "id",
    "user_id",
    "media_item_id",
    "playback_type",
    "quality",
    "codec",
    "resolution",
    "container",
    "client_info",
    "watch_seconds",
    "bytes_served",
    "started_at",
    "ended_at",
    "is_active",
    "source",
    "request_rows",
    "duration_source",
];
const NAMES: &str =
    "u.username::text AS username, m.title::text AS title, m.media_type::text AS media_type";
const JOINS: &str = "JOIN users u ON u.id = s.user_id JOIN media_items m ON m.id = s.media_item_id";

/// Every active play (each side's active rows through their partial indexes), newest first.
static ACTIVE_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT p.*, {NAMES} FROM {} p
         JOIN users u ON u.id = p.user_id JOIN media_items m ON m.id = p.media_item_id
         WHERE p.is_active ORDER BY p.started_at DESC, p.id DESC",
        plays::union(&COLUMNS)
    )
});

static RECENT_SQL: LazyLock<String> =
    LazyLock::new(|| plays::newest_first(&COLUMNS, NAMES, JOINS, "NOT s.is_active", "$1"));

pub async fn list(client: &impl GenericClient) -> DbResult<StreamList> {
    let active = client.query(ACTIVE_SQL.as_str(), &[]).await?;
    let recent = client
        .query(RECENT_SQL.as_str(), &[&RECENT_SESSIONS])
        .await?;
    Ok(StreamList {
        active: active
            .iter()
            .map(StreamSession::from_row)
            .collect::<DbResult<_>>()?,
        recent: recent
            .iter()
            .map(StreamSession::from_row)
            .collect::<DbResult<_>>()?,
    })
}

/// Plays of one playback type and their share of all plays.
#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq)]
pub struct PlaybackTypeCount {
    pub playback_type: String,
    pub count: i64,
    pub percent: f64,
}

/// `GET /analytics/streams/breakdown`: plays started in the last `days` local days (today
/// included), per playback type. The three known types are always listed, in a fixed order;
/// any other value found in the table follows them.
#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq)]
pub struct StreamTypeBreakdown {
    pub days: u32,
    pub since: DateTime<Utc>,
    pub total: i64,
    pub types: Vec<PlaybackTypeCount>,
    /// Where the plays come from (CineVault's own rows, the ingest API).
    pub plays_by_source: PlaysBySource,
}

/// Each side counts its own plays (in its own index), then the two are added up.
static BREAKDOWN_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT playback_type::text, sum(n)::int8 AS n, sum(cinevault)::int8 AS cinevault
         FROM ({}) counts GROUP BY playback_type ORDER BY playback_type",
        plays::each_side(
            "SELECT {playback_type} AS playback_type, count(*) AS n,
                    count(*) FILTER (WHERE {source} = 'cinevault') AS cinevault
             FROM {plays} AND s.started_at >= $1 GROUP BY 1"
        )
    )
});

pub async fn breakdown(
    client: &impl GenericClient,
    tz: Tz,
    days: u32,
    now: DateTime<Utc>,
) -> DbResult<StreamTypeBreakdown> {
    let since = last_days_start(tz, now, days);
    let rows = client.query(BREAKDOWN_SQL.as_str(), &[&since]).await?;
    let mut counts: Vec<(String, i64)> = PlaybackType::ALL
        .iter()
        .map(|t| (t.as_str().to_owned(), 0))
        .collect();
    let mut cinevault = 0;
    for row in &rows {
        let kind: String = row.try_get("playback_type")?;
        let n: i64 = row.try_get("n")?;
        cinevault += row.try_get::<_, i64>("cinevault")?;
        match counts.iter_mut().find(|(k, _)| *k == kind) {
            Some(slot) => slot.1 = n,
            None => counts.push((kind, n)),
        }
    }
    let total = counts.iter().map(|(_, n)| n).sum();
    Ok(StreamTypeBreakdown {
        days,
        since,
        total,
        plays_by_source: PlaysBySource::split(total, cinevault),
        types: counts
            .into_iter()
            .map(|(playback_type, count)| PlaybackTypeCount {
                percent: percent(count, total),
                playback_type,
                count,
            })
            .collect(),
    })
}
