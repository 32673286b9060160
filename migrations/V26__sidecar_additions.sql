-- What the sidecar adds to the spec's schema (decisions.md §3). Additions only.

-- Stream errors reported through the ingest API; the stream_error alert counts them.
CREATE TABLE stream_errors (
    id             UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id     UUID REFERENCES stream_sessions(id) ON DELETE SET NULL,
    user_id        UUID REFERENCES users(id),
    media_item_id  UUID REFERENCES media_items(id),
    message        TEXT NOT NULL,
    occurred_at    TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_stream_errors_occurred ON stream_errors(occurred_at);
CREATE INDEX idx_stream_errors_session ON stream_errors(session_id);

-- The stale-session reaper ends a session that has had no report for a while, with
-- ended_at set to its last report; the partial index keeps that scan to active rows.
ALTER TABLE stream_sessions
    ADD COLUMN last_reported_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP;
UPDATE stream_sessions SET last_reported_at = COALESCE(ended_at, started_at);
CREATE INDEX idx_stream_sessions_active_reported
    ON stream_sessions(last_reported_at) WHERE is_active = true;

-- A transcode is active until completed_at is set; the reaper closes old open ones.
CREATE INDEX idx_transcode_history_open
    ON transcode_history(started_at) WHERE completed_at IS NULL;

-- Several sidecars (one per media node) may share one database.
ALTER TABLE system_metrics ADD COLUMN host VARCHAR(255) NOT NULL DEFAULT '';
CREATE INDEX idx_system_metrics_host_recorded ON system_metrics(host, recorded_at);
