-- Alerting (issue 6): what the spec's schema lacks for delivery that never loses an alert
-- (decisions.md §4-§6). Additions only.

-- Generic webhooks can be signed (Standard Webhooks: HMAC-SHA256 over id, timestamp and
-- body) with a per-channel secret. Write-only through the API; NULL: unsigned.
ALTER TABLE notification_channels ADD COLUMN signing_secret TEXT;

-- When a condition that fired clears, one "resolved" message is sent unless this is off.
ALTER TABLE alert_rules ADD COLUMN send_resolved BOOLEAN NOT NULL DEFAULT true;

-- Each delivery's final outcome: what was sent (alert, resolved, test), about which host,
-- the receiver's last HTTP status and how many attempts it took.
ALTER TABLE alert_log ADD COLUMN kind VARCHAR(20) NOT NULL DEFAULT 'alert';
ALTER TABLE alert_log ADD COLUMN host VARCHAR(255);
ALTER TABLE alert_log ADD COLUMN http_status INT;
ALTER TABLE alert_log ADD COLUMN attempts INT NOT NULL DEFAULT 1;

-- What the evaluator knows per rule and subject (a host for disk and GPU rules, '' for the
-- server-wide counts): when it last alerted (the cooldown), and whether the receiver was
-- told it is firing and not yet told it cleared (the resolved message).
CREATE TABLE alert_rule_state (
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
CREATE INDEX idx_alert_log_channel ON alert_log(channel_id);
