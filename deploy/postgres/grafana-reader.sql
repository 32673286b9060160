-- A read-only PostgreSQL role for Grafana's history dashboard. Run it in the sidecar's
-- database after the sidecar has applied its migrations (the tables must exist), as their
-- owner or a superuser; running it again only resets the password:
--
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -v password='a-long-random-password' \
--        -f deploy/postgres/grafana-reader.sql
--
-- The role is cinevault_grafana unless -v role=another_name says otherwise.
-- Grafana runs whatever SQL a dashboard editor types, so the role reads only the tables the
-- dashboard needs, and never the webhook URLs or signing secrets of notification_channels.

\if :{?role}
\else
\set role cinevault_grafana
\endif

SELECT format('CREATE ROLE %I LOGIN', :'role')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role')
\gexec
ALTER ROLE :"role" WITH LOGIN PASSWORD :'password';
ALTER ROLE :"role" SET default_transaction_read_only = on;
ALTER ROLE :"role" SET statement_timeout = '30s';

GRANT USAGE ON SCHEMA public TO :"role";
GRANT SELECT ON daily_stats, sidecar_daily_stats, stream_sessions, cinevault_plays, plays,
                stream_errors, transcode_history, system_metrics, system_metrics_archive,
                system_metrics_history, media_items, libraries,
                alert_log, alert_rules
    TO :"role";
-- The plays view reads through the sidecar's functions.
GRANT EXECUTE ON FUNCTION cv_session_last_active(boolean, timestamptz, timestamptz, timestamptz),
                          cv_db_zone()
    TO :"role";
-- CineVault's users table may hold more than names (password hashes, e-mail addresses).
GRANT SELECT (id, username) ON users TO :"role";
GRANT SELECT (id, name, channel_type) ON notification_channels TO :"role";
