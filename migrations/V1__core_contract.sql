-- The core tables that the analytics read. They belong to CineVault: when the sidecar runs
-- against CineVault's own database they already exist and are left exactly as they are.
-- Only in a database of its own (standalone, demo, tests) does the sidecar create them,
-- with the columns decisions.md §1 names.
DO $$
BEGIN
    IF to_regclass('users') IS NULL THEN
        CREATE TABLE users (
            id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            username    VARCHAR(255) NOT NULL UNIQUE,
            is_admin    BOOLEAN NOT NULL DEFAULT false,
            created_at  TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
        );
    END IF;

    IF to_regclass('libraries') IS NULL THEN
        CREATE TABLE libraries (
            id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            name          VARCHAR(255) NOT NULL,
            library_type  VARCHAR(20) NOT NULL DEFAULT 'movies',
            created_at    TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
        );
    END IF;

    IF to_regclass('media_items') IS NULL THEN
        CREATE TABLE media_items (
            id               UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            library_id       UUID REFERENCES libraries(id) ON DELETE SET NULL,
            title            VARCHAR(500) NOT NULL,
            media_type       VARCHAR(20) NOT NULL DEFAULT 'movie',
            year             INT,
            overview         TEXT,
            poster_path      TEXT,
            genres           TEXT[] NOT NULL DEFAULT '{}',
            runtime_seconds  INT,
            video_codec      VARCHAR(50),
            audio_codec      VARCHAR(50),
            resolution       VARCHAR(20),
            hdr_format       VARCHAR(50),
            audio_format     VARCHAR(100),
            container        VARCHAR(20),
            file_path        TEXT,
            file_size_bytes  BIGINT NOT NULL DEFAULT 0,
            created_at       TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
        );
        CREATE INDEX idx_media_items_library ON media_items(library_id);
        CREATE INDEX idx_media_items_created ON media_items(created_at);
    END IF;
END
$$;
