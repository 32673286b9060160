-- Rollback of migration 025 on a database of the sidecar's own (standalone) ONLY: removes
-- the seven analytics tables with their rows and everything the sidecar added, and keeps
-- the core tables (users, libraries, media_items, tags, media_tags, watch_history). On
-- CineVault's database the seven tables are CineVault's: this file refuses to run there
-- (use sidecar_additions.down.sql). A later start creates everything again. Run by hand:
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f migrations/rollback/025_server_analytics.down.sql
BEGIN;
DO $$
BEGIN
    IF to_regclass('analytics_database') IS NULL
       OR NOT EXISTS (SELECT 1 FROM analytics_database WHERE mode = 'standalone') THEN
        RAISE EXCEPTION 'not a standalone database of the sidecar: its analytics tables may be CineVault''s; nothing was removed';
    END IF;
END
$$;
DROP VIEW IF EXISTS plays, system_metrics_history;
DROP TABLE IF EXISTS cinevault_plays, cinevault_plays_state, sidecar_daily_stats,
    system_metrics_archive, user_activity_totals, user_genre_plays, user_activity_deltas,
    user_genre_deltas, stream_errors, alert_rule_state;
DROP FUNCTION IF EXISTS cv_fold_summaries(), cv_rebuild_summaries(), cv_item_genres(uuid),
    cv_session_last_active(boolean, timestamptz, timestamptz, timestamptz);
DROP TABLE IF EXISTS alert_log, alert_rules, notification_channels, daily_stats,
    system_metrics, transcode_history, stream_sessions;
DELETE FROM analytics_schema_history WHERE version >= 25;
COMMIT;
