-- Plays: what every count, duration and completion figure is about.
--
-- A session reported through the ingest API is one play. CineVault's own stream handlers
-- write one stream_sessions row per HTTP request for direct play (every range request and
-- seek is a row) and one never-ended row per HLS transcode; the sidecar's plays worker
-- (src/plays) groups the consecutive rows of one user and item into one play and keeps
-- them in cinevault_plays. The `plays` view is both, so one set of queries counts either.
-- No trigger or constraint touches CineVault's rows.

CREATE TABLE IF NOT EXISTS cinevault_plays (
    id                 UUID PRIMARY KEY,  -- the first request row's id
    user_id            UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    media_item_id      UUID NOT NULL REFERENCES media_items(id) ON DELETE CASCADE,
    playback_type      VARCHAR(20) NOT NULL,
    quality            VARCHAR(20),
    codec              VARCHAR(50),
    resolution         VARCHAR(20),
    container          VARCHAR(20),
    client_info        VARCHAR(255),
    started_at         TIMESTAMPTZ NOT NULL,
    ended_at           TIMESTAMPTZ,
    is_active          BOOLEAN NOT NULL,
    last_active        TIMESTAMPTZ NOT NULL,
    -- The union of the rows' request times (overlapping requests count once).
    watch_seconds      INT NOT NULL,
    bytes_served       BIGINT NOT NULL,
    request_rows       INT NOT NULL,
    -- CineVault's watch_history for the user and item, when it was written during the play:
    -- the player's position and its completed flag.
    position_seconds   INT,
    history_completed  BOOLEAN,
    -- 'requests' (request times) or 'unknown' (CineVault recorded only the start).
    duration_source    VARCHAR(20) NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_cinevault_plays_started ON cinevault_plays (started_at)
    INCLUDE (user_id, playback_type, watch_seconds, bytes_served);
CREATE INDEX IF NOT EXISTS idx_cinevault_plays_user_started
    ON cinevault_plays (user_id, started_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS idx_cinevault_plays_pair ON cinevault_plays (media_item_id, user_id);
CREATE INDEX IF NOT EXISTS idx_cinevault_plays_active ON cinevault_plays (is_active)
    WHERE is_active;

-- How far the plays worker has looked at CineVault's rows.
CREATE TABLE IF NOT EXISTS cinevault_plays_state (
    id          BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    scanned_to  TIMESTAMPTZ,
    rebuilt_at  TIMESTAMPTZ
);

-- The worker finds CineVault's rows that changed by their start and end times.
CREATE INDEX IF NOT EXISTS idx_stream_sessions_cinevault_ended
    ON stream_sessions (ended_at) WHERE source = 'cinevault';

-- The ingest API's sessions: range figures over days read only these columns (an index-only
-- scan), and watch-activity pages by user in keyset order. They replace the first release's
-- indexes of the same shape over every row. (The hot queries read the two sides of `plays`
-- themselves: src/analytics/plays.rs says why.)
DROP INDEX IF EXISTS idx_stream_sessions_started_cover;
DROP INDEX IF EXISTS idx_stream_sessions_user_started;
CREATE INDEX IF NOT EXISTS idx_stream_sessions_ingest_started ON stream_sessions (started_at)
    INCLUDE (user_id, playback_type, duration_seconds, bytes_served, source)
    WHERE source <> 'cinevault';
CREATE INDEX IF NOT EXISTS idx_stream_sessions_ingest_user_started
    ON stream_sessions (user_id, started_at DESC, id DESC) WHERE source <> 'cinevault';

-- The zone of the database's `timestamp without time zone` values (CineVault's added_at,
-- last_watched_at, created_at hold wall-clock time in its PostgreSQL server's zone): the
-- sidecar's connections carry it as a setting (--db-timezone); UTC when unset.
CREATE OR REPLACE FUNCTION cv_db_zone() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT COALESCE(NULLIF(current_setting('cinevault_analytics.db_timezone', true), ''), 'UTC')
$$;

-- When a session was last seen: its last report while it plays, its end once it is over.
CREATE OR REPLACE FUNCTION cv_session_last_active(is_active boolean, started_at timestamptz,
                                                  ended_at timestamptz, last_reported_at timestamptz)
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN is_active THEN GREATEST(started_at, last_reported_at)
                ELSE GREATEST(started_at, ended_at) END
$$;

CREATE OR REPLACE VIEW plays AS
SELECT s.id, s.source, s.user_id, s.media_item_id, s.playback_type, s.quality, s.codec,
       s.resolution, s.container, s.client_info, s.started_at, s.ended_at, s.is_active,
       cv_session_last_active(s.is_active, s.started_at, s.ended_at, s.last_reported_at)
           AS last_active,
       s.duration_seconds AS watch_seconds, s.bytes_served, 1 AS request_rows,
       NULL::int AS position_seconds, NULL::boolean AS history_completed,
       'reported'::varchar(20) AS duration_source
FROM stream_sessions s
WHERE s.source <> 'cinevault'
UNION ALL
SELECT p.id, 'cinevault'::varchar(20), p.user_id, p.media_item_id, p.playback_type, p.quality,
       p.codec, p.resolution, p.container, p.client_info, p.started_at, p.ended_at,
       p.is_active, p.last_active, p.watch_seconds, p.bytes_served, p.request_rows,
       p.position_seconds, p.history_completed, p.duration_source
FROM cinevault_plays p;

-- The sidecar's own copy of its daily figures. CineVault's rollup, which cannot be switched
-- off, overwrites daily_stats rows with its own (UTC-day, request-row) figures; the trends
-- endpoint reads this copy, and the sidecar writes it back into daily_stats when it notices.
CREATE TABLE IF NOT EXISTS sidecar_daily_stats (
    stat_date            DATE PRIMARY KEY,
    total_plays          INT NOT NULL,
    unique_users         INT NOT NULL,
    total_watch_minutes  INT NOT NULL,
    total_bytes_served   BIGINT NOT NULL,
    transcodes           INT NOT NULL,
    direct_plays         INT NOT NULL,
    direct_streams       INT NOT NULL,
    transcode_failures   INT NOT NULL,
    new_media_added      INT NOT NULL,
    library_size_total   INT NOT NULL,
    storage_used_bytes   BIGINT NOT NULL,
    computed_at          TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- In a database of the sidecar's own, the existing rows are its figures.
DO $$
BEGIN
    IF current_setting('cinevault_analytics.mode') = 'standalone' THEN
        INSERT INTO sidecar_daily_stats (stat_date, total_plays, unique_users,
            total_watch_minutes, total_bytes_served, transcodes, direct_plays, direct_streams,
            transcode_failures, new_media_added, library_size_total, storage_used_bytes)
        SELECT stat_date, total_plays, unique_users, total_watch_minutes, total_bytes_served,
               transcodes, direct_plays, direct_streams, transcode_failures, new_media_added,
               library_size_total, storage_used_bytes
        FROM daily_stats
        ON CONFLICT (stat_date) DO NOTHING;
    END IF;
END
$$;

-- The sidecar's own metric rows older than CineVault's 30-day purge, kept when its
-- --metrics-retention is longer (CineVault's collector deletes every row older than 30
-- days, whoever wrote it).
CREATE TABLE IF NOT EXISTS system_metrics_archive (
    id                   UUID PRIMARY KEY,
    host                 VARCHAR(255) NOT NULL,
    cpu_percent          REAL NOT NULL,
    memory_percent       REAL NOT NULL,
    memory_used_mb       INT NOT NULL,
    gpu_encoder_percent  REAL,
    gpu_memory_percent   REAL,
    gpu_temp_celsius     REAL,
    disk_total_gb        REAL NOT NULL,
    disk_used_gb         REAL NOT NULL,
    disk_free_gb         REAL NOT NULL,
    active_streams       INT NOT NULL,
    active_transcodes    INT NOT NULL,
    recorded_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_system_metrics_archive_host_recorded
    ON system_metrics_archive (host, recorded_at);

-- Every reading kept, wherever it is kept (Grafana's history dashboard reads this).
CREATE OR REPLACE VIEW system_metrics_history AS
SELECT id, host, cpu_percent, memory_percent, memory_used_mb, gpu_encoder_percent,
       gpu_memory_percent, gpu_temp_celsius, disk_total_gb, disk_used_gb, disk_free_gb,
       active_streams, active_transcodes, recorded_at
FROM system_metrics
UNION ALL
SELECT id, host, cpu_percent, memory_percent, memory_used_mb, gpu_encoder_percent,
       gpu_memory_percent, gpu_temp_celsius, disk_total_gb, disk_used_gb, disk_free_gb,
       active_streams, active_transcodes, recorded_at
FROM system_metrics_archive;
