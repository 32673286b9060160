//! Writes the generated demo data in a handful of set-based statements (one UNNEST per
//! table), inside the caller's transaction, into a standalone database (the sidecar's own
//! core tables, with CineVault's names and types). The sessions are the ingest API's
//! (`source = 'ingest'`): the standalone demo stands for a media server reporting through it.

use anyhow::Context;
use chrono::{DateTime, Utc};
use tokio_postgres::Transaction;
use uuid::Uuid;

use super::generate::DemoData;

fn col<T, U>(rows: &[T], f: impl Fn(&T) -> U) -> Vec<U> {
    rows.iter().map(f).collect()
}

pub async fn all(tx: &Transaction<'_>, d: &DemoData) -> anyhow::Result<()> {
    let l = &d.libraries;
    tx.execute(
        "INSERT INTO libraries (id, name, media_type, created_at)
         SELECT id, name, media_type::media_type, created_at
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::timestamp[])
           AS t(id, name, media_type, created_at)",
        &[
            &col(l, |x| x.id),
            &col(l, |x| x.name),
            &col(l, |x| x.media_type),
            &col(l, |x| x.created_at),
        ],
    )
    .await
    .context("inserting demo libraries")?;

    let u = &d.users;
    tx.execute(
        "INSERT INTO users (id, username, role, is_active, created_at)
         SELECT id, username, role::user_role, is_active, created_at
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::bool[], $5::timestamp[])
           AS t(id, username, role, is_active, created_at)",
        &[
            &col(u, |x| x.id),
            &col(u, |x| x.username.clone()),
            &col(u, |x| x.role),
            &col(u, |x| x.is_active),
            &col(u, |x| x.created_at),
        ],
    )
    .await
    .context("inserting demo users")?;

    let m = &d.media_items;
    tx.execute(
        "INSERT INTO media_items (id, library_id, title, media_type, year, description,
             poster_path, duration_seconds, codec, audio_codec, resolution, hdr_format,
             audio_format, container, file_path, file_size, added_at)
         SELECT id, library_id, title, media_type::media_type, year, description, poster_path,
             duration_seconds, codec, audio_codec, resolution, hdr_format, audio_format,
             container, file_path, file_size, added_at
         FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::int[], $6::text[],
             $7::text[], $8::int[], $9::text[], $10::text[], $11::text[], $12::text[],
             $13::text[], $14::text[], $15::text[], $16::int8[], $17::timestamp[])
           AS t(id, library_id, title, media_type, year, description, poster_path,
             duration_seconds, codec, audio_codec, resolution, hdr_format, audio_format,
             container, file_path, file_size, added_at)",
        &[
            &col(m, |x| x.id),
            &col(m, |x| x.library_id),
            &col(m, |x| x.title.clone()),
            &col(m, |x| x.media_type),
            &col(m, |x| x.year),
            &col(m, |x| x.description.clone()),
            &col(m, |x| x.poster_path.clone()),
            &col(m, |x| x.duration_seconds),
            &col(m, |x| x.codec),
            &col(m, |x| x.audio_codec),
            &col(m, |x| x.resolution),
            &col(m, |x| x.hdr_format),
            &col(m, |x| x.audio_format),
            &col(m, |x| x.container),
            &col(m, |x| x.file_path.clone()),
            &col(m, |x| x.file_size),
            &col(m, |x| x.added_at),
        ],
    )
    .await
    .context("inserting demo media items")?;

    // Genres as CineVault keeps them: one `tags` row per genre (category 'genre', slug
    // unique across all categories), linked to the items through `media_tags`.
    let mut genres: Vec<&str> = m.iter().flat_map(|x| x.genres.iter().copied()).collect();
    genres.sort_unstable();
    genres.dedup();
    let tag_ids: Vec<Uuid> = (0..genres.len())
        .map(|i| super::generate::demo_id("genre", i))
        .collect();
    tx.execute(
        "INSERT INTO tags (id, name, slug, category)
         SELECT id, name, slug, 'genre' FROM UNNEST($1::uuid[], $2::text[], $3::text[])
           AS t(id, name, slug)
         ON CONFLICT (slug) DO NOTHING",
        &[
            &tag_ids,
            &genres,
            &col(&genres, |g| super::generate::genre_slug(g)),
        ],
    )
    .await
    .context("inserting demo genres")?;
    let links: Vec<(Uuid, String)> = m
        .iter()
        .flat_map(|x| {
            x.genres
                .iter()
                .map(|g| (x.id, super::generate::genre_slug(g)))
        })
        .collect();
    tx.execute(
        "INSERT INTO media_tags (media_item_id, tag_id)
         SELECT DISTINCT l.item, t.id
         FROM UNNEST($1::uuid[], $2::text[]) AS l(item, slug)
         JOIN tags t ON t.slug = l.slug AND t.category = 'genre'
         ON CONFLICT (media_item_id, tag_id) DO NOTHING",
        &[&col(&links, |x| x.0), &col(&links, |x| x.1.clone())],
    )
    .await
    .context("linking demo genres")?;

    let s = &d.sessions;
    tx.execute(
        "INSERT INTO stream_sessions (id, user_id, media_item_id, playback_type, quality, codec,
             resolution, container, bytes_served, duration_seconds, client_info, started_at,
             ended_at, is_active, last_reported_at, source)
         SELECT t.*, COALESCE(t.ended_at, now()), 'ingest' FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[],
             $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int8[], $10::int[],
             $11::text[], $12::timestamptz[], $13::timestamptz[], $14::bool[])
           AS t(id, user_id, media_item_id, playback_type, quality, codec, resolution, container,
             bytes_served, duration_seconds, client_info, started_at, ended_at, is_active)",
        &[
            &col(s, |x| x.id),
            &col(s, |x| x.user_id),
            &col(s, |x| x.media_item_id),
            &col(s, |x| x.playback_type),
            &col(s, |x| x.quality),
            &col(s, |x| x.codec),
            &col(s, |x| x.resolution),
            &col(s, |x| x.container),
            &col(s, |x| x.bytes_served),
            &col(s, |x| x.duration_seconds),
            &col(s, |x| x.client_info),
            &col(s, |x| x.started_at),
            &col(s, |x| x.ended_at),
            &col(s, |x| x.is_active),
        ],
    )
    .await
    .context("inserting demo stream sessions")?;

    let t = &d.transcodes;
    tx.execute(
        "INSERT INTO transcode_history (id, media_item_id, user_id, input_codec, output_codec,
             input_resolution, output_resolution, hw_accel, quality, duration_seconds,
             file_size_bytes, success, error_message, started_at, completed_at)
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[],
             $6::text[], $7::text[], $8::text[], $9::text[], $10::int[], $11::int8[], $12::bool[],
             $13::text[], $14::timestamptz[], $15::timestamptz[])",
        &[
            &col(t, |x| x.id),
            &col(t, |x| x.media_item_id),
            &col(t, |x| x.user_id),
            &col(t, |x| x.input_codec),
            &col(t, |x| x.output_codec),
            &col(t, |x| x.input_resolution),
            &col(t, |x| x.output_resolution),
            &col(t, |x| x.hw_accel),
            &col(t, |x| x.quality),
            &col(t, |x| x.duration_seconds),
            &col(t, |x| x.file_size_bytes),
            &col(t, |x| x.success),
            &col(t, |x| x.error_message),
            &col(t, |x| x.started_at),
            &col(t, |x| x.completed_at),
        ],
    )
    .await
    .context("inserting demo transcodes")?;

    let e = &d.stream_errors;
    tx.execute(
        "INSERT INTO stream_errors (session_id, user_id, media_item_id, message, occurred_at)
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::timestamptz[])",
        &[
            &col(e, |x| x.session_id),
            &col(e, |x| x.user_id),
            &col(e, |x| x.media_item_id),
            &col(e, |x| x.message),
            &col(e, |x| x.occurred_at),
        ],
    )
    .await
    .context("inserting demo stream errors")?;

    let sm = &d.system_metrics;
    let recorded: Vec<DateTime<Utc>> = col(sm, |x| x.recorded_at);
    let ids: Vec<Uuid> = (0..sm.len()).map(|_| Uuid::new_v4()).collect();
    tx.execute(
        "INSERT INTO system_metrics (id, host, cpu_percent, memory_percent, memory_used_mb,
             gpu_encoder_percent, gpu_memory_percent, gpu_temp_celsius, disk_total_gb,
             disk_used_gb, disk_free_gb, active_streams, active_transcodes, recorded_at)
         SELECT t.id, $2, t.cpu, t.mem, t.mem_mb, t.enc, t.gmem, t.temp, t.dt, t.du, t.df, t.st, t.tc, t.at
         FROM UNNEST($1::uuid[], $3::real[], $4::real[], $5::int[], $6::real[], $7::real[],
             $8::real[], $9::real[], $10::real[], $11::real[], $12::int[], $13::int[],
             $14::timestamptz[])
           AS t(id, cpu, mem, mem_mb, enc, gmem, temp, dt, du, df, st, tc, at)",
        &[
            &ids,
            &d.host,
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
            &recorded,
        ],
    )
    .await
    .context("inserting demo system metrics")?;

    // No trigger keeps the per-user summaries (migration 030): rebuilt from the plays now.
    tx.execute("SELECT cv_rebuild_summaries()", &[])
        .await
        .context("rebuilding the per-user summaries")?;
    Ok(())
}
