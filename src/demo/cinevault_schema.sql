-- CineVault's schema as it is after all 48 of its migrations ("latest"): the parts that
-- this sidecar and CineVault's own analytics and notification code touch.
--
-- This is our own recreation, written from shared/reference/cinevault-real.md and
-- checked against CineVault's migrations at commit b7e8cd7 (github
-- JustinTDCT/CineVault): a database built the way CineVault's docker/entrypoint.sh
-- builds one (every migrations/*.up.sql, 001..048, in name order through psql) and a
-- database built from this file have the same columns (name, type, length,
-- nullability, default), the same constraints (kind, columns, referenced table,
-- ON DELETE) and the same indexes on everything created here, apart from the columns
-- left out (listed below). It is plain SQL for one batch_execute on an empty database.
-- The state as of CineVault's migration 025 is in cinevault_schema_025.sql.
--
-- Which CineVault migrations each part corresponds to:
--   enums        user_role (001), media_type (001 + 002), tag_category (003 + 021 'mood'),
--                library_access (004)
--   users        001, 012 (pin_hash, display_name), 014 (first_name, last_name),
--                019 (max_content_rating, is_kids_profile, avatar_id), 020 (parent_user_id),
--                032 (totp_*, recovery_codes), 036 (max_simultaneous_streams,
--                max_bitrate_kbps, remote_quality_cap)
--   libraries    001, 004, 005, 017 (nfo_*, prefer_local_artwork), 028 (scan_interval,
--                next_scan_at, watch_enabled), 043 (create_previews, create_thumbnails),
--                044 (audio_normalization)
--   media_items  001, 006, 007, 009, 016, 017 (locked_fields), 018 (hdr_format,
--                dynamic_range), 024 (audio_format), 028 (parent_media_id, extra_type),
--                047 (play_count, last_played_at), 048 (editions_pending);
--                indexes 001, 007, 018, 024, 028, 038, 048
--   tags, media_tags  003
--   watch_history     002 (table), 021 (idx_watch_history_user_completed)
--   stream_sessions, transcode_history, system_metrics, daily_stats,
--   notification_channels, alert_rules, alert_log    025, as CineVault creates them;
--                nothing in 026..048 changes them except 037's
--                notification_channels.config (an ALTER TABLE, below)
--   user_sessions, user_notification_preferences     037
--
-- Left out on purpose (neither the sidecar nor CineVault's analytics read them, none is
-- NOT NULL without a default, so inserts are as realistic without them):
--   media_items: the 002 music/book/gallery/sister-group columns (track_number,
--     disc_number, chapter_number, artist_id, album_id, author_id, book_id,
--     image_gallery_id, sister_group_id, phash, audio_fingerprint) with their FKs and
--     indexes (047's idx_media_items_album_id/artist_id too), 008 imdb_rating/
--     rt_rating/audience_score, 011 content_rating, 017 tagline/original_language/
--     country/trailer_url/logo_path, 018 source_type/custom_notes/custom_tags,
--     021 keywords, 030 preview_path, 041 metacritic_score and the *_json columns,
--     042 sprite_path, 044 loudness_lufs/loudness_gain_db, 047 album_artist/
--     recording_mbid;
--   watch_history: edition_group_id (FK to edition_groups, which is not created here).
-- media_items.tv_show_id / tv_season_id have no FK in CineVault, so tv_shows and
-- tv_seasons are not needed here.

-- ── Enums ──
CREATE TYPE user_role AS ENUM ('admin', 'user', 'guest');

CREATE TYPE media_type AS ENUM (
    'movies', 'tv_shows', 'adult_movies', 'music', 'music_videos',
    'home_videos', 'other_videos', 'images', 'audiobooks'
);

CREATE TYPE tag_category AS ENUM ('genre', 'tag', 'custom', 'mood');

CREATE TYPE library_access AS ENUM ('everyone', 'select_users', 'admin_only');

-- ── Core tables (timestamps WITHOUT time zone, as in CineVault) ──
CREATE TABLE users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    username VARCHAR(255) UNIQUE NOT NULL,
    email VARCHAR(255) UNIQUE NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    role user_role NOT NULL DEFAULT 'user',
    is_active BOOLEAN DEFAULT true,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    pin_hash VARCHAR(255),
    display_name VARCHAR(255),
    first_name VARCHAR(255),
    last_name VARCHAR(255),
    max_content_rating VARCHAR(10) DEFAULT NULL,
    is_kids_profile BOOLEAN NOT NULL DEFAULT false,
    avatar_id VARCHAR(20) DEFAULT NULL,
    parent_user_id UUID DEFAULT NULL REFERENCES users(id) ON DELETE CASCADE,
    totp_secret TEXT,
    totp_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    recovery_codes JSONB,
    max_simultaneous_streams INT NOT NULL DEFAULT 0,
    max_bitrate_kbps INT NOT NULL DEFAULT 0,
    remote_quality_cap TEXT
);

CREATE INDEX idx_users_username ON users(username);
CREATE INDEX idx_users_parent ON users(parent_user_id);

CREATE TABLE libraries (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name VARCHAR(255) NOT NULL,
    media_type media_type NOT NULL,
    path TEXT NOT NULL,
    is_enabled BOOLEAN DEFAULT true,
    scan_on_startup BOOLEAN DEFAULT false,
    last_scan_at TIMESTAMP,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    season_grouping BOOLEAN NOT NULL DEFAULT false,
    access_level library_access NOT NULL DEFAULT 'everyone',
    include_in_homepage BOOLEAN NOT NULL DEFAULT true,
    include_in_search BOOLEAN NOT NULL DEFAULT true,
    retrieve_metadata BOOLEAN NOT NULL DEFAULT true,
    adult_content_type VARCHAR(10) DEFAULT NULL,
    nfo_import BOOLEAN NOT NULL DEFAULT false,
    nfo_export BOOLEAN NOT NULL DEFAULT false,
    prefer_local_artwork BOOLEAN NOT NULL DEFAULT true,
    scan_interval TEXT NOT NULL DEFAULT 'disabled',
    next_scan_at TIMESTAMPTZ,
    watch_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    create_previews BOOLEAN NOT NULL DEFAULT true,
    create_thumbnails BOOLEAN NOT NULL DEFAULT true,
    audio_normalization BOOLEAN NOT NULL DEFAULT false
);

CREATE INDEX idx_libraries_media_type ON libraries(media_type);

CREATE TABLE media_items (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    library_id UUID NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    media_type media_type NOT NULL,
    file_path TEXT NOT NULL UNIQUE,
    file_name VARCHAR(500) NOT NULL,
    file_size BIGINT NOT NULL,
    file_hash VARCHAR(64),
    title VARCHAR(500) NOT NULL,
    sort_title VARCHAR(500),
    original_title VARCHAR(500),
    description TEXT,
    year INTEGER,
    release_date DATE,
    duration_seconds INTEGER,
    rating DECIMAL(3,1),
    resolution VARCHAR(20),
    width INTEGER,
    height INTEGER,
    codec VARCHAR(50),
    container VARCHAR(20),
    bitrate BIGINT,
    framerate DECIMAL(6,3),
    audio_codec VARCHAR(50),
    audio_channels INTEGER,
    poster_path TEXT,
    thumbnail_path TEXT,
    backdrop_path TEXT,
    metadata JSONB,
    external_ids JSONB,
    tv_show_id UUID,
    tv_season_id UUID,
    episode_number INTEGER,
    sort_position INTEGER DEFAULT 0,
    added_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    last_scanned_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    metadata_locked BOOLEAN NOT NULL DEFAULT false,
    duplicate_status VARCHAR(20) NOT NULL DEFAULT 'none',
    edition_type VARCHAR(50) NOT NULL DEFAULT 'Theatrical',
    generated_poster BOOLEAN NOT NULL DEFAULT false,
    locked_fields TEXT[] NOT NULL DEFAULT '{}',
    hdr_format VARCHAR(100),
    dynamic_range VARCHAR(20) DEFAULT 'SDR',
    audio_format VARCHAR(100),
    parent_media_id UUID REFERENCES media_items(id) ON DELETE SET NULL,
    extra_type TEXT,
    play_count INTEGER DEFAULT 0,
    last_played_at TIMESTAMP,
    editions_pending BOOLEAN NOT NULL DEFAULT false
);

CREATE INDEX idx_media_items_library ON media_items(library_id);
CREATE INDEX idx_media_items_type ON media_items(media_type);
CREATE INDEX idx_media_items_title ON media_items(title);
CREATE INDEX idx_media_items_duplicate_status ON media_items(duplicate_status) WHERE duplicate_status != 'none';
CREATE INDEX idx_media_dynamic_range ON media_items (dynamic_range) WHERE dynamic_range != 'SDR';
CREATE INDEX idx_media_codec ON media_items (codec) WHERE codec IS NOT NULL AND codec != '';
CREATE INDEX idx_media_hdr_format ON media_items (hdr_format) WHERE hdr_format IS NOT NULL AND hdr_format != '';
CREATE INDEX idx_media_resolution ON media_items (resolution) WHERE resolution IS NOT NULL AND resolution != '';
CREATE INDEX idx_media_audio_codec ON media_items (audio_codec) WHERE audio_codec IS NOT NULL AND audio_codec != '';
CREATE INDEX idx_media_audio_format ON media_items (audio_format) WHERE audio_format IS NOT NULL AND audio_format != '';
CREATE INDEX idx_media_bitrate ON media_items (bitrate) WHERE bitrate IS NOT NULL;
CREATE INDEX idx_media_items_parent ON media_items(parent_media_id) WHERE parent_media_id IS NOT NULL;
CREATE INDEX idx_media_items_extra_type ON media_items(extra_type) WHERE extra_type IS NOT NULL;
CREATE INDEX idx_media_items_tv_season ON media_items(tv_season_id) WHERE tv_season_id IS NOT NULL;
CREATE INDEX idx_media_items_tv_show ON media_items(tv_show_id) WHERE tv_show_id IS NOT NULL;
CREATE INDEX idx_media_items_season_episode ON media_items(tv_season_id, episode_number) WHERE tv_season_id IS NOT NULL AND episode_number IS NOT NULL;
CREATE INDEX idx_media_items_editions_pending ON media_items (editions_pending) WHERE editions_pending = true;

-- Genres are tags with category 'genre'; slug is unique across all categories.
CREATE TABLE tags (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name VARCHAR(255) NOT NULL,
    slug VARCHAR(255) NOT NULL UNIQUE,
    parent_id UUID REFERENCES tags(id) ON DELETE SET NULL,
    category tag_category NOT NULL DEFAULT 'tag',
    description TEXT,
    sort_position INTEGER DEFAULT 0,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_tags_slug ON tags(slug);
CREATE INDEX idx_tags_parent ON tags(parent_id);
CREATE INDEX idx_tags_category ON tags(category);

CREATE TABLE media_tags (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    media_item_id UUID NOT NULL REFERENCES media_items(id) ON DELETE CASCADE,
    tag_id UUID NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    UNIQUE(media_item_id, tag_id)
);

CREATE INDEX idx_media_tags_media ON media_tags(media_item_id);
CREATE INDEX idx_media_tags_tag ON media_tags(tag_id);

-- One row per (user, item), overwritten on every progress report.
CREATE TABLE watch_history (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    media_item_id UUID NOT NULL REFERENCES media_items(id) ON DELETE CASCADE,
    progress_seconds INTEGER DEFAULT 0,
    duration_seconds INTEGER,
    completed BOOLEAN DEFAULT false,
    last_watched_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    UNIQUE(user_id, media_item_id)
);

CREATE INDEX idx_watch_history_user ON watch_history(user_id);
CREATE INDEX idx_watch_history_media ON watch_history(media_item_id);
CREATE INDEX idx_watch_history_last ON watch_history(last_watched_at);
CREATE INDEX idx_watch_history_user_completed ON watch_history(user_id, completed, last_watched_at DESC);

-- ── Migration 025: server analytics (timestamptz), exactly as CineVault creates them ──
CREATE TABLE stream_sessions (
    id               UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id          UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    media_item_id    UUID NOT NULL REFERENCES media_items(id) ON DELETE CASCADE,
    playback_type    VARCHAR(20) NOT NULL DEFAULT 'direct_play',
    quality          VARCHAR(20),
    codec            VARCHAR(50),
    resolution       VARCHAR(20),
    container        VARCHAR(20),
    bytes_served     BIGINT NOT NULL DEFAULT 0,
    duration_seconds INT NOT NULL DEFAULT 0,
    client_info      VARCHAR(255),
    started_at       TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    ended_at         TIMESTAMPTZ,
    is_active        BOOLEAN NOT NULL DEFAULT true
);

CREATE INDEX idx_stream_sessions_user ON stream_sessions(user_id);
CREATE INDEX idx_stream_sessions_media ON stream_sessions(media_item_id);
CREATE INDEX idx_stream_sessions_started ON stream_sessions(started_at);
CREATE INDEX idx_stream_sessions_active ON stream_sessions(is_active) WHERE is_active = true;

CREATE TABLE transcode_history (
    id                UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    media_item_id     UUID NOT NULL REFERENCES media_items(id) ON DELETE CASCADE,
    user_id           UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    input_codec       VARCHAR(50),
    output_codec      VARCHAR(50),
    input_resolution  VARCHAR(20),
    output_resolution VARCHAR(20),
    hw_accel          VARCHAR(50),
    quality           VARCHAR(20),
    duration_seconds  INT NOT NULL DEFAULT 0,
    file_size_bytes   BIGINT NOT NULL DEFAULT 0,
    success           BOOLEAN NOT NULL DEFAULT true,
    error_message     TEXT,
    started_at        TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    completed_at      TIMESTAMPTZ
);

CREATE INDEX idx_transcode_history_media ON transcode_history(media_item_id);
CREATE INDEX idx_transcode_history_user ON transcode_history(user_id);
CREATE INDEX idx_transcode_history_started ON transcode_history(started_at);
CREATE INDEX idx_transcode_history_success ON transcode_history(success);

CREATE TABLE system_metrics (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    cpu_percent         REAL NOT NULL DEFAULT 0,
    memory_percent      REAL NOT NULL DEFAULT 0,
    memory_used_mb      INT NOT NULL DEFAULT 0,
    gpu_encoder_percent REAL,
    gpu_memory_percent  REAL,
    gpu_temp_celsius    REAL,
    disk_total_gb       REAL NOT NULL DEFAULT 0,
    disk_used_gb        REAL NOT NULL DEFAULT 0,
    disk_free_gb        REAL NOT NULL DEFAULT 0,
    active_streams      INT NOT NULL DEFAULT 0,
    active_transcodes   INT NOT NULL DEFAULT 0,
    recorded_at         TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_system_metrics_recorded ON system_metrics(recorded_at);

CREATE TABLE daily_stats (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    stat_date           DATE NOT NULL UNIQUE,
    total_plays         INT NOT NULL DEFAULT 0,
    unique_users        INT NOT NULL DEFAULT 0,
    total_watch_minutes INT NOT NULL DEFAULT 0,
    total_bytes_served  BIGINT NOT NULL DEFAULT 0,
    transcodes          INT NOT NULL DEFAULT 0,
    direct_plays        INT NOT NULL DEFAULT 0,
    direct_streams      INT NOT NULL DEFAULT 0,
    transcode_failures  INT NOT NULL DEFAULT 0,
    new_media_added     INT NOT NULL DEFAULT 0,
    library_size_total  INT NOT NULL DEFAULT 0,
    storage_used_bytes  BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX idx_daily_stats_date ON daily_stats(stat_date);

CREATE TABLE notification_channels (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name         VARCHAR(100) NOT NULL,
    channel_type VARCHAR(20) NOT NULL,
    webhook_url  TEXT NOT NULL,
    is_enabled   BOOLEAN NOT NULL DEFAULT true,
    events       JSONB NOT NULL DEFAULT '["all"]',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE alert_rules (
    id                UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name              VARCHAR(100) NOT NULL,
    condition_type    VARCHAR(50) NOT NULL,
    threshold         REAL NOT NULL DEFAULT 0,
    cooldown_minutes  INT NOT NULL DEFAULT 60,
    channel_id        UUID NOT NULL REFERENCES notification_channels(id) ON DELETE CASCADE,
    is_enabled        BOOLEAN NOT NULL DEFAULT true,
    last_triggered_at TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_alert_rules_channel ON alert_rules(channel_id);
CREATE INDEX idx_alert_rules_enabled ON alert_rules(is_enabled) WHERE is_enabled = true;

CREATE TABLE alert_log (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    rule_id      UUID REFERENCES alert_rules(id) ON DELETE SET NULL,
    channel_id   UUID REFERENCES notification_channels(id) ON DELETE SET NULL,
    message      TEXT NOT NULL,
    success      BOOLEAN NOT NULL DEFAULT true,
    error_detail TEXT,
    sent_at      TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_alert_log_sent ON alert_log(sent_at);
CREATE INDEX idx_alert_log_rule ON alert_log(rule_id);

-- ── Migration 037: the only later change to the analytics tables (no Go code reads it) ──
ALTER TABLE notification_channels ADD COLUMN IF NOT EXISTS config JSONB DEFAULT '{}';

-- ── Migration 037: login sessions and per-user notification preferences ──
CREATE TABLE user_sessions (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    device_info TEXT,
    ip_address TEXT,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    last_used_at TIMESTAMPTZ DEFAULT NOW()
);

CREATE INDEX idx_user_sessions_user ON user_sessions(user_id);
CREATE INDEX idx_user_sessions_token ON user_sessions(token_hash);

CREATE TABLE user_notification_preferences (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    channel_id UUID REFERENCES notification_channels(id) ON DELETE CASCADE,
    enabled BOOLEAN DEFAULT TRUE,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    UNIQUE(user_id, event_type, channel_id)
);

CREATE INDEX idx_unp_user ON user_notification_preferences(user_id);
