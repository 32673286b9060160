-- Alerting: what the spec's schema lacks for delivery that never loses an alert. Additions
-- only; each added column is nullable or has a default, so CineVault's own INSERTs into
-- these tables (its channel and rule forms, its evaluator's LogAlert) keep working.

-- Generic webhooks can be signed (Standard Webhooks: HMAC-SHA256 over id, timestamp and
-- body) with a per-channel secret. Write-only through the API; NULL: unsigned.
ALTER TABLE notification_channels ADD COLUMN IF NOT EXISTS signing_secret TEXT;

-- When a condition that fired clears, one "resolved" message is sent unless this is off.
ALTER TABLE alert_rules ADD COLUMN IF NOT EXISTS send_resolved BOOLEAN NOT NULL DEFAULT true;

-- Each delivery's final outcome: what was sent (alert, resolved, test), about which host,
-- the receiver's last HTTP status and how many attempts it took.
ALTER TABLE alert_log ADD COLUMN IF NOT EXISTS kind VARCHAR(20) NOT NULL DEFAULT 'alert';
ALTER TABLE alert_log ADD COLUMN IF NOT EXISTS host VARCHAR(255);
ALTER TABLE alert_log ADD COLUMN IF NOT EXISTS http_status INT;
ALTER TABLE alert_log ADD COLUMN IF NOT EXISTS attempts INT NOT NULL DEFAULT 1;

-- Who sent it: 'cinevault' (CineVault's own alert evaluator, which cannot be switched off
-- and whose INSERT does not name the column) or 'sidecar' (which always names it). Rows of
-- CineVault's are how the sidecar notices that both evaluate the same rules. In a database
-- of the sidecar's own every row, earlier ones included, is the sidecar's.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()
                   AND table_name = 'alert_log' AND column_name = 'sent_by') THEN
        IF current_setting('cinevault_analytics.mode') = 'standalone' THEN
            ALTER TABLE alert_log ADD COLUMN sent_by VARCHAR(20) NOT NULL DEFAULT 'sidecar';
        ELSE
            ALTER TABLE alert_log ADD COLUMN sent_by VARCHAR(20) NOT NULL DEFAULT 'cinevault';
        END IF;
    END IF;
END
$$;

-- What the evaluator knows per rule and subject (a host for disk and GPU rules, '' for the
-- server-wide counts): when it last alerted (the cooldown), and whether the receiver was
-- told it is firing and not yet told it cleared (the resolved message).
CREATE TABLE IF NOT EXISTS alert_rule_state (
    rule_id            UUID NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
    subject            VARCHAR(255) NOT NULL DEFAULT '',
    notified           BOOLEAN NOT NULL DEFAULT false,
    firing_since       TIMESTAMPTZ,
    last_triggered_at  TIMESTAMPTZ,
    last_value         DOUBLE PRECISION,
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (rule_id, subject)
);

-- The log endpoint's channel lookup and SET NULL on channel deletion.
CREATE INDEX IF NOT EXISTS idx_alert_log_channel ON alert_log(channel_id);
