//! Request extractors whose every refusal is the JSON error shape and names the field at
//! fault: a body that is not JSON, a value of the wrong type, a bad UUID or date.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::error::AppError;

/// A JSON body. Refusals: 415 without a JSON content type, 413 over the body limit, 400
/// naming the field for malformed JSON, a missing field or a wrong type.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mime = v
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(AppError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(ApiJson)
    }
}

fn body_rejection(rejection: BytesRejection) -> AppError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is larger than the configured limit",
        )
    } else {
        AppError::bad_request("body", "the request body could not be read")
    }
}

/// Deserialises JSON, naming the path of the offending field in the error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::bad_request(
            "body",
            "the request body is empty; expected JSON",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = inner.to_string();
        // serde_json reports a number or null where an enum's string belongs as a syntax
        // error ("expected value"); the document is well-formed, so name the field.
        if (inner.is_syntax() || inner.is_eof()) && !is_json(bytes) {
            return AppError::bad_request("body", format!("malformed JSON: {message}"));
        }
        if inner.is_syntax() && clean_message(&message) == "expected value" {
            return AppError::bad_request(
                field_name(&path, &message),
                "invalid type: expected a string naming one of the allowed values",
            );
        }
        AppError::bad_request(field_name(&path, &message), clean_message(&message))
    })?;
    // Anything after the JSON value (a second document, stray text) is refused, not ignored.
    de.end()
        .map_err(|err| AppError::bad_request("body", format!("malformed JSON: {err}")))?;
    Ok(value)
}

fn is_json(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
}

/// Query-string parameters, each refusal naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        parse_query(query).map(ApiQuery)
    }
}

pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, AppError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        AppError::bad_request(field_name(&path, &message), clean_message(&message))
    })
}

/// Path parameters; use a struct with named fields so a refusal can name the parameter.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::path::ErrorKind;
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(match e.kind() {
                ErrorKind::ParseErrorAtKey {
                    key,
                    value,
                    expected_type,
                } => AppError::bad_request(
                    key.as_str(),
                    format!("'{value}' is not a valid {}", friendly_type(expected_type)),
                ),
                ErrorKind::DeserializeError {
                    key,
                    value,
                    message,
                } => AppError::bad_request(
                    key.as_str(),
                    format!("'{value}' is not valid: {}", clean_message(message)),
                ),
                ErrorKind::ParseError {
                    value,
                    expected_type,
                } => AppError::bad_request(
                    "path",
                    format!("'{value}' is not a valid {}", friendly_type(expected_type)),
                ),
                // A custom deserializer's error carries no key: name the parameter when
                // the route has only one.
                ErrorKind::Message(msg) => {
                    let raw = axum::extract::RawPathParams::from_request_parts(parts, state).await;
                    let keys: Vec<String> = raw
                        .map(|r| r.iter().map(|(k, _)| k.to_owned()).collect())
                        .unwrap_or_default();
                    let field = match keys.as_slice() {
                        [only] => only.clone(),
                        _ => "path".to_owned(),
                    };
                    AppError::bad_request(field, clean_message(msg))
                }
                other => AppError::bad_request("path", other.to_string()),
            }),
            Err(other) => Err(AppError::bad_request("path", other.body_text())),
        }
    }
}

fn friendly_type(rust_type: &str) -> &str {
    if rust_type.ends_with("Uuid") {
        "UUID"
    } else {
        rust_type.rsplit("::").next().unwrap_or(rust_type)
    }
}

/// serde reports a missing field at its parent's path, with the name in the message.
fn field_name(path: &str, message: &str) -> String {
    if let Some(rest) = message.strip_prefix("missing field `") {
        if let Some(name) = rest.split('`').next() {
            return if path == "." || path.is_empty() {
                name.to_owned()
            } else {
                format!("{path}.{name}")
            };
        }
    }
    if path == "." || path.is_empty() {
        "body".to_owned()
    } else {
        path.to_owned()
    }
}

/// serde_json appends " at line 1 column 17" to messages; the field name says more.
fn clean_message(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// A calendar date written `YYYY-MM-DD`, refused otherwise (including impossible dates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_date(&s).map(Date).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Date {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Date,
            )))
            .description(Some("A calendar date written YYYY-MM-DD."))
            .into()
    }
}

impl utoipa::ToSchema for Date {}

pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let valid_shape = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !valid_shape {
        return Err(format!("'{s}' is not a date written YYYY-MM-DD"));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("'{s}' is not a real date"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use uuid::Uuid;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Rule {
        name: String,
        threshold: f64,
        channel_id: Uuid,
        nested: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        day: Date,
    }

    fn err_of<T: DeserializeOwned + std::fmt::Debug>(json: &str) -> AppError {
        parse_json::<T>(json.as_bytes()).expect_err(json)
    }

    #[test]
    fn wrong_type_names_the_field() {
        let e = err_of::<Rule>(
            r#"{"name":"x","threshold":"high","channel_id":"7d6a1b9e-8f8e-4c55-9a53-5f8f2b0c9d10"}"#,
        );
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.field.as_deref(), Some("threshold"));
        assert!(e.message.contains("invalid type"), "{}", e.message);
    }

    #[test]
    fn bad_uuid_and_missing_field_and_nested_date_are_named() {
        let e = err_of::<Rule>(r#"{"name":"x","threshold":1,"channel_id":"nope"}"#);
        assert_eq!(e.field.as_deref(), Some("channel_id"));
        let e = err_of::<Rule>(r#"{"name":"x","threshold":1}"#);
        assert_eq!(e.field.as_deref(), Some("channel_id"));
        assert!(e.message.contains("missing field"));
        let e = err_of::<Rule>(
            r#"{"name":"x","threshold":1,"channel_id":"7d6a1b9e-8f8e-4c55-9a53-5f8f2b0c9d10","nested":{"day":"2026-02-30"}}"#,
        );
        assert_eq!(e.field.as_deref(), Some("nested.day"));
        assert!(e.message.contains("not a real date"), "{}", e.message);
    }

    #[test]
    fn trailing_text_and_enum_type_errors_are_told_apart() {
        let ok =
            r#"{"name":"x","threshold":1,"channel_id":"7d6a1b9e-8f8e-4c55-9a53-5f8f2b0c9d10"}"#;
        assert!(parse_json::<Rule>(ok.as_bytes()).is_ok());
        for trailing in [
            format!("{ok} trailing"),
            format!("{ok}{ok}"),
            format!("{ok} 1"),
        ] {
            let e = err_of::<Rule>(&trailing);
            assert_eq!(e.field.as_deref(), Some("body"), "{trailing}");
            assert!(e.message.contains("trailing"), "{}", e.message);
        }
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Typed {
            kind: crate::ingest::events::PlaybackType,
        }
        for body in [
            r#"{"kind": null}"#,
            r#"{"kind": 1}"#,
            r#"{"kind": [1]}"#,
            r#"{"kind": 1e400}"#,
        ] {
            let e = err_of::<Typed>(body);
            assert_eq!(e.field.as_deref(), Some("kind"), "{body}: {}", e.message);
            assert!(!e.message.contains("malformed"), "{}", e.message);
        }
    }

    #[test]
    fn malformed_and_empty_bodies_are_400_on_body() {
        for body in ["{\"name\":", "", "   ", "not json"] {
            let e = err_of::<Rule>(body);
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
            assert_eq!(e.field.as_deref(), Some("body"), "{body}");
        }
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Range {
        from: Option<Date>,
        days: Option<u32>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let e = parse_query::<Range>("from=2026-13-01").expect_err("bad month");
        assert_eq!(e.field.as_deref(), Some("from"));
        let e = parse_query::<Range>("days=-3").expect_err("negative");
        assert_eq!(e.field.as_deref(), Some("days"));
        let e = parse_query::<Range>("from=26-1-1").expect_err("shape");
        assert!(e.message.contains("YYYY-MM-DD"));
        let ok = parse_query::<Range>("from=2024-02-29&days=7").expect("valid");
        assert_eq!(ok.days, Some(7));
    }
}
