//! Request fields of the notification endpoints, checked where they are parsed: each
//! refusal becomes a 400 naming the field (see `crate::http::extract`).

use reqwest::Url;
use serde::{Deserialize, Deserializer};

use super::signature;

/// A webhook URL as an admin sent it: http or https with a host, at most 2048 characters.
/// The address policy is checked by the handler (it depends on the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(pub String);

pub const MAX_URL_CHARS: usize = 2048;

impl<'de> Deserialize<'de> for WebhookUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_webhook_url(&s)
            .map(|_| Self(s.trim().to_owned()))
            .map_err(serde::de::Error::custom)
    }
}

pub fn parse_webhook_url(s: &str) -> Result<Url, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.chars().count() > MAX_URL_CHARS {
        return Err(format!("must be at most {MAX_URL_CHARS} characters"));
    }
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("must not contain spaces or control characters".into());
    }
    let url = Url::parse(s).map_err(|e| format!("is not a valid URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "must be an http or https URL, not {}",
            url.scheme()
        ));
    }
    if url.host_str().map_or(true, str::is_empty) {
        return Err("must name a host".into());
    }
    Ok(url)
}

/// How a webhook URL is shown: scheme, host and port, then only its last four characters
/// when the rest is long enough to keep its secret (`https://discord.com/…x9Qz`).
pub fn mask_url(raw: &str) -> String {
    let Ok(url) = Url::parse(raw) else {
        return "…".to_owned();
    };
    let host = url.host_str().unwrap_or("");
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let mut rest = url.path().to_owned();
    if let Some(q) = url.query() {
        rest.push('?');
        rest.push_str(q);
    }
    let n = rest.chars().count();
    let tail: String = if n >= 16 {
        rest.chars().skip(n - 4).collect()
    } else {
        String::new()
    };
    format!("{}://{host}{port}/…{tail}", url.scheme())
}

/// The signing secret of a generic channel: 16 to 256 printable characters; a `whsec_`
/// secret must carry a base64 key of 16 bytes or more.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(pub String);

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(***)")
    }
}

impl<'de> Deserialize<'de> for SigningSecret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let n = s.chars().count();
        if !(16..=256).contains(&n) {
            return Err(serde::de::Error::custom("must be 16 to 256 characters"));
        }
        if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(serde::de::Error::custom(
                "must not contain spaces or control characters",
            ));
        }
        signature::key_bytes(&s).map_err(serde::de::Error::custom)?;
        Ok(Self(s))
    }
}

/// A rule's threshold: a finite number, zero or more, that fits the REAL column.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Threshold(pub f32);

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if !v.is_finite() || v > f64::from(f32::MAX) {
            return Err(serde::de::Error::custom("must be a finite number"));
        }
        if v < 0.0 {
            return Err(serde::de::Error::custom("must be zero or more"));
        }
        Ok(Self(v as f32))
    }
}

/// Minutes between two alerts of a rule: 0 to one year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cooldown(pub i32);

pub const MAX_COOLDOWN_MINUTES: i64 = 525_600;

impl Default for Cooldown {
    fn default() -> Self {
        Self(60)
    }
}

impl<'de> Deserialize<'de> for Cooldown {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        if v < 0 {
            return Err(serde::de::Error::custom("must be zero or more"));
        }
        if v > MAX_COOLDOWN_MINUTES {
            return Err(serde::de::Error::custom(format!(
                "must be at most {MAX_COOLDOWN_MINUTES} (one year)"
            )));
        }
        // In range: at most 525,600.
        Ok(Self(i32::try_from(v).unwrap_or(i32::MAX)))
    }
}

/// For partial updates: absent stays `None`, `null` becomes `Some(None)`.
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

// OpenAPI schemas of the checked request fields, with the limits enforced above.

fn field_schema(
    kind: utoipa::openapi::schema::Type,
    describe: impl FnOnce(
        utoipa::openapi::schema::ObjectBuilder,
    ) -> utoipa::openapi::schema::ObjectBuilder,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    describe(utoipa::openapi::schema::ObjectBuilder::new().schema_type(kind)).into()
}

impl utoipa::PartialSchema for WebhookUrl {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        field_schema(utoipa::openapi::schema::Type::String, |b| {
            b.format(Some(utoipa::openapi::SchemaFormat::Custom("uri".into())))
                .max_length(Some(MAX_URL_CHARS))
                .description(Some(
                    "An http or https URL with a host; answers show it masked.",
                ))
        })
    }
}

impl utoipa::ToSchema for WebhookUrl {}

impl utoipa::PartialSchema for SigningSecret {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        field_schema(utoipa::openapi::schema::Type::String, |b| {
            b.min_length(Some(16)).max_length(Some(256)).description(Some(
                "16 to 256 printable characters; a whsec_ secret carries a base64 key of 16 bytes or more.",
            ))
        })
    }
}

impl utoipa::ToSchema for SigningSecret {}

impl utoipa::PartialSchema for Threshold {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        field_schema(utoipa::openapi::schema::Type::Number, |b| {
            b.format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Float,
            )))
            .minimum(Some(0))
            .description(Some("A finite number, zero or more."))
        })
    }
}

impl utoipa::ToSchema for Threshold {}

impl utoipa::PartialSchema for Cooldown {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        field_schema(utoipa::openapi::schema::Type::Integer, |b| {
            b.format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Int32,
            )))
            .minimum(Some(0))
            .maximum(Some(MAX_COOLDOWN_MINUTES as f64))
            .description(Some("Minutes between two alerts of a rule."))
        })
    }
}

impl utoipa::ToSchema for Cooldown {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_masked_down_to_scheme_host_and_last_four() {
        assert_eq!(
            mask_url("https://discord.com/api/webhooks/123456/AbCdEfGhIjKlMnOp"),
            "https://discord.com/…MnOp"
        );
        assert_eq!(
            mask_url("https://user:pw@hooks.example.com:8443/a?token=supersecret1234"),
            "https://hooks.example.com:8443/…1234"
        );
        assert_eq!(
            mask_url("http://127.0.0.1:9000/hook"),
            "http://127.0.0.1:9000/…"
        );
        assert_eq!(mask_url("not a url"), "…");
    }

    #[test]
    fn webhook_urls_are_checked() {
        assert!(parse_webhook_url("https://hooks.slack.com/services/T/B/x").is_ok());
        for bad in [
            "",
            "ftp://x/y",
            "https://",
            "http://a b/",
            "mailto:x@y",
            "/relative",
        ] {
            assert!(parse_webhook_url(bad).is_err(), "{bad}");
        }
        let long = format!("https://x.example/{}", "a".repeat(MAX_URL_CHARS));
        assert!(parse_webhook_url(&long).is_err());
    }

    #[test]
    fn thresholds_and_cooldowns_are_checked() {
        assert!(serde_json::from_str::<Threshold>("-1").is_err());
        assert!(serde_json::from_str::<Threshold>("1e39").is_err());
        assert_eq!(serde_json::from_str::<Threshold>("3").expect("int").0, 3.0);
        assert!(serde_json::from_str::<Cooldown>("-5").is_err());
        assert!(serde_json::from_str::<Cooldown>("1.5").is_err());
        assert!(serde_json::from_str::<Cooldown>("525601").is_err());
        assert_eq!(Cooldown::default().0, 60);
    }

    #[test]
    fn secrets_are_checked_and_never_printed() {
        assert!(serde_json::from_str::<SigningSecret>(r#""short""#).is_err());
        let s: SigningSecret = serde_json::from_str(r#""a-long-enough-secret""#).expect("secret");
        assert_eq!(format!("{s:?}"), "SigningSecret(***)");
    }
}
