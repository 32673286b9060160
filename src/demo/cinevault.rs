//! `cinevault-analytics demo --cinevault`: a database filled the way the real CineVault
//! fills its own (src/demo/cinevault_data.rs says what and how), then the sidecar on it in
//! cinevault mode, as it would run beside a real CineVault.
//!
//! On an empty database it first creates CineVault's schema (cinevault_schema.sql, its 48
//! migrations' result). It is a database made for the demo, never someone's CineVault: it
//! refuses a database that already has a `users` table unless that is an earlier CineVault
//! demo (its admin is there: nothing is written) or `--force` is given.
//!
//! Every row is written with the columns CineVault's own statements name: stream_sessions
//! without `source` (so the sidecar's default 'cinevault' marks them as CineVault's),
//! system_metrics without `host` (so '' as its collector's), nothing into transcode_history.
//! Then the sidecar's schema is prepared in cinevault mode, one plays pass groups the
//! request rows into plays (and closes the rows CineVault never ends), and the sidecar's
//! rollup computes the demo's days from those plays.

use std::collections::HashMap;
use std::fmt;

use anyhow::Context;
use chrono::{NaiveDateTime, Utc};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio_postgres::{Client, Transaction};
use uuid::Uuid;

use super::cinevault_data::{generate, Data};
use super::generate::{demo_id, genre_slug};
use crate::config::{Config, DemoArgs};
use crate::{db, plays, rollup};

pub use super::cinevault_data::{marker_user_id, DAILY_STATS_DAYS, HISTORY_DAYS};

/// CineVault's schema after its 48 migrations (our recreation; see the file's header).
pub const SCHEMA: &str = include_str!("cinevault_schema.sql");

/// What a seeding wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// CineVault's schema was created (the database was empty).
    pub created_schema: bool,
    pub libraries: usize,
    pub media_items: usize,
    pub genres: usize,
    pub users: usize,
    /// Times someone pressed play (or the music player moved on to a track).
    pub viewings: usize,
    /// stream_sessions rows of direct play and direct stream: one per HTTP request.
    pub request_rows: usize,
    /// stream_sessions rows of HLS transcodes (never ended by CineVault).
    pub transcode_rows: usize,
    /// Rows CineVault has not ended: every transcode row, requests a restart cut, requests
    /// still going on.
    pub open_rows: usize,
    pub watch_history: usize,
    pub system_metrics: usize,
    pub daily_stats: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Seeded(Summary),
    AlreadySeeded,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::AlreadySeeded => {
                f.write_str("CineVault demo data already present; left as it is")
            }
            Outcome::Seeded(s) => write!(
                f,
                "CineVault demo data seeded{}: {} libraries, {} media items, {} genres, {} users; \
                 {} viewings as CineVault records them: {} stream_sessions rows ({} direct \
                 requests, {} transcode rows, {} never ended), {} watch_history rows; \
                 {} system metric rows (host ''), {} daily_stats rows from CineVault's rollup",
                if s.created_schema {
                    " (CineVault's schema created)"
                } else {
                    ""
                },
                s.libraries,
                s.media_items,
                s.genres,
                s.users,
                s.viewings,
                s.request_rows + s.transcode_rows,
                s.request_rows,
                s.transcode_rows,
                s.open_rows,
                s.watch_history,
                s.system_metrics,
                s.daily_stats,
            ),
        }
    }
}

/// Seeds CineVault's tables (creating its schema on an empty database), in one transaction.
pub async fn seed(client: &mut Client, args: &DemoArgs, tz: Tz) -> anyhow::Result<Outcome> {
    let has_users: bool = client
        .query_one("SELECT to_regclass('users') IS NOT NULL", &[])
        .await
        .context("looking for a users table")?
        .get(0);
    if has_users {
        let marker: bool = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)",
                &[&marker_user_id()],
            )
            .await
            .context("checking for earlier CineVault demo data")?
            .get(0);
        if marker {
            return Ok(Outcome::AlreadySeeded);
        }
        if !args.force {
            anyhow::bail!(
                "this database already has a users table (CineVault's own, or another \
                 application's); the CineVault demo writes CineVault's tables the way CineVault \
                 does and is meant for an empty database created for it; refusing (use an \
                 empty database, or pass --force to add the demo data anyway)"
            );
        }
    }
    let mut rng = StdRng::seed_from_u64(args.seed);
    let data = generate(&mut rng, Utc::now(), tz);
    let tx = client
        .transaction()
        .await
        .context("starting the demo transaction")?;
    if !has_users {
        tx.batch_execute(SCHEMA)
            .await
            .context("creating CineVault's schema (the database must be empty)")?;
    }
    insert(&tx, &data).await?;
    tx.commit().await.context("committing demo data")?;
    Ok(Outcome::Seeded(summary(&data, !has_users)))
}

fn summary(d: &Data, created_schema: bool) -> Summary {
    let transcode_rows = d
        .rows
        .iter()
        .filter(|r| r.playback_type == "transcode")
        .count();
    Summary {
        created_schema,
        libraries: d.libraries.len(),
        media_items: d.items.len(),
        genres: d.genres().len(),
        users: d.users.len(),
        viewings: d.viewings,
        request_rows: d.rows.len() - transcode_rows,
        transcode_rows,
        open_rows: d.rows.iter().filter(|r| r.is_active()).count(),
        watch_history: d.history.len(),
        system_metrics: d.metrics.len(),
        daily_stats: d.daily.len(),
    }
}

fn col<T, U>(rows: &[T], f: impl Fn(&T) -> U) -> Vec<U> {
    rows.iter().map(f).collect()
}

/// Writes every table in a handful of set-based statements, naming the columns CineVault's
/// own statements name (never the sidecar's additions: they take their defaults).
async fn insert(tx: &Transaction<'_>, d: &Data) -> anyhow::Result<()> {
    let u = &d.users;
    tx.execute(
        "INSERT INTO users (id, username, email, password_hash, pin_hash, display_name,
             first_name, last_name, role, is_active, max_content_rating, is_kids_profile,
             parent_user_id, created_at, updated_at)
         SELECT id, username, email, password_hash, pin_hash, display_name, first_name,
             last_name, role::user_role, is_active, max_content_rating, is_kids_profile,
             parent_user_id, created_at, updated_at
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
             $7::text[], $8::text[], $9::text[], $10::bool[], $11::text[], $12::bool[],
             $13::uuid[], $14::timestamp[], $15::timestamp[])
           AS t(id, username, email, password_hash, pin_hash, display_name, first_name,
             last_name, role, is_active, max_content_rating, is_kids_profile, parent_user_id,
             created_at, updated_at)",
        &[
            &col(u, |x| x.id),
            &col(u, |x| x.username.clone()),
            &col(u, |x| x.email.clone()),
            &col(u, |x| x.password_hash.clone()),
            &col(u, |x| x.pin_hash.clone()),
            &col(u, |x| x.display_name.clone()),
            &col(u, |x| x.first_name.clone()),
            &col(u, |x| x.last_name.clone()),
            &col(u, |x| x.role),
            &col(u, |x| x.is_active),
            &col(u, |x| x.max_content_rating),
            &col(u, |x| x.is_kids_profile),
            &col(u, |x| x.parent_user_id),
            &col(u, |x| x.created_at),
            &col(u, |x| x.updated_at),
        ],
    )
    .await
    .context("inserting CineVault demo users")?;

    let l = &d.libraries;
    tx.execute(
        "INSERT INTO libraries (id, name, media_type, path, created_at, updated_at,
             last_scan_at)
         SELECT id, name, media_type::media_type, path, created_at, created_at, created_at
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamp[])
           AS t(id, name, media_type, path, created_at)",
        &[
            &col(l, |x| x.id),
            &col(l, |x| x.name),
            &col(l, |x| x.media_type),
            &col(l, |x| x.path),
            &col(l, |x| x.created_at),
        ],
    )
    .await
    .context("inserting CineVault demo libraries")?;

    let m = &d.items;
    tx.execute(
        "INSERT INTO media_items (id, library_id, media_type, file_path, file_name, file_size,
             title, description, year, duration_seconds, resolution, width, height, codec,
             container, bitrate, framerate, audio_codec, audio_channels, poster_path,
             tv_show_id, tv_season_id, episode_number, hdr_format, dynamic_range,
             parent_media_id, extra_type, added_at, updated_at, last_scanned_at, play_count,
             last_played_at)
         SELECT id, library_id, media_type::media_type, file_path, file_name, file_size,
             title, description, year, duration_seconds, resolution, width, height, codec,
             container, bitrate, framerate::numeric(6,3), audio_codec, audio_channels,
             poster_path, tv_show_id, tv_season_id, episode_number, hdr_format, dynamic_range,
             parent_media_id, extra_type, added_at, added_at, added_at, play_count,
             last_played_at
         FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::int8[],
             $7::text[], $8::text[], $9::int[], $10::int[], $11::text[], $12::int[],
             $13::int[], $14::text[], $15::text[], $16::int8[], $17::float8[], $18::text[],
             $19::int[], $20::text[], $21::uuid[], $22::uuid[], $23::int[], $24::text[],
             $25::text[], $26::uuid[], $27::text[], $28::timestamp[], $29::int[],
             $30::timestamp[])
           AS t(id, library_id, media_type, file_path, file_name, file_size, title,
             description, year, duration_seconds, resolution, width, height, codec, container,
             bitrate, framerate, audio_codec, audio_channels, poster_path, tv_show_id,
             tv_season_id, episode_number, hdr_format, dynamic_range, parent_media_id,
             extra_type, added_at, play_count, last_played_at)",
        &[
            &col(m, |x| x.id),
            &col(m, |x| x.library_id),
            &col(m, |x| x.media_type),
            &col(m, |x| x.file_path.clone()),
            &col(m, |x| x.file_name.clone()),
            &col(m, |x| x.file_size),
            &col(m, |x| x.title.clone()),
            &col(m, |x| x.description.clone()),
            &col(m, |x| x.year),
            &col(m, |x| x.duration_seconds),
            &col(m, |x| x.resolution),
            &col(m, |x| x.width),
            &col(m, |x| x.height),
            &col(m, |x| x.codec),
            &col(m, |x| x.container),
            &col(m, |x| x.bitrate),
            &col(m, |x| x.framerate),
            &col(m, |x| x.audio_codec),
            &col(m, |x| x.audio_channels),
            &col(m, |x| x.poster_path.clone()),
            &col(m, |x| x.tv_show_id),
            &col(m, |x| x.tv_season_id),
            &col(m, |x| x.episode_number),
            &col(m, |x| x.hdr_format),
            &col(m, |x| x.dynamic_range),
            &col(m, |x| x.parent_media_id),
            &col(m, |x| x.extra_type),
            &col(m, |x| x.added_at),
            &col(m, |x| x.play_count),
            &col(m, |x| x.last_played_at),
        ],
    )
    .await
    .context("inserting CineVault demo media items")?;

    // Genres as its metadata task links them (task_metadata.go linkGenreTags): a `tags` row
    // per genre, created when the first item with it was scraped, and a media_tags row per
    // item and genre.
    let mut first_seen: HashMap<&str, NaiveDateTime> = HashMap::new();
    for item in m {
        for g in &item.genres {
            let at = first_seen.entry(g).or_insert(item.added_at);
            *at = (*at).min(item.added_at);
        }
    }
    let genres = d.genres();
    let tag_ids: Vec<Uuid> = (0..genres.len()).map(|i| demo_id("cv-genre", i)).collect();
    tx.execute(
        "INSERT INTO tags (id, name, slug, category, created_at)
         SELECT id, name, slug, 'genre', created_at
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::timestamp[])
           AS t(id, name, slug, created_at)
         ON CONFLICT DO NOTHING",
        &[
            &tag_ids,
            &genres,
            &col(&genres, |g| genre_slug(g)),
            &col(&genres, |g| first_seen.get(g).copied()),
        ],
    )
    .await
    .context("inserting CineVault demo genres")?;
    let links: Vec<(Uuid, &str)> = m
        .iter()
        .flat_map(|x| x.genres.iter().map(move |g| (x.id, *g)))
        .collect();
    tx.execute(
        "INSERT INTO media_tags (media_item_id, tag_id)
         SELECT l.item, t.id
         FROM UNNEST($1::uuid[], $2::text[]) AS l(item, name)
         JOIN tags t ON t.category = 'genre' AND lower(t.name) = lower(l.name)
         ON CONFLICT DO NOTHING",
        &[&col(&links, |x| x.0), &col(&links, |x| x.1)],
    )
    .await
    .context("linking CineVault demo genres")?;

    let h = &d.history;
    tx.execute(
        "INSERT INTO watch_history (id, user_id, media_item_id, progress_seconds,
             duration_seconds, completed, last_watched_at)
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::int[], $5::int[],
             $6::bool[], $7::timestamp[])",
        &[
            &col(h, |x| x.id),
            &col(h, |x| x.user_id),
            &col(h, |x| x.media_item_id),
            &col(h, |x| x.progress_seconds),
            &col(h, |x| x.duration_seconds),
            &col(h, |x| x.completed),
            &col(h, |x| x.last_watched_at),
        ],
    )
    .await
    .context("inserting CineVault demo watch history")?;

    // CreateStreamSession's eleven columns, then what EndStreamSession sets; never `source`.
    let s = &d.rows;
    tx.execute(
        "INSERT INTO stream_sessions (id, user_id, media_item_id, playback_type, quality, codec,
             resolution, container, client_info, started_at, is_active, ended_at, bytes_served,
             duration_seconds)
         SELECT id, user_id, media_item_id, playback_type, quality, codec, resolution,
             container, client_info, started_at, ended_at IS NULL, ended_at, 0,
             duration_seconds
         FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[],
             $7::text[], $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[],
             $12::int[])
           AS t(id, user_id, media_item_id, playback_type, quality, codec, resolution,
             container, client_info, started_at, ended_at, duration_seconds)",
        &[
            &col(s, |x| x.id),
            &col(s, |x| x.user_id),
            &col(s, |x| x.media_item_id),
            &col(s, |x| x.playback_type),
            &col(s, |x| x.quality),
            &col(s, |x| x.codec),
            &col(s, |x| x.resolution),
            &col(s, |x| x.container),
            &col(s, |x| x.client_info),
            &col(s, |x| x.started_at),
            &col(s, |x| x.ended_at),
            &col(s, |x| x.duration_seconds),
        ],
    )
    .await
    .context("inserting CineVault demo stream sessions")?;

    // RecordSystemMetrics' columns: no host.
    let sm = &d.metrics;
    tx.execute(
        "INSERT INTO system_metrics (id, cpu_percent, memory_percent, memory_used_mb,
             gpu_encoder_percent, gpu_memory_percent, gpu_temp_celsius, disk_total_gb,
             disk_used_gb, disk_free_gb, active_streams, active_transcodes, recorded_at)
         SELECT * FROM UNNEST($1::uuid[], $2::real[], $3::real[], $4::int[], $5::real[],
             $6::real[], $7::real[], $8::real[], $9::real[], $10::real[], $11::int[],
             $12::int[], $13::timestamptz[])",
        &[
            &col(sm, |x| x.id),
            &col(sm, |x| x.cpu_percent),
            &col(sm, |x| x.memory_percent),
            &col(sm, |x| x.memory_used_mb),
            &col(sm, |x| x.gpu_encoder_percent),
            &col(sm, |x| x.gpu_memory_percent),
            &col(sm, |x| x.gpu_temp_celsius),
            &col(sm, |x| x.disk_total_gb),
            &col(sm, |x| x.disk_used_gb),
            &col(sm, |x| x.disk_free_gb),
            &col(sm, |x| x.active_streams),
            &col(sm, |x| x.active_transcodes),
            &col(sm, |x| x.recorded_at),
        ],
    )
    .await
    .context("inserting CineVault demo system metrics")?;

    // UpsertDailyStat's columns; bytes and transcode failures are always 0 in CineVault.
    let ds = &d.daily;
    tx.execute(
        "INSERT INTO daily_stats (id, stat_date, total_plays, unique_users, total_watch_minutes,
             total_bytes_served, transcodes, direct_plays, direct_streams, transcode_failures,
             new_media_added, library_size_total, storage_used_bytes)
         SELECT id, stat_date, total_plays, unique_users, total_watch_minutes, 0, transcodes,
             direct_plays, direct_streams, 0, new_media_added, library_size_total,
             storage_used_bytes
         FROM UNNEST($1::uuid[], $2::date[], $3::int[], $4::int[], $5::int[], $6::int[],
             $7::int[], $8::int[], $9::int[], $10::int[], $11::int8[])
           AS t(id, stat_date, total_plays, unique_users, total_watch_minutes, transcodes,
             direct_plays, direct_streams, new_media_added, library_size_total,
             storage_used_bytes)
         ON CONFLICT (stat_date) DO UPDATE SET
             total_plays = EXCLUDED.total_plays, unique_users = EXCLUDED.unique_users,
             total_watch_minutes = EXCLUDED.total_watch_minutes,
             total_bytes_served = EXCLUDED.total_bytes_served,
             transcodes = EXCLUDED.transcodes, direct_plays = EXCLUDED.direct_plays,
             direct_streams = EXCLUDED.direct_streams,
             transcode_failures = EXCLUDED.transcode_failures,
             new_media_added = EXCLUDED.new_media_added,
             library_size_total = EXCLUDED.library_size_total,
             storage_used_bytes = EXCLUDED.storage_used_bytes",
        &[
            &col(ds, |x| x.id),
            &col(ds, |x| x.stat_date),
            &col(ds, |x| x.total_plays),
            &col(ds, |x| x.unique_users),
            &col(ds, |x| x.total_watch_minutes),
            &col(ds, |x| x.transcodes),
            &col(ds, |x| x.direct_plays),
            &col(ds, |x| x.direct_streams),
            &col(ds, |x| x.new_media_added),
            &col(ds, |x| x.library_size_total),
            &col(ds, |x| x.storage_used_bytes),
        ],
    )
    .await
    .context("inserting CineVault demo daily stats")?;
    Ok(())
}

/// The demo command's work before serving: seed, prepare the sidecar's schema in cinevault
/// mode, group CineVault's rows into plays once, and compute the demo's days from them.
pub async fn prepare(config: &Config, args: &DemoArgs) -> anyhow::Result<()> {
    let url = config.database_url.expose();
    let mut client = db::connect_one(url, config.db_timeout).await?;
    let outcome = seed(&mut client, args, config.time_zone()).await?;
    println!("{outcome}");
    drop(client);
    let prepared = db::prepare_schema(config).await?;
    println!(
        "sidecar schema ready ({} database, {}); steps applied now: {:?}",
        prepared.kind, prepared.decided_by, prepared.applied
    );
    if !matches!(outcome, Outcome::Seeded(_)) {
        return Ok(());
    }
    let pool = db::connect_pool(url, 2, config.db_timeout, config.db_timezone)?;
    // The rollup reads plays: CineVault's request rows must be grouped first.
    match plays::pass(&pool, plays::Rules::from_config(config), true).await? {
        Some(p) => println!(
            "plays: {} plays from CineVault's request rows of {} user/item pairs; {} rows \
             CineVault never ends closed",
            p.inserted, p.pairs, p.rows_closed
        ),
        None => println!("plays: another sidecar is grouping CineVault's rows right now"),
    }
    let tz = config.time_zone();
    let yesterday = rollup::yesterday(tz, Utc::now());
    let first = yesterday - chrono::Duration::days(HISTORY_DAYS);
    let days = rollup::rollup_range(&pool, tz, first, yesterday, |_, _, _| {}).await?;
    println!(
        "daily_stats computed by the sidecar for {days} days ({tz}); they replace the rows \
         CineVault's rollup wrote for the same dates, as beside a real CineVault"
    );
    Ok(())
}
