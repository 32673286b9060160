-- Rollback of migration 025 (V25__server_analytics.sql). Run by hand:
--   psql "$DATABASE_URL" -f migrations/025_server_analytics.down.sql
-- Later migrations (026 onwards) build on these tables, so this file undoes them too, then removes the
-- migration records so that a later start applies both again. CineVault's own tables
-- (users, libraries, media_items) are never touched.
BEGIN;
-- Migration 030: its functions and summary tables.
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
DROP TABLE IF EXISTS stream_errors;
DROP TABLE IF EXISTS alert_rule_state;
DROP TABLE IF EXISTS alert_log;
DROP TABLE IF EXISTS alert_rules;
DROP TABLE IF EXISTS notification_channels;
DROP TABLE IF EXISTS daily_stats;
DROP TABLE IF EXISTS system_metrics;
DROP TABLE IF EXISTS transcode_history;
DROP TABLE IF EXISTS stream_sessions;
DELETE FROM refinery_schema_history WHERE version >= 25;
COMMIT;
