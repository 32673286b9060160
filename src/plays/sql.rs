//! The plays worker's statements. `$gap` is the play gap in seconds throughout.

/// Closes CineVault's rows that it will never end itself: its HLS transcode rows (never
/// ended by any of its code) and a direct-play row left open by a CineVault that stopped
/// mid-request. A transcode row ends when CineVault's player reported its progress for that
/// user and item after the row began, within the span the viewing can have lasted (the
/// item's runtime plus `$stale` seconds: watch_history keeps only the latest report, which
/// may be a later viewing's), and has reported nothing since for `$stale` seconds: it ends at
/// that report, the time between being what was watched. Any row still open once the item's
/// runtime (`$unknown` seconds when the runtime is unknown) plus `$stale` seconds have passed
/// ends at its start plus the runtime, with no time watched known (0).
/// Rows CineVault's own statement holds are skipped and closed on the next pass.
pub const CLOSE_ROWS: &str = "\
UPDATE stream_sessions s SET is_active = false, ended_at = x.end_at, duration_seconds = x.secs
FROM (
    SELECT s.id,
           CASE WHEN reported THEN wh.at
                ELSE s.started_at + make_interval(secs => span) END AS end_at,
           CASE WHEN reported
                THEN LEAST(2147483647, EXTRACT(EPOCH FROM wh.at - s.started_at))::int
                ELSE 0 END AS secs
    FROM stream_sessions s
    JOIN media_items m ON m.id = s.media_item_id
    LEFT JOIN watch_history w ON w.user_id = s.user_id AND w.media_item_id = s.media_item_id
    CROSS JOIN LATERAL (SELECT w.last_watched_at AT TIME ZONE cv_db_zone() AS at) wh
    CROSS JOIN LATERAL (SELECT COALESCE(NULLIF(m.duration_seconds, 0)::float8, $2::float8) AS span) r
    CROSS JOIN LATERAL (
        SELECT s.playback_type = 'transcode' AND wh.at >= s.started_at
               AND wh.at <= s.started_at + make_interval(secs => span + $1)
               AND wh.at < now() - make_interval(secs => $1) AS reported
    ) c
    WHERE s.source = 'cinevault' AND s.is_active
      AND (reported OR now() > s.started_at + make_interval(secs => span + $1))
    FOR UPDATE OF s SKIP LOCKED
) x
WHERE s.id = x.id";

/// The (user, item) pairs whose plays may have changed since `$1` (all pairs with CineVault
/// rows when `$1` is null): CineVault rows started, ended or still open; plays still
/// active; watch_history written; the ingest API's sessions of the same user and item,
/// which take CineVault's rows they overlap.
pub const DIRTY_PAIRS: &str = "\
SELECT DISTINCT user_id, media_item_id FROM (
    SELECT user_id, media_item_id FROM stream_sessions
    WHERE source = 'cinevault'
      AND ($1::timestamptz IS NULL OR started_at >= $1::timestamptz OR ended_at >= $1::timestamptz OR is_active)
    UNION ALL
    SELECT user_id, media_item_id FROM cinevault_plays WHERE is_active OR $1::timestamptz IS NULL
    UNION ALL
    SELECT w.user_id, w.media_item_id FROM watch_history w
    WHERE $1::timestamptz IS NOT NULL AND w.last_watched_at >= ($1::timestamptz AT TIME ZONE cv_db_zone())
    UNION ALL
    SELECT i.user_id, i.media_item_id FROM stream_sessions i
    WHERE $1::timestamptz IS NOT NULL AND i.source <> 'cinevault'
      AND (i.is_active OR i.started_at >= $1::timestamptz)
      AND EXISTS (SELECT 1 FROM stream_sessions c
                  WHERE c.source = 'cinevault' AND c.media_item_id = i.media_item_id
                    AND c.user_id = i.user_id)
) d";

/// Key-share locks on the users `$1` and items `$2` that nobody is deleting (or otherwise
/// holding exclusively) now; returns the ids it locked. Inserting a play then needs no lock
/// it could wait for, and CineVault's delete of one of them waits for this pass instead.
pub const LOCK_PAIRS: &str = "\
WITH u AS (SELECT id FROM users WHERE id = ANY($1) FOR KEY SHARE SKIP LOCKED),
     m AS (SELECT id FROM media_items WHERE id = ANY($2) FOR KEY SHARE SKIP LOCKED)
SELECT COALESCE((SELECT array_agg(id) FROM u), '{}'::uuid[]),
       COALESCE((SELECT array_agg(id) FROM m), '{}'::uuid[])";

/// Regroups the plays of the pairs `($1[i], $2[i])` from CineVault's rows and writes only
/// the difference: plays that no longer exist are deleted, changed ones updated, new ones
/// inserted, and the users' summaries (migration 030) get the net change as deltas. Both the
/// old and the new plays are read from the statement's snapshot, so the deltas are exact.
///
/// A play: the rows of one user and item, in start order, where each row starts within
/// `$3` seconds of the end of the rows before it. A row's interval is its start plus its
/// `duration_seconds` (CineVault's request time; 0 when nothing is known of it), up to now
/// while it is open; the play's time watched is the union of its rows' intervals (parallel
/// range requests count once), its last activity the end of the latest interval, and its end
/// the latest of its rows' ends.
/// Its type is the heaviest of its rows' (transcode, then direct stream, then direct play).
/// Rows of the ingest API's own session of the same user and item, overlapping it within
/// the gap, are that session's and not a play of their own (never counted twice).
/// watch_history's position and flag belong to the play during which (or within the gap
/// after which) it was written.
pub const REGROUP: &str = "\
WITH pairs AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[]) AS p(user_id, media_item_id)
), r AS (
    SELECT s.id, s.user_id, s.media_item_id, s.playback_type, s.quality, s.codec,
           s.resolution, s.container, s.client_info, s.started_at, s.is_active,
           s.bytes_served,
           CASE WHEN s.is_active THEN GREATEST(now(), s.started_at)
                ELSE s.started_at + make_interval(secs => s.duration_seconds) END AS until,
           CASE WHEN NOT s.is_active
                THEN GREATEST(s.started_at, COALESCE(s.ended_at, s.started_at)) END AS ended
    FROM stream_sessions s
    JOIN pairs p ON p.user_id = s.user_id AND p.media_item_id = s.media_item_id
    WHERE s.source = 'cinevault'
      AND NOT EXISTS (
          SELECT 1 FROM stream_sessions i
          WHERE i.source <> 'cinevault' AND i.user_id = s.user_id
            AND i.media_item_id = s.media_item_id
            AND s.started_at >= i.started_at - make_interval(secs => $3)
            AND s.started_at <= cv_session_last_active(i.is_active, i.started_at, i.ended_at,
                                                       i.last_reported_at)
                                + make_interval(secs => $3))
), ordered AS (
    SELECT r.*,
           max(until) OVER (PARTITION BY user_id, media_item_id ORDER BY started_at, id
                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS seen_before
    FROM r
), grouped AS (
    SELECT o.*,
           sum(CASE WHEN seen_before IS NULL
                         OR started_at > seen_before + make_interval(secs => $3)
                    THEN 1 ELSE 0 END)
               OVER (PARTITION BY user_id, media_item_id ORDER BY started_at, id) AS grp
    FROM ordered o
), covered AS (
    SELECT g.*,
           max(until) OVER (PARTITION BY user_id, media_item_id, grp ORDER BY started_at, id
                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS until_before
    FROM grouped g
), new_raw AS (
    SELECT (array_agg(id ORDER BY started_at, id))[1] AS id, user_id, media_item_id,
           CASE WHEN bool_or(playback_type = 'transcode') THEN 'transcode'
                WHEN bool_or(playback_type = 'direct_stream') THEN 'direct_stream'
                ELSE 'direct_play' END AS playback_type,
           (array_agg(quality ORDER BY started_at, id) FILTER (WHERE quality IS NOT NULL))[1]
               AS quality,
           (array_agg(codec ORDER BY started_at, id) FILTER (WHERE codec IS NOT NULL))[1]
               AS codec,
           (array_agg(resolution ORDER BY started_at, id)
               FILTER (WHERE resolution IS NOT NULL))[1] AS resolution,
           (array_agg(container ORDER BY started_at, id)
               FILTER (WHERE container IS NOT NULL))[1] AS container,
           (array_agg(client_info ORDER BY started_at, id)
               FILTER (WHERE client_info IS NOT NULL))[1] AS client_info,
           min(started_at) AS started_at,
           bool_or(is_active) AS is_active,
           max(until) AS last_active,
           max(ended) AS ended,
           LEAST(2147483647, floor(COALESCE(sum(EXTRACT(EPOCH FROM
               GREATEST(until - GREATEST(started_at, COALESCE(until_before, started_at)),
                        interval '0')
           )), 0)))::int AS watch_seconds,
           COALESCE(sum(bytes_served), 0)::int8 AS bytes_served,
           count(*)::int AS request_rows
    FROM covered
    GROUP BY user_id, media_item_id, grp
), new AS (
    SELECT n.id, n.user_id, n.media_item_id, n.playback_type, n.quality, n.codec,
           n.resolution, n.container, n.client_info, n.started_at,
           CASE WHEN n.is_active THEN NULL ELSE n.ended END AS ended_at,
           n.is_active, n.last_active, n.watch_seconds, n.bytes_served, n.request_rows,
           CASE WHEN h.at IS NOT NULL THEN w.progress_seconds END AS position_seconds,
           CASE WHEN h.at IS NOT NULL THEN w.completed END AS history_completed,
           CASE WHEN n.watch_seconds > 0 OR n.is_active THEN 'requests' ELSE 'unknown' END
               AS duration_source
    FROM new_raw n
    LEFT JOIN watch_history w ON w.user_id = n.user_id AND w.media_item_id = n.media_item_id
    LEFT JOIN LATERAL (
        SELECT w.last_watched_at AT TIME ZONE cv_db_zone() AS at
        WHERE w.last_watched_at AT TIME ZONE cv_db_zone() >= n.started_at
          AND w.last_watched_at AT TIME ZONE cv_db_zone()
              <= n.last_active + make_interval(secs => $3)
    ) h ON true
), old AS (
    SELECT c.* FROM cinevault_plays c
    JOIN pairs p ON p.user_id = c.user_id AND p.media_item_id = c.media_item_id
), deleted AS (
    DELETE FROM cinevault_plays c USING old
    WHERE c.id = old.id AND old.id NOT IN (SELECT id FROM new)
    RETURNING c.id
), updated AS (
    UPDATE cinevault_plays c SET
        user_id = n.user_id, media_item_id = n.media_item_id, playback_type = n.playback_type,
        quality = n.quality, codec = n.codec, resolution = n.resolution,
        container = n.container, client_info = n.client_info, started_at = n.started_at,
        ended_at = n.ended_at, is_active = n.is_active, last_active = n.last_active,
        watch_seconds = n.watch_seconds, bytes_served = n.bytes_served,
        request_rows = n.request_rows, position_seconds = n.position_seconds,
        history_completed = n.history_completed, duration_source = n.duration_source
    FROM new n JOIN old o ON o.id = n.id
    WHERE c.id = n.id
      AND (o.user_id, o.media_item_id, o.playback_type, o.quality, o.codec, o.resolution,
           o.container, o.client_info, o.started_at, o.ended_at, o.is_active, o.last_active,
           o.watch_seconds, o.bytes_served, o.request_rows, o.position_seconds,
           o.history_completed, o.duration_source)
          IS DISTINCT FROM
          (n.user_id, n.media_item_id, n.playback_type, n.quality, n.codec, n.resolution,
           n.container, n.client_info, n.started_at, n.ended_at, n.is_active, n.last_active,
           n.watch_seconds, n.bytes_served, n.request_rows, n.position_seconds,
           n.history_completed, n.duration_source)
    RETURNING c.id
), inserted AS (
    INSERT INTO cinevault_plays (id, user_id, media_item_id, playback_type, quality, codec,
        resolution, container, client_info, started_at, ended_at, is_active, last_active,
        watch_seconds, bytes_served, request_rows, position_seconds, history_completed,
        duration_source)
    SELECT n.id, n.user_id, n.media_item_id, n.playback_type, n.quality, n.codec,
           n.resolution, n.container, n.client_info, n.started_at, n.ended_at, n.is_active,
           n.last_active, n.watch_seconds, n.bytes_served, n.request_rows, n.position_seconds,
           n.history_completed, n.duration_source
    FROM new n WHERE n.id NOT IN (SELECT id FROM old)
    RETURNING id
), per_user AS (
    SELECT user_id,
           sum(n) AS plays, sum(secs) AS secs,
           max(seen) FILTER (WHERE n > 0) AS seen_new,
           max(seen) FILTER (WHERE n < 0) AS seen_old
    FROM (SELECT user_id, 1 AS n, watch_seconds::int8 AS secs, last_active AS seen FROM new
          UNION ALL
          SELECT user_id, -1, -watch_seconds::int8, last_active FROM old) d
    GROUP BY user_id
), activity AS (
    INSERT INTO user_activity_deltas (user_id, plays, watch_seconds, last_active, recompute)
    SELECT user_id, plays, secs, seen_new, seen_new IS NULL OR COALESCE(seen_new < seen_old, false)
    FROM per_user
    WHERE plays <> 0 OR secs <> 0 OR seen_new IS DISTINCT FROM seen_old
), genres AS (
    INSERT INTO user_genre_deltas (user_id, genre, plays)
    SELECT d.user_id, g.genre, sum(d.n)
    FROM (SELECT user_id, media_item_id, 1 AS n FROM new
          UNION ALL
          SELECT user_id, media_item_id, -1 FROM old) d
    CROSS JOIN LATERAL cv_item_genres(d.media_item_id) AS g(genre)
    GROUP BY d.user_id, g.genre
    HAVING sum(d.n) <> 0
)
SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM updated),
       (SELECT count(*) FROM deleted)";
