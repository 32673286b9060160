//! The closed vocabularies of alerting: condition types, channel types, and a channel's
//! `events` filter (a JSON array, or a string holding one, as the spec's example sends).

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What an alert rule checks (the spec's "Condition Types" table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConditionType {
    DiskSpaceLow,
    GpuTempHigh,
    TranscodeFailure,
    StreamError,
}

impl ConditionType {
    pub const ALL: [Self; 4] = [
        Self::DiskSpaceLow,
        Self::GpuTempHigh,
        Self::TranscodeFailure,
        Self::StreamError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DiskSpaceLow => "disk_space_low",
            Self::GpuTempHigh => "gpu_temp_high",
            Self::TranscodeFailure => "transcode_failure",
            Self::StreamError => "stream_error",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Judged per host from `system_metrics` (the others are counts over the whole server:
    /// transcodes and stream errors carry no host).
    pub fn per_host(self) -> bool {
        matches!(self, Self::DiskSpaceLow | Self::GpuTempHigh)
    }
}

/// Where a channel delivers: the spec's three webhook kinds plus Alertmanager's v2 API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelType {
    Discord,
    Slack,
    Generic,
    Alertmanager,
}

impl ChannelType {
    pub const ALL: [Self; 4] = [
        Self::Discord,
        Self::Slack,
        Self::Generic,
        Self::Alertmanager,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Discord => "discord",
            Self::Slack => "slack",
            Self::Generic => "generic",
            Self::Alertmanager => "alertmanager",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

pub const ALL_EVENTS: &str = "all";

/// A channel's `events` filter: `["all"]` or a list of condition types. Deduplicated;
/// `all` alone when it is listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Events(Vec<String>);

impl Events {
    pub fn all() -> Self {
        Self(vec![ALL_EVENTS.to_owned()])
    }

    /// Checks what an admin sent.
    pub fn parse_list(values: Vec<String>) -> Result<Self, String> {
        if values.is_empty() {
            return Err(
                "must list at least one event: \"all\" or a condition type (to pause a channel, set is_enabled to false)"
                    .into(),
            );
        }
        let mut out: Vec<String> = Vec::new();
        for v in values {
            if v != ALL_EVENTS && ConditionType::parse(&v).is_none() {
                return Err(format!(
                    "unknown event '{}': use \"all\" or one of {}",
                    v.chars().take(60).collect::<String>(),
                    ConditionType::ALL.map(ConditionType::as_str).join(", ")
                ));
            }
            if !out.contains(&v) {
                out.push(v);
            }
        }
        if out.iter().any(|v| v == ALL_EVENTS) {
            return Ok(Self::all());
        }
        Ok(Self(out))
    }

    /// Reads what is stored, leniently: the column may have been written by someone else
    /// (the Go server stored the string form). Unknown values are ignored.
    pub fn from_stored(v: &serde_json::Value) -> Self {
        let list = match v {
            serde_json::Value::String(s) => serde_json::from_str(s).unwrap_or_default(),
            other => other.clone(),
        };
        let values: Vec<String> = list
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str())
                    .filter(|s| *s == ALL_EVENTS || ConditionType::parse(s).is_some())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Self::parse_list(values).unwrap_or(Self(Vec::new()))
    }

    pub fn allows(&self, condition: ConditionType) -> bool {
        self.0
            .iter()
            .any(|v| v == ALL_EVENTS || v == condition.as_str())
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::from(self.0.clone())
    }
}

impl utoipa::PartialSchema for Events {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
        let mut names = vec![ALL_EVENTS];
        names.extend(ConditionType::ALL.map(ConditionType::as_str));
        ArrayBuilder::new()
            .items(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(names)),
            )
            .min_items(Some(1))
            .description(Some(
                "The alerts a channel receives: [\"all\"] or a list of condition types.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Events {}

impl Serialize for Events {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Events {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ListOrString;
        impl<'de> Visitor<'de> for ListOrString {
            type Value = Vec<String>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a JSON array of event names such as [\"all\"], or a string holding one",
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                serde_json::from_str(s).map_err(|_| {
                    E::custom("must be a JSON array of event names such as [\"all\"], or a string holding one")
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<String>()? {
                    out.push(v);
                }
                Ok(out)
            }
        }
        let values = d.deserialize_any(ListOrString)?;
        Events::parse_list(values).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_accept_an_array_or_a_string_holding_one() {
        let a: Events = serde_json::from_str(r#"["all"]"#).expect("array");
        let b: Events = serde_json::from_str(r#""[\"all\"]""#).expect("string");
        assert_eq!(a, b);
        assert!(a.allows(ConditionType::StreamError));
        let only: Events =
            serde_json::from_str(r#"["disk_space_low","disk_space_low"]"#).expect("list");
        assert_eq!(only.to_json(), serde_json::json!(["disk_space_low"]));
        assert!(only.allows(ConditionType::DiskSpaceLow));
        assert!(!only.allows(ConditionType::GpuTempHigh));
        let with_all: Events = serde_json::from_str(r#"["gpu_temp_high","all"]"#).expect("all");
        assert_eq!(with_all, Events::all());
    }

    #[test]
    fn bad_events_are_refused_with_a_reason() {
        for bad in [r#"[]"#, r#"["disk"]"#, r#""all""#, r#"5"#, r#"[1]"#] {
            assert!(serde_json::from_str::<Events>(bad).is_err(), "{bad}");
        }
        let err = serde_json::from_str::<Events>(r#"["nope"]"#).expect_err("unknown");
        assert!(err.to_string().contains("unknown event 'nope'"), "{err}");
    }

    #[test]
    fn stored_events_are_read_leniently() {
        let v = serde_json::json!("[\"stream_error\", \"weird\"]");
        let e = Events::from_stored(&v);
        assert!(e.allows(ConditionType::StreamError));
        assert!(!e.allows(ConditionType::DiskSpaceLow));
        assert!(!Events::from_stored(&serde_json::json!(42)).allows(ConditionType::StreamError));
    }

    #[test]
    fn names_round_trip() {
        for c in ConditionType::ALL {
            assert_eq!(ConditionType::parse(c.as_str()), Some(c));
        }
        for c in ChannelType::ALL {
            assert_eq!(ChannelType::parse(c.as_str()), Some(c));
        }
    }
}
