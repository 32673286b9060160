-- Standalone databases only. Moves a database made by the sidecar's first release (core
-- tables with is_admin, library_type, overview, runtime_seconds, video_codec,
-- file_size_bytes, created_at and genres TEXT[]) onto CineVault's names and types, keeping
-- every row: columns are renamed or converted in place, genres become `tags` rows
-- (category 'genre') linked through `media_tags`. Timestamps become `timestamp without
-- time zone` wall-clock values in the configured database zone (--db-timezone).
-- Nothing happens on a database that does not have the old shape.
DO $$
DECLARE
    zone text := current_setting('cinevault_analytics.db_timezone');
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_schema = current_schema() AND table_name = 'users'
                     AND column_name = 'is_admin') THEN
        RETURN;
    END IF;

    -- The old activity summaries' triggers read media_items.genres, which goes below;
    -- migration 030 keeps the summaries without any trigger.
    DROP TRIGGER IF EXISTS cv_sessions_summary_insert ON stream_sessions;
    DROP TRIGGER IF EXISTS cv_sessions_summary_update ON stream_sessions;
    DROP TRIGGER IF EXISTS cv_sessions_summary_delete ON stream_sessions;
    DROP TRIGGER IF EXISTS cv_sessions_summary_truncate ON stream_sessions;
    DROP FUNCTION IF EXISTS cv_sessions_inserted(), cv_sessions_updated(), cv_sessions_deleted(),
        cv_sessions_truncated(), cv_rebuild_summaries();
    DROP FUNCTION IF EXISTS cv_item_genres(text[]);

    -- users: is_admin becomes the role.
    ALTER TABLE users ADD COLUMN role user_role NOT NULL DEFAULT 'user';
    UPDATE users SET role = 'admin' WHERE is_admin;
    ALTER TABLE users DROP COLUMN is_admin;
    ALTER TABLE users ADD COLUMN IF NOT EXISTS is_active BOOLEAN DEFAULT true;
    EXECUTE format('ALTER TABLE users ALTER COLUMN created_at DROP DEFAULT,
                        ALTER COLUMN created_at TYPE timestamp USING created_at AT TIME ZONE %L,
                        ALTER COLUMN created_at SET DEFAULT CURRENT_TIMESTAMP', zone);

    -- libraries: library_type becomes media_type.
    ALTER TABLE libraries ADD COLUMN media_type media_type;
    UPDATE libraries SET media_type = CASE lower(btrim(library_type))
        WHEN 'movies' THEN 'movies' WHEN 'shows' THEN 'tv_shows' WHEN 'music' THEN 'music'
        ELSE 'other_videos' END::media_type;
    ALTER TABLE libraries ALTER COLUMN media_type SET NOT NULL;
    ALTER TABLE libraries ALTER COLUMN media_type SET DEFAULT 'movies';
    ALTER TABLE libraries DROP COLUMN library_type;
    EXECUTE format('ALTER TABLE libraries ALTER COLUMN created_at DROP DEFAULT,
                        ALTER COLUMN created_at TYPE timestamp USING created_at AT TIME ZONE %L,
                        ALTER COLUMN created_at SET DEFAULT CURRENT_TIMESTAMP', zone);

    -- media_items: CineVault's column names, its media_type enum, added_at.
    ALTER TABLE media_items RENAME COLUMN overview TO description;
    ALTER TABLE media_items RENAME COLUMN runtime_seconds TO duration_seconds;
    ALTER TABLE media_items RENAME COLUMN video_codec TO codec;
    ALTER TABLE media_items RENAME COLUMN file_size_bytes TO file_size;
    ALTER TABLE media_items RENAME COLUMN created_at TO added_at;
    ALTER TABLE media_items ALTER COLUMN hdr_format TYPE VARCHAR(100);
    ALTER TABLE media_items ALTER COLUMN media_type DROP DEFAULT;
    ALTER TABLE media_items ALTER COLUMN media_type TYPE media_type USING (
        CASE regexp_replace(lower(btrim(media_type)), '[\s-]+', '_', 'g')
            WHEN 'movie' THEN 'movies' WHEN 'movies' THEN 'movies' WHEN 'film' THEN 'movies'
            WHEN 'episode' THEN 'tv_shows' WHEN 'episodes' THEN 'tv_shows'
            WHEN 'show' THEN 'tv_shows' WHEN 'shows' THEN 'tv_shows'
            WHEN 'series' THEN 'tv_shows' WHEN 'tv' THEN 'tv_shows'
            WHEN 'tv_show' THEN 'tv_shows' WHEN 'tv_shows' THEN 'tv_shows'
            WHEN 'track' THEN 'music' WHEN 'song' THEN 'music' WHEN 'album' THEN 'music'
            WHEN 'audio' THEN 'music' WHEN 'music' THEN 'music'
            WHEN 'music_video' THEN 'music_videos' WHEN 'music_videos' THEN 'music_videos'
            WHEN 'audiobook' THEN 'audiobooks' WHEN 'audiobooks' THEN 'audiobooks'
            WHEN 'image' THEN 'images' WHEN 'images' THEN 'images' WHEN 'photo' THEN 'images'
            WHEN 'home_video' THEN 'home_videos' WHEN 'home_videos' THEN 'home_videos'
            WHEN 'adult' THEN 'adult_movies' WHEN 'adult_movie' THEN 'adult_movies'
            WHEN 'adult_movies' THEN 'adult_movies'
            ELSE 'other_videos' END)::media_type;
    ALTER TABLE media_items ALTER COLUMN media_type SET DEFAULT 'movies';
    -- CineVault's added_at (and 001's) may be NULL; the first release's created_at was NOT NULL.
    EXECUTE format('ALTER TABLE media_items ALTER COLUMN added_at DROP DEFAULT,
                        ALTER COLUMN added_at TYPE timestamp USING added_at AT TIME ZONE %L,
                        ALTER COLUMN added_at SET DEFAULT CURRENT_TIMESTAMP,
                        ALTER COLUMN added_at DROP NOT NULL', zone);
    ALTER INDEX IF EXISTS idx_media_items_created RENAME TO idx_media_items_added;

    -- Genres: one tag per distinct name (CineVault's slug: lower case, spaces as dashes).
    INSERT INTO tags (name, slug, category)
    SELECT DISTINCT ON (slug) name, slug, 'genre'
    FROM (SELECT btrim(g) AS name,
                 lower(regexp_replace(btrim(g), '\s+', '-', 'g')) AS slug
          FROM media_items m CROSS JOIN LATERAL unnest(m.genres) AS g
          WHERE btrim(g) <> '') named
    ORDER BY slug, name
    ON CONFLICT (slug) DO NOTHING;
    INSERT INTO media_tags (media_item_id, tag_id)
    SELECT DISTINCT m.id, t.id
    FROM media_items m CROSS JOIN LATERAL unnest(m.genres) AS g
    JOIN tags t ON t.slug = lower(regexp_replace(btrim(g), '\s+', '-', 'g'))
    WHERE btrim(g) <> ''
    ON CONFLICT (media_item_id, tag_id) DO NOTHING;
    ALTER TABLE media_items DROP COLUMN genres;
END
$$;
