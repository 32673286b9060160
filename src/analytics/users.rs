//! `GET /analytics/users/activity`: per user, plays, watch time, last activity, favourite
//! genre. Every user is listed, those who never played anything with zeros.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::DbResult;

#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq)]
pub struct UserActivitySummary {
    pub user_id: Uuid,
    pub username: String,
    pub total_plays: i64,
    /// `duration_seconds` of all their sessions, summed, in whole minutes (rounded down).
    pub watch_minutes: i64,
    /// The end of their latest session (its latest report while it plays); null if none.
    pub last_active: Option<DateTime<Utc>>,
    /// The genre of the items they played most often (a session counts once for each genre
    /// of its item); ties go to the name first in alphabetical order. Null without genres.
    pub favorite_genre: Option<String>,
}

/// `GET /analytics/users/activity`.
#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq)]
pub struct UserActivityList {
    pub users: Vec<UserActivitySummary>,
}

/// Ordered by plays (most first), then by user name.
const SQL: &str = "\
WITH plays AS (
    SELECT user_id,
           count(*) AS plays,
           COALESCE(sum(duration_seconds), 0) / 60 AS minutes,
           max(CASE WHEN is_active THEN GREATEST(started_at, last_reported_at)
                    ELSE GREATEST(started_at, ended_at) END) AS last_active
    FROM stream_sessions
    GROUP BY user_id
), genre_plays AS (
    SELECT s.user_id, g.genre, count(*) AS n
    FROM stream_sessions s
    JOIN media_items m ON m.id = s.media_item_id
    CROSS JOIN LATERAL unnest(m.genres) AS g(genre)
    WHERE btrim(g.genre) <> ''
    GROUP BY s.user_id, g.genre
), favorite AS (
    SELECT DISTINCT ON (user_id) user_id, genre
    FROM genre_plays
    ORDER BY user_id, n DESC, genre
)
SELECT u.id, u.username, COALESCE(p.plays, 0) AS plays, COALESCE(p.minutes, 0) AS minutes,
       p.last_active, f.genre
FROM users u
LEFT JOIN plays p ON p.user_id = u.id
LEFT JOIN favorite f ON f.user_id = u.id
ORDER BY COALESCE(p.plays, 0) DESC, u.username, u.id";

pub async fn summaries(client: &impl GenericClient) -> DbResult<UserActivityList> {
    let rows = client.query(SQL, &[]).await?;
    let users = rows
        .iter()
        .map(|row| {
            Ok(UserActivitySummary {
                user_id: row.try_get("id")?,
                username: row.try_get("username")?,
                total_plays: row.try_get("plays")?,
                watch_minutes: row.try_get("minutes")?,
                last_active: row.try_get("last_active")?,
                favorite_genre: row.try_get("genre")?,
            })
        })
        .collect::<DbResult<_>>()?;
    Ok(UserActivityList { users })
}
