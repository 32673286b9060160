-- What the sidecar adds to the spec's schema. Additions only, and only what CineVault's own
-- statements cannot trip over: every added column of a table CineVault writes is nullable
-- or has a default (its INSERTs name their columns), no trigger, no constraint on its rows.

-- Stream errors reported through the ingest API; the stream_error alert counts them. An
-- error outlives the user, item or session it was about (a CineVault delete nulls them).
CREATE TABLE IF NOT EXISTS stream_errors (
    id             UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id     UUID REFERENCES stream_sessions(id) ON DELETE SET NULL,
    user_id        UUID REFERENCES users(id) ON DELETE SET NULL,
    media_item_id  UUID REFERENCES media_items(id) ON DELETE SET NULL,
    message        TEXT NOT NULL,
    occurred_at    TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS idx_stream_errors_occurred ON stream_errors(occurred_at);
CREATE INDEX IF NOT EXISTS idx_stream_errors_session ON stream_errors(session_id);

DO $$
DECLARE
    k record;
    standalone boolean := current_setting('cinevault_analytics.mode') = 'standalone';
BEGIN
    -- The first release's stream_errors keys to users and media items had no rule.
    FOR k IN
        SELECT c.conname, a.attname AS col, c.confrelid::regclass AS ref
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.contype = 'f' AND c.confdeltype = 'a' AND c.conrelid = 'stream_errors'::regclass
          AND a.attname IN ('user_id', 'media_item_id')
    LOOP
        EXECUTE format('ALTER TABLE stream_errors DROP CONSTRAINT %I', k.conname);
        EXECUTE format('ALTER TABLE stream_errors ADD CONSTRAINT %I FOREIGN KEY (%I)
                            REFERENCES %s(id) ON DELETE SET NULL', k.conname, k.col, k.ref);
    END LOOP;

    -- Who wrote a session: 'cinevault' (CineVault's own stream handlers, whose INSERT does
    -- not name the column) or 'ingest' (the ingest API, which always names it). CineVault's
    -- rows are one per HTTP request and are grouped into plays by the sidecar
    -- (cinevault_plays, migration 029). In a database of the sidecar's own no CineVault
    -- writes: there every row, earlier ones included, is a session as reported.
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()
                   AND table_name = 'stream_sessions' AND column_name = 'source') THEN
        IF standalone THEN
            ALTER TABLE stream_sessions ADD COLUMN source VARCHAR(20) NOT NULL DEFAULT 'ingest';
        ELSE
            ALTER TABLE stream_sessions ADD COLUMN source VARCHAR(20) NOT NULL
                DEFAULT 'cinevault';
        END IF;
    END IF;

    -- The stale-session reaper ends a session that has had no report for a while, with
    -- ended_at set to its last report.
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()
                   AND table_name = 'stream_sessions' AND column_name = 'last_reported_at') THEN
        ALTER TABLE stream_sessions
            ADD COLUMN last_reported_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP;
        UPDATE stream_sessions SET last_reported_at = COALESCE(ended_at, started_at);
    END IF;
END
$$;

CREATE INDEX IF NOT EXISTS idx_stream_sessions_active_reported
    ON stream_sessions(last_reported_at) WHERE is_active = true;

-- A transcode is active until completed_at is set; the reaper closes old open ones.
CREATE INDEX IF NOT EXISTS idx_transcode_history_open
    ON transcode_history(started_at) WHERE completed_at IS NULL;

-- Several sidecars (one per media node) may share one database. CineVault's own collector
-- writes rows with the default '' (its INSERT does not name the column).
ALTER TABLE system_metrics ADD COLUMN IF NOT EXISTS host VARCHAR(255) NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS idx_system_metrics_host_recorded ON system_metrics(host, recorded_at);
