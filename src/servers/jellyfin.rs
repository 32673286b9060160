//! Jellyfin and Emby (one API family: Emby is Jellyfin's parent): sessions, catalogue and
//! webhooks. STUB: being written.

use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::client::{FetchError, Http};
use super::model::{
    BadWebhook, ItemPage, RemoteLibrary, RemoteSession, RemoteUser, ServerInfo, Webhook,
};
use crate::secret::Secret;

/// Which of the two servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Jellyfin,
    Emby,
}

#[derive(Debug, Clone)]
pub struct Jellyfin {
    http: Http,
    flavor: Flavor,
}

impl Jellyfin {
    pub fn new(
        base: &str,
        token: &Secret,
        flavor: Flavor,
        timeout: std::time::Duration,
    ) -> Result<Self, String> {
        let _ = token;
        Ok(Self {
            http: Http::new(base, Vec::new(), timeout, super::client::DEFAULT_MAX_BODY)?,
            flavor,
        })
    }

    pub async fn info(&self) -> Result<ServerInfo, FetchError> {
        let _ = (&self.http, self.flavor);
        Err(FetchError::Status(501))
    }

    pub async fn sessions(&self) -> Result<Vec<RemoteSession>, FetchError> {
        Err(FetchError::Status(501))
    }

    pub async fn users(&self) -> Result<Vec<RemoteUser>, FetchError> {
        Err(FetchError::Status(501))
    }

    pub async fn libraries(&self) -> Result<Vec<RemoteLibrary>, FetchError> {
        Err(FetchError::Status(501))
    }

    pub async fn items(
        &self,
        library: &RemoteLibrary,
        since: Option<DateTime<Utc>>,
        start: usize,
        limit: usize,
    ) -> Result<ItemPage, FetchError> {
        let _ = (library, since, start, limit);
        Err(FetchError::Status(501))
    }
}

pub async fn parse_webhook(
    flavor: Flavor,
    content_type: Option<&str>,
    body: &Bytes,
) -> Result<Webhook, BadWebhook> {
    let _ = (flavor, content_type, body);
    Err(BadWebhook::new("body", "not yet supported"))
}
