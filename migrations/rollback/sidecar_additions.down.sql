-- Removes everything the sidecar added to a database, and nothing of CineVault's: its own
-- tables, views and functions, the columns and indexes it added to the seven analytics
-- tables (which stay, with their rows: on CineVault's database they are CineVault's), and
-- its schema records, so that a later start sets the sidecar up again from the beginning.
-- Safe on CineVault's database while CineVault runs (its statements never name what goes).
-- Run by hand:
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f migrations/rollback/sidecar_additions.down.sql
BEGIN;
DROP VIEW IF EXISTS plays, system_metrics_history;
DROP TABLE IF EXISTS cinevault_plays, cinevault_plays_state, sidecar_daily_stats,
    system_metrics_archive, user_activity_totals, user_genre_plays, user_activity_deltas,
    user_genre_deltas, stream_errors, alert_rule_state, analytics_schema_history,
    analytics_schema_changes, analytics_database;
-- The first release's summary triggers, if a database still has them.
DROP TRIGGER IF EXISTS cv_sessions_summary_insert ON stream_sessions;
DROP TRIGGER IF EXISTS cv_sessions_summary_update ON stream_sessions;
DROP TRIGGER IF EXISTS cv_sessions_summary_delete ON stream_sessions;
DROP TRIGGER IF EXISTS cv_sessions_summary_truncate ON stream_sessions;
DROP FUNCTION IF EXISTS cv_sessions_inserted(), cv_sessions_updated(), cv_sessions_deleted(),
    cv_sessions_truncated(), cv_fold_summaries(), cv_rebuild_summaries(), cv_db_zone(),
    cv_item_genres(uuid), cv_item_genres(text[]), cv_tag_slug(text),
    cv_session_last_active(boolean, timestamptz, timestamptz, timestamptz);
DROP INDEX IF EXISTS idx_stream_sessions_active_reported, idx_transcode_history_open,
    idx_system_metrics_host_recorded, idx_alert_log_channel, idx_stream_sessions_cinevault_ended,
    idx_stream_sessions_ingest_started, idx_stream_sessions_ingest_user_started,
    idx_stream_sessions_started_cover, idx_stream_sessions_user_started;
ALTER TABLE stream_sessions DROP COLUMN IF EXISTS last_reported_at,
    DROP COLUMN IF EXISTS source;
ALTER TABLE system_metrics DROP COLUMN IF EXISTS host;
ALTER TABLE notification_channels DROP COLUMN IF EXISTS signing_secret;
ALTER TABLE alert_rules DROP COLUMN IF EXISTS send_resolved;
ALTER TABLE alert_log DROP COLUMN IF EXISTS kind, DROP COLUMN IF EXISTS host,
    DROP COLUMN IF EXISTS http_status, DROP COLUMN IF EXISTS attempts,
    DROP COLUMN IF EXISTS sent_by;
COMMIT;
