-- Indexes for the analytics API (issue 5), on the sidecar's own tables only. (Numbered 29:
-- it was written beside 028 and landed after it.)

-- watch-activity filtered by user: the user's sessions newest first, in the keyset order
-- of the cursor, so a page reads just its rows instead of all the user's history.
CREATE INDEX idx_stream_sessions_user_started
    ON stream_sessions (user_id, started_at DESC, id DESC);

-- Range figures over days (overview's today and week, streams/breakdown, the rollup's day)
-- read only these columns: an index-only scan instead of a heap fetch per session.
CREATE INDEX idx_stream_sessions_started_cover
    ON stream_sessions (started_at)
    INCLUDE (user_id, playback_type, duration_seconds, bytes_served);
