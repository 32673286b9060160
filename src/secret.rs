//! A value that must never reach a log line or an API answer.

use std::fmt;

/// Holds a secret (token, password, webhook URL). `Debug` and `Display` print a mask, so a
/// secret inside a config struct or an error cannot leak through formatting by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself: call only where it is used (a comparison, a connection).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// A database URL with its password replaced by `***`, for logs and `--help`-style output.
pub fn mask_database_url(url: &str) -> String {
    // postgres://user:password@host/db  ->  postgres://user:***@host/db
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        if let Some(at) = rest.rfind('@') {
            let userinfo = &rest[..at];
            if let Some(colon) = userinfo.find(':') {
                return format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &rest[at..]
                );
            }
        }
        return url.to_owned();
    }
    // key=value form: mask password=...
    url.split_whitespace()
        .map(|part| {
            if part.starts_with("password=") {
                "password=***".to_owned()
            } else {
                part.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_mask_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "\"***\"");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn database_url_password_is_masked() {
        assert_eq!(
            mask_database_url("postgres://cv:s3cret@db:5432/cinevault"),
            "postgres://cv:***@db:5432/cinevault"
        );
        assert_eq!(
            mask_database_url("postgres://cv@db/cinevault"),
            "postgres://cv@db/cinevault"
        );
        assert_eq!(
            mask_database_url("host=/tmp user=cv password=s3cret dbname=x"),
            "host=/tmp user=cv password=*** dbname=x"
        );
    }
}
