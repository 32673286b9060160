-- A large CineVault for benchmarks (issue 5's "large server"): 2,000 users, 5 libraries,
-- 100,000 media items, :sessions stream sessions over three years, a tenth as many
-- transcodes, stream errors, and 30 days of per-minute system metrics.
-- Run by scripts/gen-dataset; deterministic for a given seed. Foreign keys are honoured by
-- construction, so their triggers are skipped for speed (session_replication_role).
\set ON_ERROR_STOP on
SELECT setseed(0.25);
SET session_replication_role = replica;
SET synchronous_commit = off;

INSERT INTO users (id, username, role, created_at)
SELECT md5('user' || g)::uuid, 'user' || g, CASE WHEN g = 1 THEN 'admin' ELSE 'user' END::user_role,
       now() - interval '4 years'
FROM generate_series(1, 2000) g;

INSERT INTO libraries (id, name, media_type, created_at)
SELECT md5('library' || g)::uuid, (ARRAY['Movies','TV Shows','4K Movies','Anime','Music'])[g],
       (ARRAY['movies','tv_shows','movies','tv_shows','music'])[g]::media_type,
       now() - interval '4 years'
FROM generate_series(1, 5) g;

-- Genres as CineVault keeps them: tags of category 'genre', linked through media_tags.
INSERT INTO tags (id, name, slug, category)
SELECT md5('genre' || name)::uuid, name, lower(name), 'genre'
FROM unnest(ARRAY['Action','Comedy','Drama','Horror','Documentary','Animation','Thriller',
                  'Romance','Crime','Family','Fantasy','Mystery']) AS name;

INSERT INTO media_items (id, library_id, title, media_type, year, description, poster_path,
    duration_seconds, codec, audio_codec, resolution, hdr_format, audio_format, container,
    file_path, file_size, added_at)
SELECT md5('media' || g)::uuid,
       md5('library' || (1 + g % 5))::uuid,
       'Title ' || g,
       CASE WHEN g % 5 IN (1, 3) THEN 'tv_shows' WHEN g % 5 = 4 THEN 'music'
            ELSE 'movies' END::media_type,
       1970 + g % 56,
       CASE WHEN random() < 0.94 THEN 'Overview of title ' || g END,
       CASE WHEN random() < 0.96 THEN '/posters/' || g || '.jpg' END,
       1200 + (g * 37) % 7200,
       (ARRAY['h264','hevc','av1','h264','hevc'])[1 + g % 5],
       (ARRAY['aac','ac3','eac3','truehd','dts'])[1 + g % 5],
       (ARRAY['1080p','720p','2160p','1080p','480p'])[1 + (g / 5) % 5],
       CASE WHEN g % 7 = 0 THEN 'HDR10' WHEN g % 11 = 0 THEN 'Dolby Vision' END,
       CASE WHEN g % 9 = 0 THEN 'Dolby Atmos' ELSE 'Dolby Digital 5.1' END,
       (ARRAY['mkv','mp4'])[1 + g % 2],
       '/media/' || g || '.mkv',
       500000000 + (g * 7919) % 40000000000,
       (now() - (interval '3 years') * random()) AT TIME ZONE 'UTC'
FROM generate_series(1, 100000) g;

INSERT INTO media_tags (media_item_id, tag_id)
SELECT md5('media' || g)::uuid, md5('genre' || name)::uuid
FROM generate_series(1, 100000) g
CROSS JOIN LATERAL unnest(ARRAY[
    (ARRAY['Action','Comedy','Drama','Horror','Documentary','Animation','Thriller','Romance'])[1 + g % 8],
    (ARRAY['Crime','Family','Fantasy','Mystery'])[1 + g % 4]]) AS name;

-- Sessions: spread over three years, evening-heavy, all three playback types.
INSERT INTO stream_sessions (id, user_id, media_item_id, playback_type, quality, codec,
    resolution, container, bytes_served, duration_seconds, client_info, started_at, ended_at,
    is_active, last_reported_at, source)
SELECT md5('session' || g)::uuid,
       md5('user' || (1 + (g * 7) % 2000))::uuid,
       md5('media' || (1 + (g * 13) % 100000))::uuid,
       (ARRAY['direct_play','direct_play','direct_stream','transcode'])[1 + g % 4],
       '1080p', 'h264', '1080p', 'mkv',
       (g % 5000) * 1000000::bigint,
       (g * 31) % 9000,
       'Client ' || (g % 8),
       t, t + ((g * 31) % 9000) * interval '1 second', false, t + ((g * 31) % 9000) * interval '1 second',
       'ingest'
FROM (SELECT g, now() - interval '3 years' * (g::float8 / :sessions) + interval '1 hour' * (random() - 0.5) AS t
      FROM generate_series(1, :sessions) g) s;

INSERT INTO transcode_history (id, media_item_id, user_id, input_codec, output_codec,
    input_resolution, output_resolution, hw_accel, quality, duration_seconds, file_size_bytes,
    success, error_message, started_at, completed_at)
SELECT md5('transcode' || g)::uuid,
       md5('media' || (1 + (g * 17) % 100000))::uuid,
       md5('user' || (1 + (g * 3) % 2000))::uuid,
       'hevc', 'h264', '2160p', '1080p',
       (ARRAY['h264_nvenc','h264_vaapi','h264_qsv',NULL])[1 + g % 4],
       '1080p', 60 + g % 3000, 100000000, g % 29 <> 0,
       CASE WHEN g % 29 = 0 THEN 'Conversion failed' END,
       t, t + interval '10 minutes'
FROM (SELECT g, now() - interval '3 years' * (g::float8 / (:sessions / 10)) AS t
      FROM generate_series(1, :sessions / 10) g) s;

INSERT INTO stream_errors (session_id, user_id, media_item_id, message, occurred_at)
SELECT md5('session' || g)::uuid, md5('user' || (1 + (g * 7) % 2000))::uuid,
       md5('media' || (1 + (g * 13) % 100000))::uuid, 'client disconnected',
       now() - interval '3 years' * (g::float8 / :sessions)
FROM generate_series(1, :sessions, 100) g;

INSERT INTO system_metrics (host, cpu_percent, memory_percent, memory_used_mb,
    gpu_encoder_percent, gpu_memory_percent, gpu_temp_celsius, disk_total_gb, disk_used_gb,
    disk_free_gb, active_streams, active_transcodes, recorded_at)
SELECT 'media1', 20 + 30 * random(), 40 + 10 * random(), 8000, 30 * random(), 20 * random(),
       45 + 20 * random(), 8000, 5000, 3000, (g % 7), (g % 3),
       now() - g * interval '1 minute'
FROM generate_series(1, 30 * 24 * 60) g;

SET session_replication_role = origin;
-- The per-user summaries are kept by the sidecar's own writers; rows written here directly
-- are taken in by a recompute, as the sidecar's daily one would.
DO $$ BEGIN PERFORM cv_rebuild_summaries(); END $$;
ANALYZE;
