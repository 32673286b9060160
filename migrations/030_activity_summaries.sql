-- Per-user summaries for `users/activity` at scale: plays, watch time, last activity and
-- plays per genre. Scanning ten million plays on every request takes seconds; these tables
-- hold the same figures.
--
-- No trigger keeps them: a trigger on stream_sessions would run inside CineVault's own
-- INSERTs and could make them fail (the first release's did: it read a genres column
-- CineVault does not have). The sidecar's own writers append deltas in the statement that
-- changes a play (the ingest API: src/ingest/apply.rs; the plays worker: src/plays), never
-- updating a shared row, so concurrent writers never wait on each other. A worker folds the
-- deltas into the totals under an advisory lock (cv_fold_summaries()), and readers add the
-- deltas not yet folded, in one statement. cv_rebuild_summaries() recomputes everything
-- from the plays (at migration time, daily, and whenever the totals stop adding up, e.g.
-- after CineVault deleted a media item with its sessions).
--
-- Genres are CineVault's: `tags` with category 'genre', linked through `media_tags`.
-- Plays per genre follow the item's current genres; a genre changed in CineVault's tables
-- is taken in by the recompute.
-- migrations/rollback/sidecar_additions.down.sql removes all of this.

-- The genres a play counts for: each distinct non-blank genre name of the item.
CREATE OR REPLACE FUNCTION cv_item_genres(item uuid)
RETURNS SETOF text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT DISTINCT btrim(t.name::text)
    FROM media_tags mt JOIN tags t ON t.id = mt.tag_id
    WHERE mt.media_item_id = item AND t.category = 'genre' AND btrim(t.name::text) <> ''
$$;

-- CineVault's tag slug: the name in lower case, spaces as dashes (its handlers_metadata.go).
CREATE OR REPLACE FUNCTION cv_tag_slug(name text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lower(regexp_replace(btrim(name), '\s+', '-', 'g'))
$$;

CREATE TABLE IF NOT EXISTS user_activity_totals (
    user_id       UUID PRIMARY KEY,
    plays         BIGINT NOT NULL,
    watch_seconds BIGINT NOT NULL,
    last_active   TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS user_genre_plays (
    user_id UUID NOT NULL,
    genre   TEXT NOT NULL,
    plays   BIGINT NOT NULL,
    PRIMARY KEY (user_id, genre)
);

-- `recompute`: the user's last activity may have moved back (a play removed, or an end
-- earlier than its last report), so the fold takes it from the plays again.
CREATE TABLE IF NOT EXISTS user_activity_deltas (
    user_id       UUID NOT NULL,
    plays         BIGINT NOT NULL,
    watch_seconds BIGINT NOT NULL,
    last_active   TIMESTAMPTZ,
    recompute     BOOLEAN NOT NULL
);

CREATE TABLE IF NOT EXISTS user_genre_deltas (
    user_id UUID NOT NULL,
    genre   TEXT NOT NULL,
    plays   BIGINT NOT NULL
);

-- Moves the deltas into the totals; the caller holds the summaries' advisory lock. Returns
-- the number of delta rows folded. Rows the statement's snapshot cannot see (transactions
-- still in flight) stay for the next fold, and so do their source rows, so nothing is lost
-- or counted twice.
CREATE OR REPLACE FUNCTION cv_fold_summaries() RETURNS bigint LANGUAGE plpgsql AS $$
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
                        (SELECT max(p.last_active) FROM plays p WHERE p.user_id = a.user_id)
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

-- Recomputes every summary from the plays. Run it in one REPEATABLE READ transaction
-- holding the summaries' advisory lock: deltas of transactions that commit after its snapshot
-- are kept, and their plays are not in the recomputed figures, so they are counted once.
CREATE OR REPLACE FUNCTION cv_rebuild_summaries() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM user_activity_deltas;
    DELETE FROM user_genre_deltas;
    DELETE FROM user_activity_totals;
    DELETE FROM user_genre_plays;
    INSERT INTO user_activity_totals (user_id, plays, watch_seconds, last_active)
    SELECT user_id, count(*), sum(watch_seconds), max(last_active)
    FROM plays GROUP BY user_id;
    INSERT INTO user_genre_plays (user_id, genre, plays)
    SELECT up.user_id, g.genre, sum(up.n)
    FROM (SELECT user_id, media_item_id, count(*) AS n FROM plays GROUP BY 1, 2) up
    JOIN (SELECT DISTINCT mt.media_item_id, btrim(t.name::text) AS genre
          FROM media_tags mt JOIN tags t ON t.id = mt.tag_id
          WHERE t.category = 'genre' AND btrim(t.name::text) <> '') g
      ON g.media_item_id = up.media_item_id
    GROUP BY up.user_id, g.genre;
END
$$;

SELECT cv_rebuild_summaries();
