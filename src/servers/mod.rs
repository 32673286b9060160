//! Media servers the sidecar watches itself: Jellyfin, Emby and Plex, as many as configured,
//! with nothing installed on them but an API key. Each server's worker polls its sessions
//! endpoint, keeps its catalogue in sync and takes its webhooks; what it sees goes through
//! the same writer as the ingest API (src/ingest), under ids of its own (src/servers/ids.rs).

pub mod client;
pub mod fake;
pub mod form;
pub mod ids;
pub mod jellyfin;
pub mod model;
pub mod plex;

use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use self::client::FetchError;
use self::model::{
    BadWebhook, ItemPage, RemoteLibrary, RemoteSession, RemoteUser, ServerInfo, ServerKind, Webhook,
};
use crate::secret::Secret;

/// One server's API, whatever its kind.
#[derive(Debug, Clone)]
pub enum Connector {
    Jellyfin(jellyfin::Jellyfin),
    Plex(plex::Plex),
}

impl Connector {
    /// A connector for the server at `url` (no trailing slash needed), authenticated by
    /// `token`; every request gives up after `timeout`.
    pub fn new(
        kind: ServerKind,
        url: &str,
        token: &Secret,
        timeout: Duration,
    ) -> Result<Self, String> {
        Ok(match kind {
            ServerKind::Jellyfin => Connector::Jellyfin(jellyfin::Jellyfin::new(
                url,
                token,
                jellyfin::Flavor::Jellyfin,
                timeout,
            )?),
            ServerKind::Emby => Connector::Jellyfin(jellyfin::Jellyfin::new(
                url,
                token,
                jellyfin::Flavor::Emby,
                timeout,
            )?),
            ServerKind::Plex => Connector::Plex(plex::Plex::new(url, token, timeout)?),
        })
    }

    /// Who the server is: its id, name and version (also proves the token).
    pub async fn info(&self) -> Result<ServerInfo, FetchError> {
        match self {
            Connector::Jellyfin(c) => c.info().await,
            Connector::Plex(c) => c.info().await,
        }
    }

    /// The sessions that play something now (idle clients are left out).
    pub async fn sessions(&self) -> Result<Vec<RemoteSession>, FetchError> {
        match self {
            Connector::Jellyfin(c) => c.sessions().await,
            Connector::Plex(c) => c.sessions().await,
        }
    }

    pub async fn users(&self) -> Result<Vec<RemoteUser>, FetchError> {
        match self {
            Connector::Jellyfin(c) => c.users().await,
            Connector::Plex(c) => c.users().await,
        }
    }

    pub async fn libraries(&self) -> Result<Vec<RemoteLibrary>, FetchError> {
        match self {
            Connector::Jellyfin(c) => c.libraries().await,
            Connector::Plex(c) => c.libraries().await,
        }
    }

    /// One page of `library`'s items (movies, episodes, tracks; not series, seasons or
    /// albums), from `start`, at most `limit`; only those changed at or after `since` when
    /// given. Paging is stable for a library that does not change meanwhile.
    pub async fn items(
        &self,
        library: &RemoteLibrary,
        since: Option<DateTime<Utc>>,
        start: usize,
        limit: usize,
    ) -> Result<ItemPage, FetchError> {
        match self {
            Connector::Jellyfin(c) => c.items(library, since, start, limit).await,
            Connector::Plex(c) => c.items(library, since, start, limit).await,
        }
    }
}

/// Reads a webhook body of a server of `kind`.
pub async fn parse_webhook(
    kind: ServerKind,
    content_type: Option<&str>,
    body: &Bytes,
) -> Result<Webhook, BadWebhook> {
    match kind {
        ServerKind::Jellyfin => {
            jellyfin::parse_webhook(jellyfin::Flavor::Jellyfin, content_type, body).await
        }
        ServerKind::Emby => {
            jellyfin::parse_webhook(jellyfin::Flavor::Emby, content_type, body).await
        }
        ServerKind::Plex => plex::parse_webhook(content_type, body).await,
    }
}
