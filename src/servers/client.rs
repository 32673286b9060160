//! Requests to a media server: a timeout on every request, a bounded read of every body, and
//! every way the answer can be wrong named ([`FetchError`]). The token travels only in
//! request headers marked sensitive, never in a URL, so no error or log line can carry it.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE};
use serde::de::DeserializeOwned;

/// Largest answer read from a media server; a bigger one is refused unread.
pub const DEFAULT_MAX_BODY: usize = 64 * 1024 * 1024;

/// Why a request to a media server gave nothing usable. The text never includes the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// No connection (refused, reset, DNS) or the connection broke mid-answer.
    Unreachable(String),
    /// No complete answer within the timeout.
    Timeout(Duration),
    /// 401 or 403: the token is wrong or lacks the rights.
    Unauthorized(u16),
    /// Any other status that is not 2xx.
    Status(u16),
    /// A 2xx answer that is not the expected format (an HTML login page, a proxy's page).
    WrongFormat(String),
    /// The expected format, but not what the server's API answers (truncated, hostile or of
    /// another version): where and what.
    Malformed(String),
    /// The answer was larger than the limit.
    TooLarge(usize),
}

impl FetchError {
    /// A short stable name, for `/metrics` labels and state changes.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Unreachable(_) => "unreachable",
            FetchError::Timeout(_) => "timeout",
            FetchError::Unauthorized(_) => "unauthorized",
            FetchError::Status(_) => "http_status",
            FetchError::WrongFormat(_) => "wrong_format",
            FetchError::Malformed(_) => "malformed",
            FetchError::TooLarge(_) => "too_large",
        }
    }
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Unreachable(why) => write!(f, "unreachable: {why}"),
            FetchError::Timeout(d) => {
                write!(f, "no answer within {}", humantime::format_duration(*d))
            }
            FetchError::Unauthorized(code) => write!(
                f,
                "the server refused the token (HTTP {code}); check the token and its rights"
            ),
            FetchError::Status(code) => write!(f, "the server answered HTTP {code}"),
            FetchError::WrongFormat(what) => write!(f, "not the server's API: {what}"),
            FetchError::Malformed(what) => write!(f, "unreadable answer: {what}"),
            FetchError::TooLarge(limit) => {
                write!(f, "the answer is larger than {limit} bytes; not read")
            }
        }
    }
}

impl std::error::Error for FetchError {}

/// A media server's base URL with its authentication headers.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    base: String,
    headers: HeaderMap,
    timeout: Duration,
    max_body: usize,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("base", &self.base)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Http {
    /// `base` without a trailing slash (e.g. `http://127.0.0.1:8096` or
    /// `https://host/emby`); `headers` are sent with every request (values holding a secret
    /// must be marked sensitive: [`sensitive`]).
    pub fn new(
        base: &str,
        headers: Vec<(HeaderName, HeaderValue)>,
        timeout: Duration,
        max_body: usize,
    ) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::limited(3))
            .user_agent(concat!("cinevault-analytics/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(k, v);
        }
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
            headers: map,
            timeout,
            max_body,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// GET `path_and_query` (starting with `/`) and read the body, within the timeout and
    /// the size limit. Returns the content type and the body.
    pub async fn get(&self, path_and_query: &str) -> Result<(String, Vec<u8>), FetchError> {
        let url = format!("{}{}", self.base, path_and_query);
        let read = async {
            let mut res = self
                .client
                .get(&url)
                .headers(self.headers.clone())
                .header(ACCEPT, "application/json")
                .send()
                .await
                .map_err(|e| FetchError::Unreachable(describe(&e)))?;
            let status = res.status();
            if status == 401 || status == 403 {
                return Err(FetchError::Unauthorized(status.as_u16()));
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            if res
                .content_length()
                .is_some_and(|n| n > self.max_body as u64)
            {
                return Err(FetchError::TooLarge(self.max_body));
            }
            let content_type = res
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let mut body = Vec::new();
            while let Some(chunk) = res
                .chunk()
                .await
                .map_err(|e| FetchError::Unreachable(describe(&e)))?
            {
                if body.len() + chunk.len() > self.max_body {
                    return Err(FetchError::TooLarge(self.max_body));
                }
                body.extend_from_slice(&chunk);
            }
            Ok((content_type, body))
        };
        match tokio::time::timeout(self.timeout, read).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout(self.timeout)),
        }
    }

    /// GET and parse JSON into `T`; an answer that is not JSON, or JSON of another shape, is
    /// named as such (with the path of the field at fault).
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path_and_query: &str,
    ) -> Result<T, FetchError> {
        let (content_type, body) = self.get(path_and_query).await?;
        decode_json(&content_type, &body)
    }
}

/// Parses a JSON answer, telling an HTML page or an empty body from JSON of the wrong shape.
pub fn decode_json<T: DeserializeOwned>(content_type: &str, body: &[u8]) -> Result<T, FetchError> {
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| body[i]);
    match start {
        None => return Err(FetchError::WrongFormat("an empty body".into())),
        Some(b'{') | Some(b'[') => {}
        Some(_) => {
            let ct = content_type.split(';').next().unwrap_or("").trim();
            let what = if ct.is_empty() {
                "a body that is not JSON".to_owned()
            } else {
                format!("a {ct} body, not JSON")
            };
            return Err(FetchError::WrongFormat(what));
        }
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let what = if inner.is_eof() {
            "the answer ends early (truncated)".to_owned()
        } else {
            clip_message(&inner.to_string())
        };
        if path.is_empty() || path == "." {
            FetchError::Malformed(what)
        } else {
            FetchError::Malformed(format!("{path}: {what}"))
        }
    })
}

/// A header value holding a secret: never printed by reqwest's or our `Debug`.
pub fn sensitive(value: &str) -> Result<HeaderValue, String> {
    let mut v = HeaderValue::from_str(value)
        .map_err(|_| "the token has characters a header cannot carry".to_owned())?;
    v.set_sensitive(true);
    Ok(v)
}

/// A plain header value.
pub fn plain(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// reqwest's error without its URL (our URLs carry no secret, but the message is shorter and
/// stable), with the innermost cause.
fn describe(e: &reqwest::Error) -> String {
    let mut msg = if e.is_connect() {
        "cannot connect".to_owned()
    } else if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_body() || e.is_decode() {
        "the answer broke off".to_owned()
    } else if e.is_redirect() {
        "too many redirects".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    if let Some(cause) = last {
        msg.push_str(": ");
        msg.push_str(&clip_message(&cause));
    }
    msg
}

fn clip_message(s: &str) -> String {
    super::model::clip(s, 300)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Shape {
        #[serde(rename = "Items")]
        items: Vec<Item>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        #[serde(rename = "Id")]
        id: String,
    }

    #[test]
    fn wrong_answers_are_named() {
        let e = decode_json::<Shape>("text/html; charset=utf-8", b"<html>login</html>")
            .expect_err("html");
        assert_eq!(
            e,
            FetchError::WrongFormat("a text/html body, not JSON".into())
        );
        let e = decode_json::<Shape>("application/json", b"   ").expect_err("empty");
        assert_eq!(e.kind(), "wrong_format");
        let e = decode_json::<Shape>("application/json", br#"{"Items":[{"Id":"a"},{"Id":"#)
            .expect_err("truncated");
        assert!(e.to_string().contains("truncated"), "{e}");
        let e = decode_json::<Shape>("application/json", br#"{"Items":[{"Id":5}]}"#)
            .expect_err("hostile");
        assert!(e.to_string().contains("Items[0].Id"), "{e}");
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let e = decode_json::<Shape>("application/json", deep.as_bytes()).expect_err("deep");
        assert_eq!(e.kind(), "malformed");
    }
}
