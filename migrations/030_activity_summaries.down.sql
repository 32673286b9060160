-- Rollback of migration 030 (V30__activity_summaries.sql): its triggers on stream_sessions,
-- the summary tables and functions, and its migration record, so that a later start applies
-- it again. Run by hand:
--   psql "$DATABASE_URL" -f migrations/030_activity_summaries.down.sql
-- (025_server_analytics.down.sql does the same before removing the analytics tables.)
BEGIN;
DROP TRIGGER IF EXISTS cv_sessions_summary_insert ON stream_sessions;
DROP TRIGGER IF EXISTS cv_sessions_summary_update ON stream_sessions;
DROP TRIGGER IF EXISTS cv_sessions_summary_delete ON stream_sessions;
DROP TRIGGER IF EXISTS cv_sessions_summary_truncate ON stream_sessions;
DROP FUNCTION IF EXISTS cv_sessions_inserted(), cv_sessions_updated(), cv_sessions_deleted(),
    cv_sessions_truncated(), cv_fold_summaries(), cv_rebuild_summaries();
DROP TABLE IF EXISTS user_activity_totals, user_genre_plays, user_activity_deltas,
    user_genre_deltas;
DROP FUNCTION IF EXISTS cv_item_genres(text[]);
DROP FUNCTION IF EXISTS cv_session_last_active(boolean, timestamptz, timestamptz, timestamptz);
DELETE FROM refinery_schema_history WHERE version = 30;
COMMIT;
