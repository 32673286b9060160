-- A read-only PostgreSQL role for Grafana's history dashboard. Run it in the sidecar's
-- database after the sidecar has applied its migrations (the tables must exist), as their
-- owner or a superuser; running it again only resets the password:
--
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -v password='a-long-random-password' \
--        -f deploy/postgres/grafana-reader.sql
--
-- Grafana runs whatever SQL a dashboard editor types, so the role reads only the tables the
-- dashboard needs, and never the webhook URLs or signing secrets of notification_channels.

SELECT 'CREATE ROLE cinevault_grafana LOGIN'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cinevault_grafana')
\gexec
ALTER ROLE cinevault_grafana WITH LOGIN PASSWORD :'password';
ALTER ROLE cinevault_grafana SET default_transaction_read_only = on;
ALTER ROLE cinevault_grafana SET statement_timeout = '30s';

GRANT USAGE ON SCHEMA public TO cinevault_grafana;
GRANT SELECT ON daily_stats, stream_sessions, stream_errors, transcode_history,
                system_metrics, media_items, libraries, alert_log, alert_rules
    TO cinevault_grafana;
-- CineVault's users table may hold more than names (password hashes, e-mail addresses).
GRANT SELECT (id, username) ON users TO cinevault_grafana;
GRANT SELECT (id, name, channel_type) ON notification_channels TO cinevault_grafana;
