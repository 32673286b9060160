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
    /// `admin`, `user` or `guest` (CineVault's `users.role`).
    pub role: String,
    /// Their plays (a session reported through the ingest API, or CineVault's request rows of
    /// one viewing).
    pub total_plays: i64,
    /// The time watched of all their plays, summed, in whole minutes (rounded down).
    pub watch_minutes: i64,
    /// The end of their latest play (its latest report while it plays); null if none.
    pub last_active: Option<DateTime<Utc>>,
    /// The genre of the items they played most often (a play counts once for each distinct
    /// genre of its item: `tags` of category `genre`); ties go to the name first in
    /// alphabetical order. Null without genres.
    pub favorite_genre: Option<String>,
}

/// `GET /analytics/users/activity`.
#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq)]
pub struct UserActivityList {
    pub users: Vec<UserActivitySummary>,
}

/// Ordered by plays (most first), then by user name. The figures come from the summaries of
/// migration 030 plus the deltas not yet folded into them, read in one statement (one
/// snapshot), so they equal a scan of every session without reading 10 million rows.
const SQL: &str = "\
WITH pending AS (
    SELECT user_id, sum(plays)::int8 AS plays, sum(watch_seconds)::int8 AS secs,
           max(last_active) AS seen, bool_or(recompute) AS back
    FROM user_activity_deltas
    GROUP BY user_id
), genre_plays AS (
    SELECT user_id, genre, sum(plays)::int8 AS n
    FROM (SELECT user_id, genre, plays FROM user_genre_plays
          UNION ALL
          SELECT user_id, genre, plays FROM user_genre_deltas) g
    GROUP BY user_id, genre
    HAVING sum(plays) > 0
), favorite AS (
    SELECT DISTINCT ON (user_id) user_id, genre
    FROM genre_plays
    ORDER BY user_id, n DESC, genre
), activity AS (
    SELECT u.id, u.username::text AS username, u.role::text AS role,
           (COALESCE(t.plays, 0) + COALESCE(p.plays, 0))::int8 AS plays,
           ((COALESCE(t.watch_seconds, 0) + COALESCE(p.secs, 0)) / 60)::int8 AS minutes,
           CASE WHEN p.back THEN
                    (SELECT max(pl.last_active) FROM plays pl WHERE pl.user_id = u.id)
                ELSE GREATEST(t.last_active, p.seen) END AS last_active
    FROM users u
    LEFT JOIN user_activity_totals t ON t.user_id = u.id
    LEFT JOIN pending p ON p.user_id = u.id
)
SELECT a.id, a.username, a.role, a.plays, a.minutes, a.last_active, f.genre
FROM activity a
LEFT JOIN favorite f ON f.user_id = a.id
ORDER BY a.plays DESC, a.username, a.id";

pub async fn summaries(client: &impl GenericClient) -> DbResult<UserActivityList> {
    let rows = client.query(SQL, &[]).await?;
    let users = rows
        .iter()
        .map(|row| {
            Ok(UserActivitySummary {
                user_id: row.try_get("id")?,
                username: row.try_get("username")?,
                role: row.try_get("role")?,
                total_plays: row.try_get("plays")?,
                watch_minutes: row.try_get("minutes")?,
                last_active: row.try_get("last_active")?,
                favorite_genre: row.try_get("genre")?,
            })
        })
        .collect::<DbResult<_>>()?;
    Ok(UserActivityList { users })
}
