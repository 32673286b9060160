//! Local fake Jellyfin, Emby and Plex servers for tests, the demo and the benchmarks. A media
//! server cannot run here, so these answer in the real servers' formats (the endpoints, field
//! names, units and quirks of `shared/reference/media-servers.md` and the servers' own
//! source), from a [`World`] the caller changes over time: sessions start, move, pause,
//! transcode and stop; the catalogue grows; the server goes down, slows, or answers garbage.
//!
//! Each kind renders the world in its own module (`jellyfin.rs` for Jellyfin and Emby,
//! `plex.rs`); this module holds the world, the faults (applied before any kind's handler) and
//! the listener, which can be stopped and started again on the same port (an outage).

pub mod jellyfin;
pub mod plex;
pub mod simulate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::model::ServerKind;
use crate::ingest::events::MediaType;

#[derive(Debug, Clone)]
pub struct FakeUser {
    pub id: String,
    pub name: String,
    pub admin: bool,
}

#[derive(Debug, Clone)]
pub struct FakeLibrary {
    pub id: String,
    pub name: String,
    pub media_type: MediaType,
}

#[derive(Debug, Clone)]
pub struct FakeItem {
    pub id: String,
    pub library_id: String,
    /// The item's own name (an episode's name, not the series').
    pub name: String,
    /// `Movies`, `TvShows` (an episode), `Music` (a track), ...
    pub media_type: MediaType,
    pub series: Option<String>,
    pub season: Option<i64>,
    pub episode: Option<i64>,
    pub year: Option<i32>,
    pub overview: Option<String>,
    pub has_poster: bool,
    pub genres: Vec<String>,
    pub runtime_seconds: i64,
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// `Dolby Vision`, `HDR10`, `HLG`, or `None` for SDR.
    pub hdr: Option<String>,
    /// `TrueHD Atmos` and the like; `None` for plain audio.
    pub audio_format: Option<String>,
    pub audio_channels: Option<i64>,
    pub container: Option<String>,
    pub path: Option<String>,
    pub size: Option<i64>,
    /// The file's bitrate, kbit/s.
    pub bitrate_kbps: Option<i64>,
    pub added_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How a session is delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FakePlay {
    DirectPlay,
    /// Video and audio copied into another container (Jellyfin "Remux", Plex "Direct
    /// Stream").
    Remux,
    /// Video copied, audio transcoded.
    AudioTranscode {
        output_audio_codec: String,
    },
    /// Video transcoded. `hw` is the engine the server uses (`nvenc`, `qsv`, `vaapi`) or
    /// `None` for software; `error` is the server's own transcoder error flag (Plex).
    Transcode {
        output_codec: String,
        output_height: i64,
        hw: Option<String>,
        error: bool,
    },
}

#[derive(Debug, Clone)]
pub struct FakeSession {
    /// The server's session id (Jellyfin/Emby `Id`, Plex `Session.id`).
    pub session_id: String,
    /// Plex's `sessionKey` (a small number); others ignore it.
    pub session_key: String,
    pub user_id: String,
    pub item_id: String,
    pub device_id: String,
    /// The application (`Jellyfin Web`, `Plex Web`, `Emby Theater`).
    pub product: String,
    pub device: String,
    pub platform: String,
    pub address: String,
    pub paused: bool,
    pub position_seconds: i64,
    pub play: FakePlay,
    /// Bytes the transcoder has written (Plex `TranscodeSession.size`); -22 when unknown, as
    /// Plex writes it.
    pub transcode_bytes: i64,
    /// Jellyfin's `DirectPlayError` transcode reason (the client fell back after a direct
    /// play failed).
    pub direct_play_error: bool,
}

/// What the server does instead of answering normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Every request gets this status (401, 403, 500, 502, ...) with a short text body.
    Status(u16),
    /// 200 with an HTML page (a reverse proxy's login page).
    Html,
    /// The real answer cut in half.
    Truncated,
    /// 200 with JSON of the wrong shape: wrong types where the API has lists and strings, and
    /// nesting deep enough to exhaust a naive parser.
    Hostile,
    /// 200 with a valid-looking body of this many bytes.
    Huge(usize),
    /// Answer normally after this delay.
    Slow(Duration),
}

/// Everything a fake server knows. Change it between polls to script what happens.
#[derive(Debug, Clone)]
pub struct World {
    pub kind: ServerKind,
    /// The server's own id (Jellyfin/Emby `Id`, Plex `machineIdentifier`).
    pub server_id: String,
    pub name: String,
    pub version: String,
    /// The token the server accepts.
    pub token: String,
    pub users: Vec<FakeUser>,
    pub libraries: Vec<FakeLibrary>,
    pub items: Vec<FakeItem>,
    pub sessions: Vec<FakeSession>,
    /// Jellyfin's configured `HardwareAccelerationType` (`none`, `nvenc`, ...), reported for
    /// every transcode whatever it really used.
    pub configured_hw: String,
    pub fault: Option<Fault>,
    /// Requests served, by path (faults included).
    pub requests: BTreeMap<String, u64>,
}

impl World {
    /// An empty server of `kind` with one admin user.
    pub fn new(kind: ServerKind, server_id: &str, token: &str) -> Self {
        Self {
            kind,
            server_id: server_id.to_owned(),
            name: format!("Fake {}", kind.as_str()),
            version: match kind {
                ServerKind::Jellyfin => "10.11.2".to_owned(),
                ServerKind::Emby => "4.8.10.0".to_owned(),
                ServerKind::Plex => "1.41.3.9314-a0bfb8370".to_owned(),
            },
            token: token.to_owned(),
            users: Vec::new(),
            libraries: Vec::new(),
            items: Vec::new(),
            sessions: Vec::new(),
            configured_hw: "none".to_owned(),
            fault: None,
            requests: BTreeMap::new(),
        }
    }

    pub fn item(&self, id: &str) -> Option<&FakeItem> {
        self.items.iter().find(|i| i.id == id)
    }

    pub fn user(&self, id: &str) -> Option<&FakeUser> {
        self.users.iter().find(|u| u.id == id)
    }

    /// How many requests were made to `path`.
    pub fn requests_to(&self, path: &str) -> u64 {
        self.requests.get(path).copied().unwrap_or(0)
    }
}

/// The world as the handlers share it.
#[derive(Clone)]
pub struct Shared(Arc<Mutex<World>>);

impl Shared {
    pub fn new(world: World) -> Self {
        Self(Arc::new(Mutex::new(world)))
    }

    pub fn lock(&self) -> MutexGuard<'_, World> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running fake server.
pub struct FakeServer {
    pub addr: SocketAddr,
    pub world: Shared,
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl FakeServer {
    /// Starts a fake of `world.kind` on 127.0.0.1 (a free port).
    pub async fn start(world: World) -> std::io::Result<Self> {
        Self::start_at(
            Shared::new(world),
            "127.0.0.1:0".parse().expect("literal address"),
        )
        .await
    }

    async fn start_at(world: Shared, addr: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let stop = CancellationToken::new();
        let app = router(world.clone());
        let token = stop.clone();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { token.cancelled().await })
                .await;
        });
        Ok(Self {
            addr,
            world,
            stop,
            task: Some(task),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock()
    }

    /// Stops answering: the port is closed (connections are refused), as when the server is
    /// down.
    pub async fn stop(&mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Starts again on the same port, with the same world.
    pub async fn restart(&mut self) -> std::io::Result<()> {
        self.stop().await;
        let mut last = None;
        for _ in 0..50 {
            match Self::start_at(self.world.clone(), self.addr).await {
                Ok(again) => {
                    let mut again = again;
                    self.stop = again.stop.clone();
                    self.task = again.task.take();
                    return Ok(());
                }
                Err(e) => {
                    last = Some(e);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("cannot bind again")))
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The kind's routes behind the request counter and the fault injector.
pub fn router(world: Shared) -> Router {
    let kind = world.lock().kind;
    let routes = match kind {
        ServerKind::Jellyfin | ServerKind::Emby => jellyfin::router(world.clone()),
        ServerKind::Plex => plex::router(world.clone()),
    };
    routes.layer(middleware::from_fn_with_state(world, faults))
}

async fn faults(State(world): State<Shared>, req: Request, next: Next) -> Response {
    let fault = {
        let mut w = world.lock();
        *w.requests.entry(req.uri().path().to_owned()).or_default() += 1;
        w.fault.clone()
    };
    match fault {
        None => next.run(req).await,
        Some(Fault::Slow(d)) => {
            tokio::time::sleep(d).await;
            next.run(req).await
        }
        Some(Fault::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, status.canonical_reason().unwrap_or("error")).into_response()
        }
        Some(Fault::Html) => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!DOCTYPE html><html><head><title>Sign in</title></head><body><form>\
             <input name=password type=password></form></body></html>",
        )
            .into_response(),
        Some(Fault::Truncated) => {
            let res = next.run(req).await;
            let (parts, body) = res.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let cut = bytes.slice(0..bytes.len() / 2);
            let mut res = Response::from_parts(parts, Body::from(cut));
            res.headers_mut().remove(header::CONTENT_LENGTH);
            res
        }
        Some(Fault::Hostile) => (
            [(header::CONTENT_TYPE, "application/json")],
            format!(
                "{{\"Items\":\"none\",\"MediaContainer\":{{\"Metadata\":7,\"size\":\"x\"}},\
                 \"Id\":{{\"$gt\":\"\"}},\"Version\":[1],\"ServerName\":null,\
                 \"deep\":{}{}}}",
                "[".repeat(5_000),
                "]".repeat(5_000)
            ),
        )
            .into_response(),
        Some(Fault::Huge(n)) => {
            // Streamed, so the fake itself never holds it: {"Items":[ "aaaa..." ]}
            let head = bytes::Bytes::from_static(b"{\"Items\":[\"");
            let tail = bytes::Bytes::from_static(b"\"]}");
            let chunk = bytes::Bytes::from(vec![b'a'; 64 * 1024]);
            let chunks = n / chunk.len() + 1;
            let stream = futures_util::stream::iter(
                std::iter::once(head)
                    .chain(std::iter::repeat(chunk).take(chunks))
                    .chain(std::iter::once(tail))
                    .map(Ok::<_, std::io::Error>),
            );
            (
                [(header::CONTENT_TYPE, "application/json")],
                Body::from_stream(stream),
            )
                .into_response()
        }
    }
}
