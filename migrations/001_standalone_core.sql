-- Standalone databases only (never run on CineVault's database; src/db/schema decides).
-- The core tables the analytics read, with CineVault's own names and types (users.role,
-- media_type, file_size, duration_seconds, codec, description, added_at as timestamp
-- without time zone, genres as `tags` rows joined through `media_tags`), so one set of
-- queries serves both kinds of database. Only the columns the sidecar reads are created; the
-- media types default to 'movies', as the first release's did ('movies', 'movie').
-- Every object is created only where absent: a database made by an earlier release of the
-- sidecar already has users, libraries and media_items in their old shape, which the next
-- step (002) converts.
DO $$
BEGIN
    IF to_regtype('user_role') IS NULL THEN
        CREATE TYPE user_role AS ENUM ('admin', 'user', 'guest');
    END IF;
    IF to_regtype('media_type') IS NULL THEN
        CREATE TYPE media_type AS ENUM ('movies', 'tv_shows', 'adult_movies', 'music',
            'music_videos', 'home_videos', 'other_videos', 'images', 'audiobooks');
    END IF;
    IF to_regtype('tag_category') IS NULL THEN
        CREATE TYPE tag_category AS ENUM ('genre', 'tag', 'custom', 'mood');
    END IF;

    IF to_regclass('users') IS NULL THEN
        CREATE TABLE users (
            id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            username    VARCHAR(255) NOT NULL UNIQUE,
            role        user_role NOT NULL DEFAULT 'user',
            is_active   BOOLEAN DEFAULT true,
            created_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
        );
    END IF;

    IF to_regclass('libraries') IS NULL THEN
        CREATE TABLE libraries (
            id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            name        VARCHAR(255) NOT NULL,
            media_type  media_type NOT NULL DEFAULT 'movies',
            created_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
        );
    END IF;

    -- Unlike CineVault's, library_id and file_path may be empty: the ingest API accepts items
    -- outside any library and without a path.
    IF to_regclass('media_items') IS NULL THEN
        CREATE TABLE media_items (
            id                UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            library_id        UUID REFERENCES libraries(id) ON DELETE SET NULL,
            media_type        media_type NOT NULL DEFAULT 'movies',
            title             VARCHAR(500) NOT NULL,
            year              INTEGER,
            description       TEXT,
            poster_path       TEXT,
            duration_seconds  INTEGER,
            codec             VARCHAR(50),
            audio_codec       VARCHAR(50),
            resolution        VARCHAR(20),
            hdr_format        VARCHAR(100),
            audio_format      VARCHAR(100),
            container         VARCHAR(20),
            file_path         TEXT,
            file_size         BIGINT NOT NULL DEFAULT 0,
            added_at          TIMESTAMP DEFAULT CURRENT_TIMESTAMP
        );
        CREATE INDEX idx_media_items_library ON media_items(library_id);
        CREATE INDEX idx_media_items_added ON media_items(added_at);
    END IF;

    IF to_regclass('tags') IS NULL THEN
        CREATE TABLE tags (
            id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            name        VARCHAR(255) NOT NULL,
            slug        VARCHAR(255) NOT NULL UNIQUE,
            category    tag_category NOT NULL DEFAULT 'tag',
            created_at  TIMESTAMP DEFAULT CURRENT_TIMESTAMP
        );
    END IF;

    IF to_regclass('media_tags') IS NULL THEN
        CREATE TABLE media_tags (
            id             UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            media_item_id  UUID NOT NULL REFERENCES media_items(id) ON DELETE CASCADE,
            tag_id         UUID NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
            UNIQUE (media_item_id, tag_id)
        );
        CREATE INDEX idx_media_tags_tag ON media_tags(tag_id);
    END IF;

    -- CineVault's progress store (one row per user and item); the sidecar reads it for
    -- completion. Nothing writes it in a standalone database today.
    IF to_regclass('watch_history') IS NULL THEN
        CREATE TABLE watch_history (
            id                UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            user_id           UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            media_item_id     UUID NOT NULL REFERENCES media_items(id) ON DELETE CASCADE,
            progress_seconds  INTEGER DEFAULT 0,
            duration_seconds  INTEGER,
            completed         BOOLEAN DEFAULT false,
            last_watched_at   TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            UNIQUE (user_id, media_item_id)
        );
    END IF;
END
$$;
