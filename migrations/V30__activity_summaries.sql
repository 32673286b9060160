-- Per-user summaries for `users/activity` at scale (issue 5): plays, watch time, last
-- activity and plays per genre. Scanning 10 million sessions on every request takes seconds;
-- these tables hold the same figures, kept exact by statement-level triggers on
-- stream_sessions (the sidecar's own table; CineVault's tables get no trigger or index).
--
-- Triggers never update a summary row (two ingest transactions updating the same user's row
-- would wait on each other, or deadlock): they only append to the *_deltas tables. A worker
-- folds the deltas into the totals under an advisory lock (cv_fold_summaries()), and readers
-- add the deltas not yet folded, in one statement, so an answer always equals a full scan of
-- the committed rows. cv_rebuild_summaries() recomputes everything from the source tables (the
-- backfill below, and the nightly self-check after the rollup).
--
-- Plays per genre follow the item's current genres: a genre edit made through the ingest API
-- moves the item's plays at once (src/ingest/apply.rs); one made directly in CineVault's
-- tables, which the sidecar cannot see, is taken in by the daily recompute.
-- migrations/030_activity_summaries.down.sql removes all of this.

-- When a session was last seen: its last report while it plays, its end once it is over.
CREATE FUNCTION cv_session_last_active(is_active boolean, started_at timestamptz,
                                       ended_at timestamptz, last_reported_at timestamptz)
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN is_active THEN GREATEST(started_at, last_reported_at)
                ELSE GREATEST(started_at, ended_at) END
$$;

-- The genres a play counts for: each distinct non-blank entry of the item's genres.
CREATE FUNCTION cv_item_genres(genres text[])
RETURNS SETOF text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT DISTINCT g FROM unnest(genres) AS g WHERE btrim(g) <> ''
$$;

CREATE TABLE user_activity_totals (
    user_id       UUID PRIMARY KEY,
    plays         BIGINT NOT NULL,
    watch_seconds BIGINT NOT NULL,
    last_active   TIMESTAMPTZ
);

CREATE TABLE user_genre_plays (
    user_id UUID NOT NULL,
    genre   TEXT NOT NULL,
    plays   BIGINT NOT NULL,
    PRIMARY KEY (user_id, genre)
);

-- `recompute`: the user's last activity may have moved back (a session deleted, or an end
-- earlier than its last report), so the fold takes it from the sessions again.
CREATE TABLE user_activity_deltas (
    user_id       UUID NOT NULL,
    plays         BIGINT NOT NULL,
    watch_seconds BIGINT NOT NULL,
    last_active   TIMESTAMPTZ,
    recompute     BOOLEAN NOT NULL
);

CREATE TABLE user_genre_deltas (
    user_id UUID NOT NULL,
    genre   TEXT NOT NULL,
    plays   BIGINT NOT NULL
);

-- stream_sessions ---------------------------------------------------------------------------

CREATE FUNCTION cv_sessions_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_activity_deltas (user_id, plays, watch_seconds, last_active, recompute)
    SELECT user_id, count(*), sum(duration_seconds),
           max(cv_session_last_active(is_active, started_at, ended_at, last_reported_at)), false
    FROM new_rows GROUP BY user_id;
    INSERT INTO user_genre_deltas (user_id, genre, plays)
    SELECT n.user_id, g.genre, count(*)
    FROM new_rows n
    JOIN media_items m ON m.id = n.media_item_id
    CROSS JOIN LATERAL cv_item_genres(m.genres) AS g(genre)
    GROUP BY n.user_id, g.genre;
    RETURN NULL;
END
$$;

CREATE FUNCTION cv_sessions_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_activity_deltas (user_id, plays, watch_seconds, last_active, recompute)
    SELECT user_id, sum(plays), sum(secs), max(seen), bool_or(back)
    FROM (
        -- The same user: the change in watch time and the new last activity.
        SELECT n.user_id, 0 AS plays,
               n.duration_seconds::int8 - o.duration_seconds AS secs,
               cv_session_last_active(n.is_active, n.started_at, n.ended_at, n.last_reported_at)
                   AS seen,
               cv_session_last_active(n.is_active, n.started_at, n.ended_at, n.last_reported_at)
                   < cv_session_last_active(o.is_active, o.started_at, o.ended_at,
                                            o.last_reported_at) AS back
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE n.user_id = o.user_id
          AND (n.duration_seconds <> o.duration_seconds
               OR cv_session_last_active(n.is_active, n.started_at, n.ended_at, n.last_reported_at)
                  IS DISTINCT FROM
                  cv_session_last_active(o.is_active, o.started_at, o.ended_at, o.last_reported_at))
        UNION ALL
        -- A session moved to another user: it leaves the old one, joins the new one.
        SELECT o.user_id, -1, -o.duration_seconds::int8, NULL, true
        FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE n.user_id <> o.user_id
        UNION ALL
        SELECT n.user_id, 1, n.duration_seconds::int8,
               cv_session_last_active(n.is_active, n.started_at, n.ended_at, n.last_reported_at),
               false
        FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE n.user_id <> o.user_id
    ) d
    GROUP BY user_id;
    INSERT INTO user_genre_deltas (user_id, genre, plays)
    SELECT user_id, genre, sum(plays)
    FROM (
        SELECT o.user_id, g.genre, -1 AS plays
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        JOIN media_items m ON m.id = o.media_item_id
        CROSS JOIN LATERAL cv_item_genres(m.genres) AS g(genre)
        WHERE n.user_id <> o.user_id OR n.media_item_id <> o.media_item_id
        UNION ALL
        SELECT n.user_id, g.genre, 1
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        JOIN media_items m ON m.id = n.media_item_id
        CROSS JOIN LATERAL cv_item_genres(m.genres) AS g(genre)
        WHERE n.user_id <> o.user_id OR n.media_item_id <> o.media_item_id
    ) d
    GROUP BY user_id, genre
    HAVING sum(plays) <> 0;
    RETURN NULL;
END
$$;

CREATE FUNCTION cv_sessions_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_activity_deltas (user_id, plays, watch_seconds, last_active, recompute)
    SELECT user_id, -count(*), -sum(duration_seconds), NULL, true
    FROM old_rows GROUP BY user_id;
    INSERT INTO user_genre_deltas (user_id, genre, plays)
    SELECT o.user_id, g.genre, -count(*)
    FROM old_rows o
    JOIN media_items m ON m.id = o.media_item_id
    CROSS JOIN LATERAL cv_item_genres(m.genres) AS g(genre)
    GROUP BY o.user_id, g.genre;
    RETURN NULL;
END
$$;

CREATE FUNCTION cv_sessions_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM user_activity_deltas;
    DELETE FROM user_genre_deltas;
    DELETE FROM user_activity_totals;
    DELETE FROM user_genre_plays;
    RETURN NULL;
END
$$;

CREATE TRIGGER cv_sessions_summary_insert AFTER INSERT ON stream_sessions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cv_sessions_inserted();
CREATE TRIGGER cv_sessions_summary_update AFTER UPDATE ON stream_sessions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cv_sessions_updated();
CREATE TRIGGER cv_sessions_summary_delete AFTER DELETE ON stream_sessions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION cv_sessions_deleted();
CREATE TRIGGER cv_sessions_summary_truncate AFTER TRUNCATE ON stream_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION cv_sessions_truncated();

-- Folding and rebuilding ----------------------------------------------------------------------

-- Moves the deltas into the totals; the caller holds the summaries' advisory lock. Returns
-- the number of delta rows folded. Rows the statement's snapshot cannot see (transactions
-- still in flight) stay for the next fold, and so do their source rows, so nothing is lost
-- or counted twice.
CREATE FUNCTION cv_fold_summaries() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    folded bigint := 0;
    n bigint;
BEGIN
    WITH moved AS (
        DELETE FROM user_activity_deltas RETURNING *
    ), agg AS (
        SELECT user_id, sum(plays) AS plays, sum(watch_seconds) AS secs,
               max(last_active) AS seen, bool_or(recompute) AS back, count(*) AS n
        FROM moved GROUP BY user_id
    ), computed AS (
        SELECT a.user_id, a.plays, a.secs, a.n,
               CASE WHEN a.back THEN
                        (SELECT max(cv_session_last_active(s.is_active, s.started_at, s.ended_at,
                                                           s.last_reported_at))
                         FROM stream_sessions s WHERE s.user_id = a.user_id)
                    ELSE GREATEST(t.last_active, a.seen) END AS seen
        FROM agg a LEFT JOIN user_activity_totals t ON t.user_id = a.user_id
    ), upserted AS (
        INSERT INTO user_activity_totals AS t (user_id, plays, watch_seconds, last_active)
        SELECT user_id, plays, secs, seen FROM computed ORDER BY user_id
        ON CONFLICT (user_id) DO UPDATE
            SET plays = t.plays + EXCLUDED.plays,
                watch_seconds = t.watch_seconds + EXCLUDED.watch_seconds,
                last_active = EXCLUDED.last_active
    )
    SELECT COALESCE(sum(computed.n), 0) INTO n FROM computed;
    folded := folded + n;

    WITH moved AS (
        DELETE FROM user_genre_deltas RETURNING *
    ), agg AS (
        SELECT user_id, genre, sum(plays) AS plays, count(*) AS n
        FROM moved GROUP BY user_id, genre
    ), upserted AS (
        INSERT INTO user_genre_plays AS t (user_id, genre, plays)
        SELECT user_id, genre, plays FROM agg WHERE plays <> 0 ORDER BY user_id, genre
        ON CONFLICT (user_id, genre) DO UPDATE SET plays = t.plays + EXCLUDED.plays
    )
    SELECT COALESCE(sum(agg.n), 0) INTO n FROM agg;
    folded := folded + n;

    RETURN folded;
END
$$;

-- Recomputes every summary from the source tables. Run it in one REPEATABLE READ transaction
-- holding the summaries' advisory lock: deltas of transactions that commit after its snapshot
-- are kept, and their rows are not in the recomputed figures, so they are counted once.
CREATE FUNCTION cv_rebuild_summaries() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM user_activity_deltas;
    DELETE FROM user_genre_deltas;
    DELETE FROM user_activity_totals;
    DELETE FROM user_genre_plays;
    INSERT INTO user_activity_totals (user_id, plays, watch_seconds, last_active)
    SELECT user_id, count(*), sum(duration_seconds),
           max(cv_session_last_active(is_active, started_at, ended_at, last_reported_at))
    FROM stream_sessions GROUP BY user_id;
    INSERT INTO user_genre_plays (user_id, genre, plays)
    SELECT s.user_id, g.genre, count(*)
    FROM stream_sessions s
    JOIN media_items m ON m.id = s.media_item_id
    CROSS JOIN LATERAL cv_item_genres(m.genres) AS g(genre)
    GROUP BY s.user_id, g.genre;
END
$$;

SELECT cv_rebuild_summaries();
