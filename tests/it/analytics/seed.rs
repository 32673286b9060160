//! The hand-built dataset the analytics tests share, with its known answers written beside
//! each row. "Now" is pinned at 2026-03-29 12:00Z: the Sunday Berlin springs forward, 14:00
//! CEST. Today (Berlin) is [03-28 23:00Z, 03-29 22:00Z); the ISO week began Monday 03-23,
//! i.e. at 03-22 23:00Z.

use chrono::{DateTime, Utc};
use tokio_postgres::Client;
use uuid::Uuid;

pub const NOW: &str = "2026-03-29T12:00:00Z";

pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .with_timezone(&Utc)
}

pub fn now() -> DateTime<Utc> {
    utc(NOW)
}

pub struct Seed {
    pub alice: Uuid,
    pub bob: Uuid,
    pub carol: Uuid,
    pub movies: Uuid,
    pub shows: Uuid,
    pub anime: Uuid,
    pub harbor: Uuid,
    pub storm: Uuid,
    pub pilot: Uuid,
    pub loose: Uuid,
    /// s1..s7 below, in that order.
    pub sessions: [Uuid; 7],
    /// t1..t5 below, in that order.
    pub transcodes: [Uuid; 5],
}

pub async fn user(c: &Client, name: &str) -> Uuid {
    let id = Uuid::new_v4();
    c.execute(
        "INSERT INTO users (id, username) VALUES ($1, $2)",
        &[&id, &name],
    )
    .await
    .expect("user");
    id
}

/// A library; the first release's kinds (`shows`) are written as CineVault's media types.
async fn library(c: &Client, name: &str, kind: &str) -> Uuid {
    let id = Uuid::new_v4();
    c.execute(
        "INSERT INTO libraries (id, name, media_type)
         VALUES ($1, $2, (CASE $3::text WHEN 'shows' THEN 'tv_shows' ELSE $3::text END)::media_type)",
        &[&id, &name, &kind],
    )
    .await
    .expect("library");
    id
}

/// A media item; every column after the title is given as SQL so NULLs read plainly, in the
/// order media_type ('movie' and 'episode' as the first release wrote them), runtime, genres
/// (an array literal, stored as CineVault stores them: tags linked through media_tags),
/// description, poster, year, video codec, audio codec, resolution, HDR format, audio format,
/// file size.
pub async fn item(c: &Client, library: Option<Uuid>, title: &str, columns: &str) -> Uuid {
    let id = Uuid::new_v4();
    let sql = format!(
        "WITH v(media_type, runtime, genres, description, poster_path, year, codec, audio_codec,
                resolution, hdr_format, audio_format, file_size) AS (VALUES ({columns})),
         ins AS (
             INSERT INTO media_items (id, library_id, title, media_type, duration_seconds,
                 description, poster_path, year, codec, audio_codec, resolution, hdr_format,
                 audio_format, file_size)
             SELECT $1, $2, $3,
                    (CASE v.media_type::text WHEN 'movie' THEN 'movies'
                         WHEN 'episode' THEN 'tv_shows' ELSE v.media_type::text END)::media_type,
                    v.runtime::int, v.description::text, v.poster_path::text, v.year::int,
                    v.codec::text, v.audio_codec::text, v.resolution::text, v.hdr_format::text,
                    v.audio_format::text, v.file_size::bigint
             FROM v RETURNING id)
         SELECT v.genres::text[] FROM v, ins"
    );
    let genres: Vec<String> = c
        .query_one(&sql, &[&id, &library, &title])
        .await
        .expect("media item")
        .get(0);
    set_genres(c, id, &genres).await;
    id
}

/// Links `item` to exactly these genres, as CineVault does (a `tags` row per genre).
pub async fn set_genres(c: &Client, item: Uuid, genres: &[String]) {
    c.execute(
        "INSERT INTO tags (name, slug, category)
         SELECT DISTINCT ON (cv_tag_slug(g)) btrim(g), cv_tag_slug(g), 'genre'
         FROM unnest($1::text[]) g WHERE btrim(g) <> ''
         ORDER BY cv_tag_slug(g), btrim(g)
         ON CONFLICT (slug) DO NOTHING",
        &[&genres],
    )
    .await
    .expect("genre tags");
    c.execute(
        "WITH gone AS (
             DELETE FROM media_tags mt USING tags t
             WHERE mt.media_item_id = $2 AND t.id = mt.tag_id AND t.category = 'genre'
               AND t.slug NOT IN (SELECT cv_tag_slug(g) FROM unnest($1::text[]) g))
         INSERT INTO media_tags (media_item_id, tag_id)
         SELECT $2, t.id FROM tags t
         WHERE t.category = 'genre' AND t.slug IN (SELECT cv_tag_slug(g) FROM unnest($1::text[]) g)
         ON CONFLICT (media_item_id, tag_id) DO NOTHING",
        &[&genres, &item],
    )
    .await
    .expect("media tags");
}

/// Recomputes the per-user summaries from the plays: sessions written straight into the
/// table (as these helpers do) make no deltas; the sidecar's own writers do.
pub async fn rebuild_summaries(c: &impl tokio_postgres::GenericClient) {
    c.execute("SELECT cv_rebuild_summaries()", &[])
        .await
        .expect("rebuild summaries");
}

/// An ended session (or an active one when `active`; its last report then 2 minutes in).
#[allow(clippy::too_many_arguments)]
pub async fn session(
    c: &impl tokio_postgres::GenericClient,
    user: Uuid,
    item: Uuid,
    kind: &str,
    started: &str,
    secs: i32,
    bytes: i64,
    active: bool,
) -> Uuid {
    let id = Uuid::new_v4();
    c.execute(
        "INSERT INTO stream_sessions (id, user_id, media_item_id, playback_type, started_at,
             duration_seconds, bytes_served, is_active, ended_at, last_reported_at, quality,
             codec, resolution, container)
         VALUES ($1, $2, $3, $4, $5::text::timestamptz, $6, $7, $8,
             CASE WHEN $8 THEN NULL
                  ELSE $5::text::timestamptz + $6::int * interval '1 second' END,
             CASE WHEN $8 THEN $5::text::timestamptz + interval '2 minutes'
                  ELSE $5::text::timestamptz + $6::int * interval '1 second' END,
             '1080p', 'h264', '1080p', 'mkv')",
        &[&id, &user, &item, &kind, &started, &secs, &bytes, &active],
    )
    .await
    .expect("session");
    id
}

/// A transcode; `outcome` is `Some(success)` once completed (a minute after it started).
#[allow(clippy::too_many_arguments)]
async fn transcode(
    c: &Client,
    user: Uuid,
    item: Uuid,
    started: &str,
    outcome: Option<bool>,
    codecs: (Option<&str>, Option<&str>),
    hw: Option<&str>,
    error: Option<&str>,
) -> Uuid {
    let id = Uuid::new_v4();
    let success = outcome.unwrap_or(true);
    let done = outcome.is_some();
    c.execute(
        "INSERT INTO transcode_history (id, user_id, media_item_id, started_at, success,
             completed_at, input_codec, output_codec, hw_accel, error_message)
         VALUES ($1, $2, $3, $4::text::timestamptz, $5,
             CASE WHEN $6 THEN $4::text::timestamptz + interval '1 minute' END, $7, $8, $9, $10)",
        &[
            &id, &user, &item, &started, &success, &done, &codecs.0, &codecs.1, &hw, &error,
        ],
    )
    .await
    .expect("transcode");
    id
}

/// One `system_metrics` row.
pub async fn metric(c: &Client, host: &str, at: DateTime<Utc>, cpu: f32, disk_free: f32) {
    c.execute(
        "INSERT INTO system_metrics (host, recorded_at, cpu_percent, memory_percent,
             memory_used_mb, disk_total_gb, disk_used_gb, disk_free_gb, active_streams)
         VALUES ($1, $2, $3, 40, 2048, 1000, 1000 - $4::real, $4::real, 2)",
        &[&host, &at, &cpu, &disk_free],
    )
    .await
    .expect("metric");
}

/// A day's row with `plays` plays and the other figures derived from it, in the sidecar's
/// own copy and in `daily_stats`, as the rollup writes it.
pub async fn daily(c: &Client, day: &str, plays: i32) {
    for table in ["daily_stats", "sidecar_daily_stats"] {
        c.execute(
            &format!(
                "INSERT INTO {table} (stat_date, total_plays, unique_users, total_watch_minutes,
                     total_bytes_served, transcodes, direct_plays, direct_streams,
                     transcode_failures, new_media_added, library_size_total, storage_used_bytes)
                 VALUES ($1::text::date, $2, 1, $2 * 10, $2 * 1000, 1, $2 - 1, 0, 0, 0, 4,
                     16000000100)"
            ),
            &[&day, &plays],
        )
        .await
        .expect("daily row");
    }
}

pub async fn seed(c: &Client) -> Seed {
    let alice = user(c, "alice").await;
    let bob = user(c, "bob").await;
    let carol = user(c, "carol").await; // never plays
    let movies = library(c, "Movies", "movies").await;
    let shows = library(c, "Shows", "shows").await;
    let anime = library(c, "Anime", "shows").await; // empty

    // Complete metadata; 4K HDR10, Atmos (mixed case).
    let harbor = item(
        c,
        Some(movies),
        "The Quiet Harbor",
        "'movie', 6000, '{Drama,Mystery}', 'A harbor.', '/p/h.jpg', 2021, 'hevc', 'truehd',
         '2160p', 'HDR10', 'TrueHD ATMOS 7.1', 10000000000",
    )
    .await;
    // No poster; Dolby Vision; no Atmos.
    let storm = item(
        c,
        Some(movies),
        "Storm",
        "'movie', 3600, '{Action,Drama}', 'A storm.', NULL, 2019, 'h264', 'dts', '1080p',
         'Dolby Vision', 'DTS-HD MA', 5000000000",
    )
    .await;
    // A blank overview counts as missing; unknown runtime; Atmos in lower case.
    let pilot = item(
        c,
        Some(shows),
        "Pilot",
        "'episode', NULL, '{Comedy}', '   ', '/p/p.jpg', 2020, 'h264', 'eac3', '1080p',
         NULL, 'dolby atmos', 1000000000",
    )
    .await;
    // In no library; nothing known.
    let loose = item(
        c,
        None,
        "Loose File",
        "'movie', NULL, '{}', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 100",
    )
    .await;

    let s1 = session(
        c,
        alice,
        harbor,
        "direct_play",
        "2026-03-29T10:00:00Z",
        5400,
        1000,
        false,
    )
    .await; // today; 90 %: completed
    let s2 = session(
        c,
        alice,
        storm,
        "transcode",
        "2026-03-28T23:00:00Z",
        600,
        2000,
        false,
    )
    .await; // today (00:00 local); partial
    let s3 = session(
        c,
        bob,
        pilot,
        "direct_stream",
        "2026-03-28T22:59:59Z",
        300,
        4000,
        false,
    )
    .await; // yesterday 23:59:59; this week; unknown
    let s4 = session(
        c,
        bob,
        harbor,
        "transcode",
        "2026-03-29T11:50:00Z",
        120,
        500,
        true,
    )
    .await; // today; active: in progress
    let s5 = session(
        c,
        alice,
        storm,
        "direct_play",
        "2026-03-22T23:00:00Z",
        3600,
        100,
        false,
    )
    .await; // Monday 00:00: this week; completed
    let s6 = session(
        c,
        bob,
        harbor,
        "direct_play",
        "2026-03-22T22:59:59Z",
        60,
        10,
        false,
    )
    .await; // Sunday 23:59:59: last week; partial
    let s7 = session(
        c,
        alice,
        pilot,
        "direct_play",
        "2026-02-01T20:00:00Z",
        1200,
        1,
        false,
    )
    .await; // February; unknown

    let t1 = transcode(
        c,
        alice,
        storm,
        "2026-03-28T23:30:00Z",
        Some(true),
        (Some("hevc"), Some("h264")),
        Some("h264_nvenc"),
        None,
    )
    .await; // today
    let t2 = transcode(
        c,
        bob,
        harbor,
        "2026-03-29T09:00:00Z",
        Some(false),
        (Some("hevc"), Some("h264")),
        None,
        Some("ffmpeg exited with status 1"),
    )
    .await; // today, failed
    let t3 = transcode(
        c,
        bob,
        harbor,
        "2026-03-29T11:55:00Z",
        None,
        (Some("hevc"), None),
        Some("h264_vaapi"),
        None,
    )
    .await; // today, running
    let t4 = transcode(
        c,
        alice,
        pilot,
        "2026-03-28T22:00:00Z",
        Some(false),
        (Some("h264"), Some("h264")),
        Some("none"),
        Some("out of memory"),
    )
    .await; // yesterday, failed, software
    let t5 = transcode(
        c,
        alice,
        harbor,
        "2026-01-01T12:00:00Z",
        Some(true),
        (Some("hevc"), Some("h264")),
        Some("h264_nvenc"),
        None,
    )
    .await; // January

    rebuild_summaries(c).await;
    Seed {
        alice,
        bob,
        carol,
        movies,
        shows,
        anime,
        harbor,
        storm,
        pilot,
        loose,
        sessions: [s1, s2, s3, s4, s5, s6, s7],
        transcodes: [t1, t2, t3, t4, t5],
    }
}
