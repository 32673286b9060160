//! What an alert says, in numbers ("Free disk on media1 is 41.2 GB, below the 50 GB
//! threshold."), independent of the platform it goes to. Pure.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::kinds::ConditionType;

pub const SOURCE: &str = "cinevault-analytics";
pub const PRODUCT: &str = "CineVault Analytics";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    Firing,
    Resolved,
    Test,
}

impl AlertKind {
    /// As stored in `alert_log.kind` and sent as `status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Firing => "alert",
            Self::Resolved => "resolved",
            Self::Test => "test",
        }
    }

    pub fn status(self) -> &'static str {
        match self {
            Self::Firing => "firing",
            Self::Resolved => "resolved",
            Self::Test => "test",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Critical,
    Warning,
    Resolved,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Warning => "warning",
            Self::Resolved => "resolved",
            Self::Info => "info",
        }
    }

    /// 0xRRGGBB, as Discord's embed colour wants it.
    pub fn color(self) -> u32 {
        match self {
            Self::Critical => 0xE7_4C_3C,
            Self::Warning => 0xF3_9C_12,
            Self::Resolved => 0x2E_CC_71,
            Self::Info => 0x34_98_DB,
        }
    }

    pub fn emoji(self) -> &'static str {
        match self {
            Self::Critical => ":red_circle:",
            Self::Warning => ":large_orange_circle:",
            Self::Resolved => ":large_green_circle:",
            Self::Info => ":large_blue_circle:",
        }
    }
}

/// One message to deliver.
#[derive(Debug, Clone)]
pub struct Alert {
    pub kind: AlertKind,
    pub rule_id: Option<Uuid>,
    /// The rule's name (the channel's name for a test message).
    pub name: String,
    pub condition: Option<ConditionType>,
    /// The host a disk or GPU alert is about.
    pub host: Option<String>,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub at: DateTime<Utc>,
    /// When the condition started firing (Alertmanager's `startsAt`).
    pub starts_at: DateTime<Utc>,
    /// Until when a firing alert holds unless re-sent (Alertmanager's `endsAt`); the
    /// resolution time for a resolved one.
    pub ends_at: DateTime<Utc>,
}

impl Alert {
    pub fn test(channel_name: &str, at: DateTime<Utc>) -> Self {
        Self {
            kind: AlertKind::Test,
            rule_id: None,
            name: channel_name.to_owned(),
            condition: None,
            host: None,
            value: None,
            threshold: None,
            at,
            starts_at: at,
            ends_at: at + chrono::Duration::minutes(5),
        }
    }

    pub fn severity(&self) -> Severity {
        match (self.kind, self.condition) {
            (AlertKind::Test, _) | (_, None) => Severity::Info,
            (AlertKind::Resolved, _) => Severity::Resolved,
            (AlertKind::Firing, Some(ConditionType::DiskSpaceLow | ConditionType::GpuTempHigh)) => {
                Severity::Critical
            }
            (AlertKind::Firing, Some(_)) => Severity::Warning,
        }
    }

    fn host_name(&self) -> &str {
        match self.host.as_deref() {
            Some("") | None => "an unnamed host",
            Some(h) => h,
        }
    }

    pub fn title(&self) -> String {
        let on_host = match (&self.host, self.condition.map(ConditionType::per_host)) {
            (Some(_), Some(true)) => format!(" on {}", self.host_name()),
            _ => String::new(),
        };
        match self.kind {
            AlertKind::Firing => format!("Firing: {}{on_host}", self.name),
            AlertKind::Resolved => format!("Resolved: {}{on_host}", self.name),
            AlertKind::Test => format!("Test message from {PRODUCT}"),
        }
    }

    /// The sentence with the numbers; also what `alert_log.message` keeps.
    pub fn message(&self) -> String {
        let (Some(condition), Some(value), Some(threshold)) =
            (self.condition, self.value, self.threshold)
        else {
            return format!(
                "This is a test message from {PRODUCT} to the channel '{}'. If you can read it, alerts will reach you here.",
                self.name
            );
        };
        let (v, t, host) = (num(value), num(threshold), self.host_name());
        let firing = self.kind != AlertKind::Resolved;
        match (condition, firing) {
            (ConditionType::DiskSpaceLow, true) => {
                format!("Free disk on {host} is {v} GB, below the {t} GB threshold.")
            }
            (ConditionType::DiskSpaceLow, false) => {
                format!("Free disk on {host} is back to {v} GB, at or above the {t} GB threshold.")
            }
            (ConditionType::GpuTempHigh, true) => {
                format!("GPU temperature on {host} is {v} °C, above the {t} °C threshold.")
            }
            (ConditionType::GpuTempHigh, false) => format!(
                "GPU temperature on {host} is back to {v} °C, at or below the {t} °C threshold."
            ),
            (ConditionType::TranscodeFailure, true) => format!(
                "{} in the last 60 minutes, above the threshold of {t}.",
                count(value, "transcode failed", "transcodes failed")
            ),
            (ConditionType::TranscodeFailure, false) => format!(
                "{} in the last 60 minutes, at or below the threshold of {t}.",
                count(value, "transcode failed", "transcodes failed")
            ),
            (ConditionType::StreamError, true) => format!(
                "{} in the last 60 minutes, above the threshold of {t}.",
                count(value, "stream error", "stream errors")
            ),
            (ConditionType::StreamError, false) => format!(
                "{} in the last 60 minutes, at or below the threshold of {t}.",
                count(value, "stream error", "stream errors")
            ),
        }
    }
}

/// 41.2, 50, 0.5: one decimal at most, none when the value is whole.
pub fn num(x: f64) -> String {
    let rounded = (x * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

fn count(n: f64, one: &str, many: &str) -> String {
    if n == 1.0 {
        format!("1 {one}")
    } else {
        format!("{} {many}", num(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(kind: AlertKind, c: ConditionType, host: Option<&str>, v: f64, t: f64) -> Alert {
        let at = Utc::now();
        Alert {
            kind,
            rule_id: None,
            name: "Low Disk Space".into(),
            condition: Some(c),
            host: host.map(str::to_owned),
            value: Some(v),
            threshold: Some(t),
            at,
            starts_at: at,
            ends_at: at,
        }
    }

    #[test]
    fn messages_say_what_happened_in_numbers() {
        let a = alert(
            AlertKind::Firing,
            ConditionType::DiskSpaceLow,
            Some("media1"),
            f64::from(41.2_f32),
            50.0,
        );
        assert_eq!(
            a.message(),
            "Free disk on media1 is 41.2 GB, below the 50 GB threshold."
        );
        assert_eq!(a.title(), "Firing: Low Disk Space on media1");
        assert_eq!(a.severity(), Severity::Critical);
        let a = alert(
            AlertKind::Firing,
            ConditionType::TranscodeFailure,
            None,
            1.0,
            0.0,
        );
        assert_eq!(
            a.message(),
            "1 transcode failed in the last 60 minutes, above the threshold of 0."
        );
        assert_eq!(a.severity(), Severity::Warning);
        let a = alert(
            AlertKind::Resolved,
            ConditionType::GpuTempHigh,
            Some("gpu1"),
            71.0,
            80.0,
        );
        assert_eq!(
            a.message(),
            "GPU temperature on gpu1 is back to 71 °C, at or below the 80 °C threshold."
        );
        assert_eq!(a.severity(), Severity::Resolved);
        let a = alert(
            AlertKind::Firing,
            ConditionType::StreamError,
            None,
            12.0,
            10.0,
        );
        assert_eq!(
            a.message(),
            "12 stream errors in the last 60 minutes, above the threshold of 10."
        );
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(50.0), "50");
        assert_eq!(num(0.04), "0");
        assert_eq!(num(99.96), "100");
        assert_eq!(num(f64::from(85.5_f32)), "85.5");
    }
}
