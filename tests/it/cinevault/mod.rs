//! The sidecar on CineVault's real database (issue 14): its schema recreated from the
//! reference (src/demo/cinevault_schema*.sql), its own statements replayed, its rows written
//! the way its Go code writes them.

mod coexistence;
mod figures;
mod legacy;
mod plays;
mod startup;
pub mod statements;

use chrono::{DateTime, Utc};
use tokio_postgres::Client;
use uuid::Uuid;

/// A CineVault user (its UserRepository.Create names these; the rest take defaults).
pub async fn user(c: &Client, name: &str, role: &str) -> Uuid {
    let id = Uuid::new_v4();
    c.execute(
        "INSERT INTO users (id, username, email, password_hash, role)
         VALUES ($1, $2::text, $2::text || '@example.org', 'x', $3::text::user_role)",
        &[&id, &name, &role],
    )
    .await
    .expect("CineVault user");
    id
}

pub async fn library(c: &Client, name: &str, media_type: &str) -> Uuid {
    let id = Uuid::new_v4();
    c.execute(
        "INSERT INTO libraries (id, name, media_type, path)
         VALUES ($1, $2::text, $3::text::media_type, '/media/' || $2::text)",
        &[&id, &name, &media_type],
    )
    .await
    .expect("CineVault library");
    id
}

/// A media item as CineVault's scanner writes it; `added_at` is left to the column's default
/// unless given (wall-clock time in the database's zone, as CineVault's database writes it).
#[allow(clippy::too_many_arguments)]
pub async fn item(
    c: &Client,
    library: Uuid,
    title: &str,
    media_type: &str,
    runtime: Option<i32>,
    size: i64,
    codec: Option<&str>,
    container: &str,
) -> Uuid {
    let id = Uuid::new_v4();
    c.execute(
        "INSERT INTO media_items (id, library_id, media_type, file_path, file_name, file_size,
             title, duration_seconds, codec, container, resolution)
         VALUES ($1, $2, $3::text::media_type, '/media/' || $1::uuid::text || '.' || $8::text,
             $4::text || '.' || $8::text, $5, $4::text, $6, $7, $8::text, '1080p')",
        &[
            &id,
            &library,
            &media_type,
            &title,
            &size,
            &runtime,
            &codec,
            &container,
        ],
    )
    .await
    .expect("CineVault media item");
    id
}

/// Links `item` to a genre tag, as CineVault's metadata task does (slug shared by categories).
pub async fn genre(c: &Client, item: Uuid, name: &str) {
    c.execute(
        "INSERT INTO tags (name, slug, category) VALUES ($1::text, cv_tag_slug($1::text), 'genre')
         ON CONFLICT (slug) DO NOTHING",
        &[&name],
    )
    .await
    .expect("genre tag");
    c.execute(
        "INSERT INTO media_tags (media_item_id, tag_id)
         SELECT $1, id FROM tags WHERE slug = cv_tag_slug($2)
         ON CONFLICT (media_item_id, tag_id) DO NOTHING",
        &[&item, &name],
    )
    .await
    .expect("media tag");
}

/// CineVault's CreateStreamSession (its exact statement, which does not name `source`).
pub async fn request_row(
    c: &Client,
    user: Uuid,
    item: Uuid,
    playback_type: &str,
    quality: Option<&str>,
    started: DateTime<Utc>,
) -> Uuid {
    let id = Uuid::new_v4();
    c.execute(
        statements::CREATE_STREAM_SESSION,
        &[
            &id,
            &user,
            &item,
            &playback_type,
            &quality,
            &Some("h264"),
            &Some("1080p"),
            &Some("mp4"),
            &Some("Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"),
            &started,
            &true,
        ],
    )
    .await
    .expect("CineVault's CreateStreamSession");
    id
}

/// CineVault's EndStreamSession as its direct-play handler calls it: bytes 0, the request's
/// wall time.
pub async fn end_row(c: &Client, id: Uuid, ended: DateTime<Utc>, secs: i32) {
    c.execute(statements::END_STREAM_SESSION, &[&ended, &0i64, &secs, &id])
        .await
        .expect("CineVault's EndStreamSession");
}

/// One request of a direct play: started, served for `secs`, ended.
pub async fn request(
    c: &Client,
    user: Uuid,
    item: Uuid,
    playback_type: &str,
    started: DateTime<Utc>,
    secs: i32,
) -> Uuid {
    let id = request_row(c, user, item, playback_type, None, started).await;
    end_row(
        c,
        id,
        started + chrono::Duration::seconds(i64::from(secs)),
        secs,
    )
    .await;
    id
}

/// CineVault's watch_history as its progress handler leaves it, at `at` (wall clock in UTC,
/// the database's zone here).
pub async fn progress(
    c: &Client,
    user: Uuid,
    item: Uuid,
    position: i32,
    completed: bool,
    at: DateTime<Utc>,
) {
    c.execute(
        "INSERT INTO watch_history (user_id, media_item_id, progress_seconds, duration_seconds,
             completed, last_watched_at)
         VALUES ($1, $2, $3, $3, $4, $5 AT TIME ZONE 'UTC')
         ON CONFLICT (user_id, media_item_id) DO UPDATE SET
             progress_seconds = EXCLUDED.progress_seconds, completed = EXCLUDED.completed,
             last_watched_at = EXCLUDED.last_watched_at",
        &[&user, &item, &position, &completed, &at],
    )
    .await
    .expect("watch_history");
}

pub fn pool(db: &crate::common::TestDb) -> deadpool_postgres::Pool {
    cinevault_analytics::db::connect_pool(
        &db.url,
        4,
        std::time::Duration::from_secs(10),
        chrono_tz::Tz::UTC,
    )
    .expect("pool")
}

/// The plays worker's rules with the defaults (30-minute gap, 10-minute staleness, 6 hours
/// for an item of unknown runtime).
pub fn rules() -> cinevault_analytics::plays::Rules {
    cinevault_analytics::plays::Rules {
        gap: std::time::Duration::from_secs(30 * 60),
        stale_after: std::time::Duration::from_secs(600),
        unknown_runtime: std::time::Duration::from_secs(6 * 3600),
    }
}

pub async fn pass(pool: &deadpool_postgres::Pool, full: bool) -> cinevault_analytics::plays::Pass {
    cinevault_analytics::plays::pass(pool, rules(), full)
        .await
        .expect("plays pass")
        .expect("the lock was free")
}

/// The RFC 3339 instant.
pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .with_timezone(&Utc)
}
