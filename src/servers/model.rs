//! What a media server reports, in one shape for all three kinds. Each connector
//! (src/servers/jellyfin.rs for Jellyfin and Emby, src/servers/plex.rs) turns its server's
//! answers into these types; the tracker (src/servers/tracker.rs) and the catalogue sync
//! (src/servers/catalogue.rs) never see a server's own format.
//!
//! Every id here is the server's own (native) id as text, exactly as the server writes it
//! (Jellyfin's dashless GUIDs, Plex's numeric ratingKeys); src/servers/ids.rs makes them UUIDs.

use chrono::{DateTime, Utc};

use crate::ingest::events::{MediaType, PlaybackType};

/// The kinds of media server the sidecar watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerKind {
    Jellyfin,
    Plex,
    Emby,
}

impl ServerKind {
    pub const ALL: [ServerKind; 3] = [Self::Jellyfin, Self::Plex, Self::Emby];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jellyfin => "jellyfin",
            Self::Plex => "plex",
            Self::Emby => "emby",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for ServerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the server says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// The server's own stable id (Jellyfin/Emby `Id` of /System/Info, Plex
    /// `machineIdentifier`): the namespace of every UUID made from this server's ids.
    pub id: String,
    /// The name the server gives itself (`ServerName`, `friendlyName`).
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUser {
    pub id: String,
    pub name: String,
    /// `None` where the answer does not say (a session or a webhook names the user only).
    pub is_admin: Option<bool>,
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteLibrary {
    pub id: String,
    pub name: String,
    pub media_type: MediaType,
}

/// A media item, as much of it as the answer carries (a session's or a webhook's item
/// carries less than the catalogue's; missing is `None`, never a guess).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RemoteItem {
    pub id: String,
    pub library_id: Option<String>,
    /// For an episode: "Series S01E02 Episode title" (see [`episode_title`]).
    pub title: String,
    /// `None`: the kind is not known (then `movies` for a movie library's item, etc.).
    pub media_type: Option<MediaType>,
    pub year: Option<i32>,
    pub overview: Option<String>,
    /// A reference to the server's primary image when the item has one (e.g.
    /// `jellyfin:/Items/<id>/Images/Primary`, `plex:/library/metadata/1/thumb/1`); `None` when
    /// the server says it has none.
    pub poster: Option<String>,
    pub genres: Vec<String>,
    pub runtime_seconds: Option<i32>,
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    /// `4K`, `1080p`, `720p`, `480p` or `SD` ([`resolution_label`]).
    pub resolution: Option<String>,
    /// `Dolby Vision`, `HDR10`, `HDR10+` or `HLG`; `None` for SDR.
    pub hdr_format: Option<String>,
    /// The audio format's name, e.g. `TrueHD Atmos`, `EAC3 Atmos`, `DTS-HD MA`, `AAC`.
    pub audio_format: Option<String>,
    pub container: Option<String>,
    pub file_path: Option<String>,
    pub file_size: Option<i64>,
    pub added_at: Option<DateTime<Utc>>,
    /// When the server last changed the item (the incremental sync's cursor).
    pub updated_at: Option<DateTime<Utc>>,
}

impl RemoteItem {
    pub fn with_id(id: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
            ..Self::default()
        }
    }
}

/// One page of a library's items.
#[derive(Debug, Clone, Default)]
pub struct ItemPage {
    pub items: Vec<RemoteItem>,
    /// The library's total (of the query) when the server says it.
    pub total: Option<usize>,
}

/// Where the client that plays is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemoteClient {
    /// The application (`Jellyfin Web`, `Plex for Android (TV)`, `Infuse`).
    pub product: Option<String>,
    /// The device's name (`Living Room TV`, `Chrome`).
    pub device: Option<String>,
    /// The platform (`Android`, `Chrome`, `tvOS`, `Windows`).
    pub platform: Option<String>,
    /// The device's own id (Jellyfin/Emby `DeviceId`, Plex `machineIdentifier` / webhook
    /// `Player.uuid`): with the user and the item, it matches webhooks to polled sessions.
    pub device_id: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayState {
    Playing,
    Paused,
    Buffering,
}

/// Whether the server proves that a transcode ran in hardware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HwAccel {
    /// The server reports hardware encoding for this very transcode (Plex
    /// `transcodeHwEncoding`, Emby `VideoEncoderIsHardware`): `<codec>_<engine>`, e.g.
    /// `h264_nvenc`.
    Proven(String),
    /// The server only says what it is configured to use (Jellyfin's
    /// `HardwareAccelerationType`): `<codec>_<engine>`; the transcode is recorded as software
    /// with this value beside it, marked configured.
    Configured(String),
    Software,
}

/// A transcode the server runs for a session.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteTranscode {
    pub input_codec: Option<String>,
    pub output_codec: Option<String>,
    pub input_resolution: Option<String>,
    pub output_resolution: Option<String>,
    pub hw_accel: HwAccel,
    /// The transcode's own decisions (`transcode`, `copy`, `directplay`), for the record.
    pub video_decision: Option<String>,
    pub audio_decision: Option<String>,
    /// Bytes the transcoder has written so far, where the server counts them (Plex
    /// `TranscodeSession.size` when not negative).
    pub bytes: Option<i64>,
    /// The server's own error for this transcode (Plex `error`): it failed.
    pub error: Option<String>,
}

/// One playing (or paused) session as a poll of the sessions endpoint lists it. Sessions with
/// nothing playing are not listed.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteSession {
    /// The server's own id of the session (Jellyfin/Emby session `Id`, Plex `Session.id`, or
    /// `sessionKey` where that is missing). For the record only: plays are matched on
    /// [`RemoteSession::play_key`].
    pub session_id: String,
    pub user: RemoteUser,
    pub item: RemoteItem,
    pub client: RemoteClient,
    pub state: PlayState,
    pub position_seconds: Option<i64>,
    pub playback_type: PlaybackType,
    /// A label of what is delivered, e.g. `1080p`, `4K`, `720p 4Mbps`.
    pub quality: Option<String>,
    /// The delivered video (or, for music, audio) codec, resolution and container.
    pub codec: Option<String>,
    pub resolution: Option<String>,
    pub container: Option<String>,
    /// The delivered bitrate in kbit/s (for the bytes estimate where the server counts none).
    pub bitrate_kbps: Option<i64>,
    pub transcode: Option<RemoteTranscode>,
    /// A stream error the server reports for this session (not a transcode's own error),
    /// e.g. Jellyfin's `DirectPlayError` transcode reason.
    pub error: Option<String>,
}

/// What identifies one play on a server across polls and webhooks: the device, the user and
/// the item. A client playing the same item again after a stop is a new play with the same
/// key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlayKey {
    pub device_id: String,
    pub user_id: String,
    pub item_id: String,
}

impl PlayKey {
    /// As stored in `stream_sessions.server_session_key`: the three parts joined by `|`,
    /// each with `%` and `|` escaped, so that any id round-trips.
    pub fn to_key_string(&self) -> String {
        let esc = |s: &str| s.replace('%', "%25").replace('|', "%7C");
        format!(
            "{}|{}|{}",
            esc(&self.device_id),
            esc(&self.user_id),
            esc(&self.item_id)
        )
    }

    pub fn parse(s: &str) -> Option<Self> {
        let unesc = |s: &str| s.replace("%7C", "|").replace("%25", "%");
        let mut parts = s.split('|');
        let key = Self {
            device_id: unesc(parts.next()?),
            user_id: unesc(parts.next()?),
            item_id: unesc(parts.next()?),
        };
        parts.next().is_none().then_some(key)
    }
}

impl RemoteSession {
    /// The play this session is; a session without a device id falls back to its own id.
    pub fn play_key(&self) -> PlayKey {
        PlayKey {
            device_id: self
                .client
                .device_id
                .clone()
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| format!("session:{}", self.session_id)),
            user_id: self.user.id.clone(),
            item_id: self.item.id.clone(),
        }
    }
}

/// What a webhook says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookAction {
    Start,
    Pause,
    Resume,
    /// A progress report (Jellyfin's `PlaybackProgress`, about once a second).
    Progress,
    Stop,
}

/// A playback webhook, parsed. Webhooks of other events are [`Webhook::Ignored`].
#[derive(Debug, Clone, PartialEq)]
pub struct PlaybackWebhook {
    pub action: WebhookAction,
    /// The server's id as the payload gives it (Jellyfin `ServerId`, Plex `Server.uuid`, Emby
    /// `Server.Id`); checked against the configured server's.
    pub server_id: Option<String>,
    pub user: RemoteUser,
    pub item: RemoteItem,
    pub client: RemoteClient,
    pub session_id: Option<String>,
    pub position_seconds: Option<i64>,
    /// The play method where the payload says it (Jellyfin plugin v12+ `PlayMethod`);
    /// `Transcode` there cannot tell a remux from a transcode.
    pub playback_type: Option<PlaybackType>,
    pub paused: Option<bool>,
    /// When the server says the event happened; else the time it arrived.
    pub at: Option<DateTime<Utc>>,
}

impl PlaybackWebhook {
    pub fn play_key(&self) -> PlayKey {
        PlayKey {
            device_id: self
                .client
                .device_id
                .clone()
                .filter(|d| !d.is_empty())
                .or_else(|| self.session_id.as_ref().map(|s| format!("session:{s}")))
                .unwrap_or_default(),
            user_id: self.user.id.clone(),
            item_id: self.item.id.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Webhook {
    Playback(Box<PlaybackWebhook>),
    /// A well-formed event the sidecar does not use (its name, for the log and the answer).
    Ignored(String),
}

/// A webhook body that cannot be read: what is wrong and where (`payload`, `Event`,
/// `Metadata.ratingKey`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadWebhook {
    pub field: String,
    pub message: String,
}

impl BadWebhook {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// CineVault's resolution labels from a frame size: the larger of the width class and the
/// height class, so that 1920x800 (scope) is 1080p and 3840x1600 is 4K.
pub fn resolution_label(width: Option<i64>, height: Option<i64>) -> Option<String> {
    let w = width.filter(|w| *w > 0);
    let h = height.filter(|h| *h > 0);
    if w.is_none() && h.is_none() {
        return None;
    }
    let by_width = match w {
        Some(w) if w >= 3200 => 4,
        Some(w) if w >= 1600 => 3,
        Some(w) if w >= 1100 => 2,
        Some(w) if w >= 700 => 1,
        Some(_) => 0,
        None => 0,
    };
    let by_height = match h {
        Some(h) if h >= 1800 => 4,
        Some(h) if h >= 900 => 3,
        Some(h) if h >= 650 => 2,
        Some(h) if h >= 460 => 1,
        Some(_) => 0,
        None => 0,
    };
    Some(
        match by_width.max(by_height) {
            4 => "4K",
            3 => "1080p",
            2 => "720p",
            1 => "480p",
            _ => "SD",
        }
        .to_owned(),
    )
}

/// CineVault's label for a server's resolution name (Plex `videoResolution`: `4k`, `1080`,
/// `720`, `480`, `sd`).
pub fn resolution_from_name(name: &str) -> Option<String> {
    let n = name.trim().to_ascii_lowercase();
    let label = match n.trim_end_matches('p') {
        "" => return None,
        "4k" | "2160" | "uhd" => "4K",
        "1080" | "fhd" => "1080p",
        "720" | "hd" => "720p",
        "480" | "576" => "480p",
        "sd" | "360" | "240" => "SD",
        _ => return None,
    };
    Some(label.to_owned())
}

/// An episode's title as the analytics show it: `Series S01E02 Episode title` (parts that are
/// missing are left out).
pub fn episode_title(
    series: Option<&str>,
    season: Option<i64>,
    episode: Option<i64>,
    name: &str,
) -> String {
    let mut out = String::new();
    if let Some(s) = series.map(str::trim).filter(|s| !s.is_empty()) {
        out.push_str(s);
    }
    match (season, episode) {
        (Some(s), Some(e)) => {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&format!("S{s:02}E{e:02}"));
        }
        (None, Some(e)) => {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&format!("E{e:02}"));
        }
        _ => {}
    }
    let name = name.trim();
    if !name.is_empty() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(name);
    }
    if out.is_empty() {
        "Untitled".to_owned()
    } else {
        out
    }
}

/// The text cut to `max` characters (the columns' limits), on a character boundary.
pub fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s[..i].to_owned(),
        None => s.to_owned(),
    }
}

/// Ticks (100 ns, Jellyfin and Emby) to whole seconds.
pub fn ticks_to_seconds(ticks: i64) -> i64 {
    ticks.max(0) / 10_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_follow_the_larger_class() {
        assert_eq!(
            resolution_label(Some(1920), Some(800)).as_deref(),
            Some("1080p")
        );
        assert_eq!(
            resolution_label(Some(3840), Some(1600)).as_deref(),
            Some("4K")
        );
        assert_eq!(
            resolution_label(Some(1280), Some(720)).as_deref(),
            Some("720p")
        );
        assert_eq!(
            resolution_label(Some(720), Some(576)).as_deref(),
            Some("480p")
        );
        assert_eq!(
            resolution_label(Some(640), Some(360)).as_deref(),
            Some("SD")
        );
        assert_eq!(resolution_label(None, Some(0)), None);
        assert_eq!(resolution_from_name("4k").as_deref(), Some("4K"));
        assert_eq!(resolution_from_name("1080").as_deref(), Some("1080p"));
        assert_eq!(resolution_from_name("sd").as_deref(), Some("SD"));
        assert_eq!(resolution_from_name("weird"), None);
    }

    #[test]
    fn episode_titles_and_keys() {
        assert_eq!(
            episode_title(Some("Severance"), Some(1), Some(3), "In Perpetuity"),
            "Severance S01E03 In Perpetuity"
        );
        assert_eq!(episode_title(None, None, None, "  "), "Untitled");
        let k = PlayKey {
            device_id: "dev|ice".into(),
            user_id: "u".into(),
            item_id: "i".into(),
        };
        assert_eq!(k.to_key_string(), "dev%7Cice|u|i");
        assert_eq!(PlayKey::parse(&k.to_key_string()), Some(k));
        assert_eq!(PlayKey::parse("a|b"), None);
        assert_eq!(clip("héllo", 2), "hé");
        assert_eq!(ticks_to_seconds(1_234_567_890), 123);
    }
}
