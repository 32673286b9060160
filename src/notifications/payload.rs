//! The request body each platform gets for an [`Alert`], within that platform's documented
//! limits: too-long text is truncated (ending in "…"), never rejected by the receiver.
//! Pure: what a Discord payload looks like is a unit test away.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::kinds::ChannelType;
use super::message::{Alert, PRODUCT, SOURCE};

/// Discord's embed limits (docs "Embed Limits"; the schema in ../shared/reference).
pub mod discord_limits {
    pub const USERNAME: usize = 80;
    pub const TITLE: usize = 256;
    pub const DESCRIPTION: usize = 4096;
    pub const FOOTER: usize = 2048;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1024;
    /// Titles, descriptions, field names and values, footer texts, author names together.
    pub const TOTAL: usize = 6000;
}

/// Slack Block Kit limits (docs "Blocks" reference).
pub mod slack_limits {
    pub const HEADER_TEXT: usize = 150;
    pub const SECTION_TEXT: usize = 3000;
    pub const CONTEXT_TEXT: usize = 3000;
    pub const CONTEXT_ELEMENTS: usize = 10;
    pub const BLOCKS: usize = 50;
    /// The top-level `text` (notification fallback); Slack truncates above 40,000.
    pub const TEXT: usize = 40_000;
}

/// What a generic receiver gets at most per text field; keeps bodies small.
const GENERIC_TEXT: usize = 4096;

pub fn build(channel: ChannelType, alert: &Alert) -> Value {
    match channel {
        ChannelType::Discord => discord(alert),
        ChannelType::Slack => slack(alert),
        ChannelType::Generic => generic(alert),
        ChannelType::Alertmanager => alertmanager(alert),
    }
}

/// At most `max` characters (Unicode scalar values), the last one "…" when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn footer(alert: &Alert) -> String {
    match alert.condition {
        Some(c) => format!("{PRODUCT} · {} · {}", c.as_str(), alert.severity().as_str()),
        None => PRODUCT.to_owned(),
    }
}

/// Discord "Execute Webhook": one embed with title, description, colour, footer and
/// timestamp (plus host/value/threshold fields). Mentions are switched off, so a rule named
/// "@everyone" pings no one.
pub fn discord(alert: &Alert) -> Value {
    use discord_limits as l;
    let title = truncate(&alert.title(), l::TITLE);
    let footer = truncate(&footer(alert), l::FOOTER);
    let mut fields: Vec<(String, String)> = Vec::new();
    if let Some(h) = alert.host.as_deref().filter(|h| !h.is_empty()) {
        fields.push(("Host".into(), truncate(h, l::FIELD_VALUE)));
    }
    if let (Some(v), Some(t)) = (alert.value, alert.threshold) {
        fields.push(("Value".into(), super::message::num(v)));
        fields.push(("Threshold".into(), super::message::num(t)));
    }
    let used = title.chars().count()
        + footer.chars().count()
        + fields
            .iter()
            .map(|(n, v)| n.chars().count() + v.chars().count())
            .sum::<usize>();
    let room = l::DESCRIPTION.min(l::TOTAL.saturating_sub(used));
    let description = truncate(&alert.message(), room);
    let fields: Vec<Value> = fields
        .into_iter()
        .map(|(name, value)| {
            json!({"name": truncate(&name, l::FIELD_NAME), "value": value, "inline": true})
        })
        .collect();
    json!({
        "username": truncate(PRODUCT, l::USERNAME),
        "allowed_mentions": {"parse": []},
        "embeds": [{
            "title": title,
            "description": description,
            "color": alert.severity().color(),
            "fields": fields,
            "footer": {"text": footer},
            "timestamp": rfc3339(alert.at),
        }]
    })
}

/// Slack treats `&`, `<` and `>` as control characters (`<!channel>` pings); user text is
/// escaped, then cut to `max` characters without splitting an escape.
fn slack_text(s: &str, max: usize) -> String {
    let piece = |c: char| match c {
        '&' => "&amp;".to_owned(),
        '<' => "&lt;".to_owned(),
        '>' => "&gt;".to_owned(),
        c => c.to_string(),
    };
    let full: String = s.chars().map(piece).collect();
    if full.chars().count() <= max {
        return full;
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let p = piece(c);
        let n = p.chars().count();
        if used + n + 1 > max {
            break;
        }
        out.push_str(&p);
        used += n;
    }
    out.push('…');
    out
}

/// Slack incoming webhook: Block Kit header, section and context blocks, and the plain
/// `text` that notifications show.
pub fn slack(alert: &Alert) -> Value {
    use slack_limits as l;
    let severity = alert.severity();
    let header = slack_text(
        &format!("{} {}", severity.emoji(), alert.title()),
        l::HEADER_TEXT,
    );
    let section = slack_text(&alert.message(), l::SECTION_TEXT);
    let context = slack_text(
        &format!("{} · {}", footer(alert), rfc3339(alert.at)),
        l::CONTEXT_TEXT,
    );
    let text = slack_text(&format!("{}: {}", alert.title(), alert.message()), l::TEXT);
    json!({
        "text": text,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": true}},
            {"type": "section", "text": {"type": "mrkdwn", "text": section}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ]
    })
}

/// The spec's simple JSON (`title`, `message`, `source`, `timestamp`) plus the figures, so
/// a receiver can act on them without parsing text.
pub fn generic(alert: &Alert) -> Value {
    json!({
        "title": truncate(&alert.title(), GENERIC_TEXT),
        "message": truncate(&alert.message(), GENERIC_TEXT),
        "source": SOURCE,
        "timestamp": rfc3339(alert.at),
        "status": alert.kind.status(),
        "severity": alert.severity().as_str(),
        "rule_id": alert.rule_id,
        "rule_name": alert.rule_id.map(|_| truncate(&alert.name, GENERIC_TEXT)),
        "condition_type": alert.condition.map(|c| c.as_str()),
        "host": alert.host,
        "value": alert.value,
        "threshold": alert.threshold,
    })
}

/// Alertmanager `POST /api/v2/alerts`: a list of postable alerts. `endsAt` is set on firing
/// alerts too (beyond the rule's cooldown), so Alertmanager keeps the alert active until we
/// re-send it, and resolves it by itself if we never do.
pub fn alertmanager(alert: &Alert) -> Value {
    let alertname = match alert.kind {
        super::message::AlertKind::Test => "CineVaultAnalyticsTest".to_owned(),
        _ => truncate(&alert.name, GENERIC_TEXT),
    };
    let mut labels = serde_json::Map::new();
    labels.insert("alertname".into(), json!(alertname));
    labels.insert("severity".into(), json!(alert.severity().as_str()));
    labels.insert("source".into(), json!(SOURCE));
    if let Some(c) = alert.condition {
        labels.insert("condition_type".into(), json!(c.as_str()));
    }
    if let Some(id) = alert.rule_id {
        labels.insert("rule_id".into(), json!(id.to_string()));
    }
    if let Some(h) = alert.host.as_deref().filter(|h| !h.is_empty()) {
        labels.insert("host".into(), json!(truncate(h, GENERIC_TEXT)));
    }
    let mut annotations = serde_json::Map::new();
    annotations.insert(
        "summary".into(),
        json!(truncate(&alert.title(), GENERIC_TEXT)),
    );
    annotations.insert(
        "description".into(),
        json!(truncate(&alert.message(), GENERIC_TEXT)),
    );
    if let Some(v) = alert.value {
        annotations.insert("value".into(), json!(super::message::num(v)));
    }
    if let Some(t) = alert.threshold {
        annotations.insert("threshold".into(), json!(super::message::num(t)));
    }
    json!([{
        "labels": labels,
        "annotations": annotations,
        "startsAt": rfc3339(alert.starts_at),
        "endsAt": rfc3339(alert.ends_at),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notifications::kinds::ConditionType;
    use crate::notifications::message::AlertKind;

    fn huge_alert(kind: AlertKind) -> Alert {
        let at = Utc::now();
        Alert {
            kind,
            rule_id: Some(uuid::Uuid::new_v4()),
            name: "Ω<!channel>&".repeat(5000),
            condition: Some(ConditionType::DiskSpaceLow),
            host: Some("h".repeat(9000)),
            value: Some(1.0),
            threshold: Some(50.0),
            at,
            starts_at: at,
            ends_at: at,
        }
    }

    fn chars(v: &Value) -> usize {
        v.as_str().map_or(0, |s| s.chars().count())
    }

    #[test]
    fn slack_text_is_escaped_and_never_cut_inside_an_escape() {
        assert_eq!(slack_text("a<b>&c", 100), "a&lt;b&gt;&amp;c");
        assert_eq!(slack_text("ab<<", 6), "ab…");
        assert_eq!(slack_text("ab<<", 7), "ab&lt;…");
    }

    #[test]
    fn truncation_counts_characters_and_marks_the_cut() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "ab…");
        assert_eq!(truncate("ΩΩΩΩ", 2), "Ω…");
        assert_eq!(truncate("x", 0), "");
    }

    #[test]
    fn discord_payload_stays_within_embed_limits() {
        use discord_limits as l;
        for kind in [AlertKind::Firing, AlertKind::Resolved] {
            let p = discord(&huge_alert(kind));
            let e = &p["embeds"][0];
            assert!(chars(&e["title"]) <= l::TITLE);
            assert!(chars(&e["description"]) <= l::DESCRIPTION);
            assert!(chars(&e["footer"]["text"]) <= l::FOOTER);
            let fields = e["fields"].as_array().expect("fields");
            assert!(fields.len() <= 25);
            let mut total =
                chars(&e["title"]) + chars(&e["description"]) + chars(&e["footer"]["text"]);
            for f in fields {
                assert!(chars(&f["name"]) <= l::FIELD_NAME);
                assert!(chars(&f["value"]) <= l::FIELD_VALUE);
                total += chars(&f["name"]) + chars(&f["value"]);
            }
            assert!(total <= l::TOTAL, "{total}");
            assert!(e["description"].as_str().is_some_and(|d| d.ends_with('…')));
            assert_eq!(p["allowed_mentions"], json!({"parse": []}));
            assert!(e["color"].as_u64().is_some_and(|c| c <= 0xFF_FF_FF));
        }
    }

    #[test]
    fn slack_payload_stays_within_block_limits_and_escapes_mentions() {
        use slack_limits as l;
        let p = slack(&huge_alert(AlertKind::Firing));
        let blocks = p["blocks"].as_array().expect("blocks");
        assert!(blocks.len() <= l::BLOCKS);
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(blocks[0]["text"]["type"], "plain_text");
        assert!(chars(&blocks[0]["text"]["text"]) <= l::HEADER_TEXT);
        assert_eq!(blocks[1]["type"], "section");
        assert!(chars(&blocks[1]["text"]["text"]) <= l::SECTION_TEXT);
        assert_eq!(blocks[2]["type"], "context");
        let elements = blocks[2]["elements"].as_array().expect("elements");
        assert!(elements.len() <= l::CONTEXT_ELEMENTS);
        assert!(elements
            .iter()
            .all(|e| chars(&e["text"]) <= l::CONTEXT_TEXT));
        assert!(chars(&p["text"]) <= l::TEXT);
        assert!(!p.to_string().contains("<!channel>"));
    }

    #[test]
    fn generic_payload_has_the_spec_fields() {
        let at = Utc::now();
        let a = Alert::test("Ops", at);
        let p = generic(&a);
        for f in ["title", "message", "source", "timestamp"] {
            assert!(p[f].is_string(), "{f}");
        }
        assert_eq!(p["source"], SOURCE);
        assert_eq!(p["status"], "test");
        let p = generic(&huge_alert(AlertKind::Firing));
        assert!(chars(&p["title"]) <= GENERIC_TEXT && chars(&p["message"]) <= GENERIC_TEXT);
        assert_eq!(p["condition_type"], "disk_space_low");
    }

    #[test]
    fn alertmanager_payload_is_a_list_of_postable_alerts() {
        let mut a = huge_alert(AlertKind::Resolved);
        a.name = "Low Disk Space".into();
        a.host = Some("media1".into());
        let p = alertmanager(&a);
        let alert = &p[0];
        assert_eq!(alert["labels"]["alertname"], "Low Disk Space");
        assert_eq!(alert["labels"]["host"], "media1");
        assert_eq!(alert["labels"]["severity"], "resolved");
        assert!(alert["annotations"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("back to 1 GB")));
        for t in ["startsAt", "endsAt"] {
            let s = alert[t].as_str().expect("time");
            assert!(DateTime::parse_from_rfc3339(s).is_ok(), "{s}");
        }
        assert!(alert["labels"]
            .as_object()
            .expect("labels")
            .values()
            .all(|v| v.as_str().is_some_and(|s| !s.is_empty())));
    }
}
