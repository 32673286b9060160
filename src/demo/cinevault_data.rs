//! Pure generation of the CineVault-shaped demo (`demo --cinevault`) from a seeded random
//! generator: the rows CineVault's own code would have written over 60 days of use, with
//! the values its code really writes (shared/reference/cinevault-real.md §1, §2, §3, §7).
//!
//! - **Core rows** as its scanner, metadata task and user handlers write them: `media_type`
//!   copied from the library (an episode is `tv_shows`), ffprobe's `codec` names, resolution
//!   `4K`/`1080p`/`720p`/`480p`/`SD`, `hdr_format` NULL or `Dolby Vision`/`HDR10`/`HLG` with
//!   `dynamic_range`, `container` = the file extension, `audio_format` NULL for video (its
//!   INSERT does not list the column), posters at `/previews/posters/<id>.jpg`, genres as
//!   `tags` + `media_tags`, household sub-profiles as users with a parent.
//! - **stream_sessions** as its stream handlers write them: one row per HTTP request to
//!   `/stream/{id}/direct` (a first long request, range probes and seeks seconds apart, each
//!   ended with `bytes_served` 0 and `duration_seconds` = the request's wall time;
//!   `direct_play` for .mp4/.webm/.m4v, else `direct_stream`), and one never-ended row per
//!   new in-memory HLS transcoder session (key: item and quality, no user; dropped 30 minutes
//!   after its last use, and by a restart). A CineVault restart 23 days ago left the requests
//!   it cut open for good.
//! - **watch_history** as its web player reports: once, when the player closes (the position,
//!   `completed` almost never set); the music player reports progress 0 when it starts a track
//!   itself (not on a gapless change), which also bumps `play_count`.
//! - What its always-on workers write: `system_metrics` every minute for the last day (CPU
//!   averaged since boot, memory in MiB, disk in GiB with free = Bavail, `active_streams` =
//!   every `is_active` row, never-ended transcodes included) and `daily_stats` for the last 30
//!   UTC days, as its rollup computes them at 00:05 (request rows counted as plays).
//!
//! Nothing goes to transcode_history: CineVault never writes it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use uuid::Uuid;

use super::generate::demo_id;

/// Days of CineVault use the demo holds.
pub const HISTORY_DAYS: i64 = 60;
/// UTC days of CineVault-computed daily_stats rows.
pub const DAILY_STATS_DAYS: i64 = 30;
/// CineVault's transcoder drops an idle in-memory session after this long.
const TRANSCODER_IDLE_MINUTES: i64 = 30;
/// How long the restarted CineVault was away.
const RESTART_DOWNTIME_SECONDS: i64 = 40;

/// The demo's admin; its presence marks a database as seeded by `demo --cinevault`.
pub fn marker_user_id() -> Uuid {
    demo_id("cv-user", 0)
}

pub struct User {
    pub id: Uuid,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub pin_hash: Option<String>,
    pub display_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: &'static str,
    pub is_active: bool,
    pub max_content_rating: Option<&'static str>,
    pub is_kids_profile: bool,
    pub parent_user_id: Option<Uuid>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Demo only: how much the user watches, what, on which devices, from when to when.
    weight: u32,
    taste: [u32; 4],
    devices: Vec<&'static str>,
    transcode_share: f64,
    active_from: DateTime<Utc>,
    active_until: Option<DateTime<Utc>>,
}

pub struct Library {
    pub id: Uuid,
    pub name: &'static str,
    pub media_type: &'static str,
    pub path: &'static str,
    pub created_at: NaiveDateTime,
}

pub struct MediaItem {
    pub id: Uuid,
    pub library_id: Uuid,
    pub media_type: &'static str,
    pub file_path: String,
    pub file_name: String,
    pub file_size: i64,
    pub title: String,
    pub description: Option<String>,
    pub year: Option<i32>,
    pub duration_seconds: Option<i32>,
    pub resolution: Option<&'static str>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub codec: Option<&'static str>,
    pub container: &'static str,
    pub bitrate: Option<i64>,
    pub framerate: Option<f64>,
    pub audio_codec: Option<&'static str>,
    pub audio_channels: Option<i32>,
    pub poster_path: Option<String>,
    pub tv_show_id: Option<Uuid>,
    pub tv_season_id: Option<Uuid>,
    pub episode_number: Option<i32>,
    pub hdr_format: Option<&'static str>,
    pub dynamic_range: &'static str,
    pub parent_media_id: Option<Uuid>,
    pub extra_type: Option<&'static str>,
    pub added_at: NaiveDateTime,
    pub genres: Vec<&'static str>,
    pub play_count: i32,
    pub last_played_at: Option<NaiveDateTime>,
}

/// One stream_sessions row as CineVault's handlers leave it (`bytes_served` is always 0).
pub struct Row {
    pub id: Uuid,
    pub user_id: Uuid,
    pub media_item_id: Uuid,
    pub playback_type: &'static str,
    pub quality: Option<&'static str>,
    pub codec: Option<&'static str>,
    pub resolution: Option<&'static str>,
    pub container: Option<&'static str>,
    pub client_info: Option<&'static str>,
    pub started_at: DateTime<Utc>,
    /// None: never ended (every transcode row, a request cut by a restart, one still going).
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_seconds: i32,
}

impl Row {
    pub fn is_active(&self) -> bool {
        self.ended_at.is_none()
    }
}

/// The one watch_history row of a user and item, as the last report left it.
pub struct History {
    pub id: Uuid,
    pub user_id: Uuid,
    pub media_item_id: Uuid,
    pub progress_seconds: i32,
    pub duration_seconds: i32,
    pub completed: bool,
    pub last_watched_at: NaiveDateTime,
}

pub struct Metric {
    pub id: Uuid,
    pub cpu_percent: f32,
    pub memory_percent: f32,
    pub memory_used_mb: i32,
    pub gpu_encoder_percent: Option<f32>,
    pub gpu_memory_percent: Option<f32>,
    pub gpu_temp_celsius: Option<f32>,
    pub disk_total_gb: f32,
    pub disk_used_gb: f32,
    pub disk_free_gb: f32,
    pub active_streams: i32,
    pub active_transcodes: i32,
    pub recorded_at: DateTime<Utc>,
}

/// A daily_stats row as CineVault's rollup upserts it.
pub struct Daily {
    pub id: Uuid,
    pub stat_date: NaiveDate,
    pub total_plays: i32,
    pub unique_users: i32,
    pub total_watch_minutes: i32,
    pub transcodes: i32,
    pub direct_plays: i32,
    pub direct_streams: i32,
    pub new_media_added: i32,
    pub library_size_total: i32,
    pub storage_used_bytes: i64,
}

pub struct Data {
    pub users: Vec<User>,
    pub libraries: Vec<Library>,
    pub items: Vec<MediaItem>,
    pub rows: Vec<Row>,
    pub history: Vec<History>,
    pub metrics: Vec<Metric>,
    pub daily: Vec<Daily>,
    /// Times someone pressed play (a track, an episode, a movie).
    pub viewings: usize,
}

impl Data {
    /// Distinct genre names, sorted.
    pub fn genres(&self) -> Vec<&'static str> {
        let mut g: Vec<&'static str> = self
            .items
            .iter()
            .flat_map(|i| i.genres.iter().copied())
            .collect();
        g.sort_unstable();
        g.dedup();
        g
    }
}

// ─────────────── Vocabulary ───────────────

const ADJECTIVES: &[&str] = &[
    "Silent",
    "Crimson",
    "Hidden",
    "Last",
    "Broken",
    "Golden",
    "Midnight",
    "Distant",
    "Frozen",
    "Burning",
    "Forgotten",
    "Electric",
    "Hollow",
    "Savage",
    "Quiet",
    "Iron",
    "Velvet",
    "Wild",
    "Northern",
    "Paper",
    "Glass",
    "Restless",
];
const NOUNS: &[&str] = &[
    "Harbor", "Kingdom", "Signal", "Frontier", "Garden", "Empire", "Horizon", "Witness", "River",
    "Machine", "Orchard", "Station", "Protocol", "Lantern", "Archive", "Summit", "Tide", "Cipher",
    "Meridian", "Compass", "Quarry", "Vessel",
];
const GENRES: &[&str] = &[
    "Action",
    "Adventure",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Horror",
    "Mystery",
    "Romance",
    "Science Fiction",
    "Thriller",
    "War",
    "Western",
];
const KIDS_GENRES: &[&str] = &["Animation", "Family"];
const MUSIC_GENRES: &[&str] = &["Rock", "Jazz", "Electronic", "Classical", "Hip-Hop"];
const ARTISTS: &[&str] = &[
    "The Night Owls",
    "Mara Quinn",
    "Static Bloom",
    "Juniper Hale",
    "Cold Harbour",
    "Theo Marsh Trio",
    "Neon Parish",
    "Ilse Varga",
    "Low Orbit",
];

// Raw User-Agent headers, as CineVault stores them in client_info.
const UA_CHROME_WIN: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const UA_EDGE_WIN: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";
const UA_FIREFOX_WIN: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const UA_FIREFOX_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const UA_SAFARI_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15";
const UA_CHROME_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const UA_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";
const UA_IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1";
const UA_ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.104 Mobile Safari/537.36";
const UA_TIZEN_TV: &str = "Mozilla/5.0 (SMART-TV; LINUX; Tizen 7.0) AppleWebKit/537.36 (KHTML, like Gecko) 94.0.4606.31/7.0 TV Safari/537.36";
const UA_WEBOS_TV: &str = "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/94.0.4606.128 Safari/537.36 WebAppManager";
const UA_CHROMECAST: &str = "Mozilla/5.0 (X11; Linux armv7l) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 CrKey/1.56.500000";
const UA_VLC: &str = "VLC/3.0.21 LibVLC/3.0.21";

/// Viewing by local hour: quiet nights, a lunch bump, a strong evening peak.
const HOUR_WEIGHTS: [u32; 24] = [
    4, 2, 1, 1, 1, 1, 1, 2, 3, 3, 4, 5, 6, 5, 5, 6, 7, 9, 12, 16, 18, 17, 13, 8,
];
/// A kids' profile watches after school and before bed.
const KIDS_HOUR_WEIGHTS: [u32; 24] = [
    0, 0, 0, 0, 0, 0, 0, 2, 3, 2, 2, 2, 2, 3, 6, 9, 12, 14, 12, 8, 2, 0, 0, 0,
];

// What a sitting is: [movie, episodes, music, home videos].
const MOVIE: usize = 0;
const EPISODES: usize = 1;
const MUSIC: usize = 2;
const HOME: usize = 3;

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

/// Picks from `(value, weight)` pairs.
fn weighted<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.gen_range(0..total.max(1));
    for (v, w) in items {
        if roll < *w {
            return *v;
        }
        roll -= w;
    }
    items[0].0
}

fn millis(rng: &mut StdRng) -> Duration {
    Duration::milliseconds(rng.gen_range(0..1000))
}

pub fn generate(rng: &mut StdRng, now: DateTime<Utc>, tz: Tz) -> Data {
    let libraries = libraries(now);
    let mut items = media_items(rng, &libraries, now);
    let users = users(rng, now);
    let today = now.with_timezone(&tz).date_naive();
    // A CineVault restart (a container update) one evening 23 days ago.
    let restart_at = local_to_utc(
        tz,
        today - Duration::days(23),
        21 * 3600 + 37 * 60 + rng.gen_range(0..60),
    );
    let mut sim = Sim {
        now,
        restart_at,
        back_at: restart_at + Duration::seconds(RESTART_DOWNTIME_SECONDS),
        rows: Vec::new(),
        history: HashMap::new(),
        transcoders: HashMap::new(),
        sessions: Vec::new(),
        viewings: 0,
    };
    sim.run(rng, &mut items, &users, tz);
    let metrics = system_metrics(rng, &sim, &items, now);
    let daily = daily_stats(&sim.rows, &items, now);
    let mut history: Vec<History> = sim.history.into_values().collect();
    history.sort_by_key(|h| (h.last_watched_at, h.id));
    Data {
        users,
        libraries,
        items,
        rows: sim.rows,
        history,
        metrics,
        daily,
        viewings: sim.viewings,
    }
}

fn libraries(now: DateTime<Utc>) -> Vec<Library> {
    let made = |n: usize, name, media_type, path, days: i64| Library {
        id: demo_id("cv-library", n),
        name,
        media_type,
        path,
        created_at: (now - Duration::days(days) - Duration::minutes(17 * n as i64)).naive_utc(),
    };
    vec![
        made(0, "Movies", "movies", "/media/movies", 420),
        made(1, "4K Movies", "movies", "/media/movies-4k", 300),
        made(2, "TV Shows", "tv_shows", "/media/tv", 420),
        made(3, "Music", "music", "/media/music", 250),
        made(4, "Home Videos", "home_videos", "/media/home-videos", 180),
    ]
}

/// When the scanner found an item: most at the library's first scan, a trickle since.
fn added_at(rng: &mut StdRng, lib: &Library, now: DateTime<Utc>) -> NaiveDateTime {
    let first_scan = lib.created_at + Duration::minutes(rng.gen_range(2..240));
    let span = (now.naive_utc() - first_scan).num_minutes().max(1);
    if rng.gen_bool(0.8) {
        first_scan
    } else if rng.gen_bool(0.6) {
        // Recently added: the last 60 days.
        now.naive_utc() - Duration::minutes(rng.gen_range(5..HISTORY_DAYS * 1440))
    } else {
        first_scan + Duration::minutes(rng.gen_range(0..span))
    }
}

/// Typical video bitrate in bits per second, by resolution and codec.
fn video_bitrate(rng: &mut StdRng, resolution: &str, codec: &str) -> i64 {
    let mbps: f64 = match (resolution, codec) {
        ("4K", _) => rng.gen_range(18.0..62.0),
        ("1080p", "hevc") | ("1080p", "av1") => rng.gen_range(4.0..9.0),
        ("1080p", _) => rng.gen_range(7.0..14.0),
        ("720p", _) => rng.gen_range(2.5..5.5),
        ("480p", _) => rng.gen_range(1.2..2.6),
        _ => rng.gen_range(0.7..1.5),
    };
    (mbps * 1_000_000.0) as i64
}

fn dimensions(resolution: &str) -> (i32, i32) {
    match resolution {
        "4K" => (3840, 2160),
        "1080p" => (1920, 1080),
        "720p" => (1280, 720),
        "480p" => (720, 480),
        _ => (640, 360),
    }
}

struct VideoSpec {
    resolution: &'static str,
    codec: &'static str,
    container: &'static str,
    hdr: Option<&'static str>,
    audio_codec: &'static str,
    audio_channels: i32,
}

fn movie_spec(rng: &mut StdRng, uhd: bool) -> VideoSpec {
    let resolution = if uhd {
        "4K"
    } else {
        weighted(
            rng,
            &[
                ("1080p", 60),
                ("720p", 20),
                ("4K", 4),
                ("480p", 9),
                ("SD", 7),
            ],
        )
    };
    let codec = match resolution {
        "4K" => weighted(rng, &[("hevc", 92), ("av1", 8)]),
        "1080p" => weighted(rng, &[("h264", 68), ("hevc", 29), ("av1", 3)]),
        "720p" => weighted(rng, &[("h264", 85), ("hevc", 15)]),
        _ => weighted(rng, &[("h264", 45), ("mpeg4", 35), ("mpeg2video", 20)]),
    };
    let container = match codec {
        "mpeg4" => "avi",
        "mpeg2video" => weighted(rng, &[("mkv", 50), ("mpg", 50)]),
        "av1" => weighted(rng, &[("mkv", 60), ("webm", 40)]),
        "hevc" => weighted(rng, &[("mkv", 82), ("mp4", 18)]),
        _ => weighted(rng, &[("mkv", 58), ("mp4", 36), ("m4v", 6)]),
    };
    let hdr = match resolution {
        "4K" => weighted(
            rng,
            &[
                (Some("HDR10"), 52),
                (Some("Dolby Vision"), 38),
                (Some("HLG"), 3),
                (None, 7),
            ],
        ),
        "1080p" if codec == "hevc" && rng.gen_bool(0.06) => Some("HDR10"),
        _ => None,
    };
    let audio_codec = if uhd || resolution == "4K" {
        weighted(
            rng,
            &[("truehd", 45), ("eac3", 25), ("dts", 20), ("ac3", 10)],
        )
    } else if matches!(codec, "mpeg4" | "mpeg2video") {
        weighted(rng, &[("mp3", 50), ("ac3", 50)])
    } else {
        weighted(
            rng,
            &[
                ("aac", 32),
                ("ac3", 25),
                ("eac3", 15),
                ("dts", 16),
                ("truehd", 12),
            ],
        )
    };
    let audio_channels = match audio_codec {
        "aac" | "mp3" => weighted(rng, &[(2, 80), (6, 20)]),
        "truehd" => weighted(rng, &[(8, 70), (6, 30)]),
        _ => 6,
    };
    VideoSpec {
        resolution,
        codec,
        container,
        hdr,
        audio_codec,
        audio_channels,
    }
}

#[allow(clippy::too_many_arguments)]
fn video_item(
    rng: &mut StdRng,
    n: usize,
    lib: &Library,
    title: String,
    year: i32,
    duration: i32,
    spec: &VideoSpec,
    file_path: String,
    genres: Vec<&'static str>,
    now: DateTime<Utc>,
) -> MediaItem {
    let id = demo_id("cv-media", n);
    let bitrate = video_bitrate(rng, spec.resolution, spec.codec);
    let (width, height) = dimensions(spec.resolution);
    let file_name = file_path
        .rsplit('/')
        .next()
        .unwrap_or(&file_path)
        .to_owned();
    MediaItem {
        id,
        library_id: lib.id,
        media_type: lib.media_type,
        file_size: bitrate / 8 * i64::from(duration) + rng.gen_range(0..50_000_000),
        file_name,
        file_path,
        description: (!rng.gen_bool(0.07)).then(|| {
            format!(
                "When the {} falls silent, {} must cross the {} before the {} is lost.",
                pick(rng, NOUNS).to_lowercase(),
                pick(
                    rng,
                    &[
                        "a retired pilot",
                        "two sisters",
                        "a young archivist",
                        "the crew"
                    ]
                ),
                pick(rng, NOUNS).to_lowercase(),
                pick(rng, NOUNS).to_lowercase(),
            )
        }),
        poster_path: (!rng.gen_bool(0.05)).then(|| format!("/previews/posters/{id}.jpg")),
        title,
        year: Some(year),
        duration_seconds: Some(duration),
        resolution: Some(spec.resolution),
        width: Some(width),
        height: Some(height),
        codec: Some(spec.codec),
        container: spec.container,
        bitrate: Some(bitrate),
        framerate: Some(if spec.codec == "mpeg2video" {
            29.97
        } else {
            weighted(rng, &[(23.976, 85), (24.0, 10), (25.0, 5)])
        }),
        audio_codec: Some(spec.audio_codec),
        audio_channels: Some(spec.audio_channels),
        tv_show_id: None,
        tv_season_id: None,
        episode_number: None,
        hdr_format: spec.hdr,
        dynamic_range: if spec.hdr.is_some() { "HDR" } else { "SDR" },
        parent_media_id: None,
        extra_type: None,
        added_at: added_at(rng, lib, now),
        genres,
        play_count: 0,
        last_played_at: None,
    }
}

/// `file_path` is UNIQUE in CineVault: a clash gets " (2)" before the extension.
fn unique_path(paths: &mut HashSet<String>, path: String) -> String {
    if paths.insert(path.clone()) {
        return path;
    }
    let (stem, ext) = path.rsplit_once('.').unwrap_or((path.as_str(), ""));
    let mut n = 2;
    loop {
        let candidate = format!("{stem} ({n}).{ext}");
        if paths.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

fn genres_for(rng: &mut StdRng, kids: bool) -> Vec<&'static str> {
    if kids {
        let mut g = vec![KIDS_GENRES[0]];
        if rng.gen_bool(0.7) {
            g.push(KIDS_GENRES[1]);
        }
        if rng.gen_bool(0.4) {
            g.push(*pick(rng, &["Adventure", "Comedy", "Fantasy"]));
        }
        return g;
    }
    let n = rng.gen_range(1..4);
    GENRES.choose_multiple(rng, n).copied().collect()
}

fn media_items(rng: &mut StdRng, libs: &[Library], now: DateTime<Utc>) -> Vec<MediaItem> {
    let mut items: Vec<MediaItem> = Vec::with_capacity(1000);
    let mut paths: HashSet<String> = HashSet::new();
    let mut titles: HashSet<(String, i32)> = HashSet::new();

    // Movies: 360, then 20 trailers attached to the first ones (CineVault's extras).
    let lib = &libs[0];
    while items.len() < 360 {
        let title = match rng.gen_range(0..3) {
            0 => format!("The {} {}", pick(rng, ADJECTIVES), pick(rng, NOUNS)),
            1 => format!("{} of the {}", pick(rng, NOUNS), pick(rng, NOUNS)),
            _ => format!("{} {}", pick(rng, ADJECTIVES), pick(rng, NOUNS)),
        };
        let year = rng.gen_range(1968..2026);
        if !titles.insert((title.clone(), year)) {
            continue;
        }
        let kids = rng.gen_bool(0.12);
        let spec = movie_spec(rng, false);
        let path = unique_path(
            &mut paths,
            format!(
                "{}/{title} ({year})/{title} ({year}).{}",
                lib.path, spec.container
            ),
        );
        let duration = rng.gen_range(84 * 60..168 * 60);
        let genres = genres_for(rng, kids);
        let n = items.len();
        items.push(video_item(
            rng, n, lib, title, year, duration, &spec, path, genres, now,
        ));
    }
    for k in 0..20 {
        let parent = &items[k * 7];
        let n = items.len();
        let id = demo_id("cv-media", n);
        let path = unique_path(
            &mut paths,
            format!(
                "{}/{} ({})/Trailers/{} - Trailer.mp4",
                lib.path,
                parent.title,
                parent.year.unwrap_or(2000),
                parent.title
            ),
        );
        let duration = rng.gen_range(95..165);
        let bitrate = video_bitrate(rng, "1080p", "h264");
        items.push(MediaItem {
            id,
            library_id: lib.id,
            media_type: lib.media_type,
            file_name: path.rsplit('/').next().unwrap_or_default().to_owned(),
            file_path: path,
            file_size: bitrate / 8 * i64::from(duration),
            title: format!("{} - Trailer", parent.title),
            description: None,
            year: parent.year,
            duration_seconds: Some(duration),
            resolution: Some("1080p"),
            width: Some(1920),
            height: Some(1080),
            codec: Some("h264"),
            container: "mp4",
            bitrate: Some(bitrate),
            framerate: Some(23.976),
            audio_codec: Some("aac"),
            audio_channels: Some(2),
            poster_path: None,
            tv_show_id: None,
            tv_season_id: None,
            episode_number: None,
            hdr_format: None,
            dynamic_range: "SDR",
            parent_media_id: Some(parent.id),
            extra_type: Some("trailer"),
            added_at: parent.added_at + Duration::minutes(rng.gen_range(1..30)),
            genres: Vec::new(),
            play_count: 0,
            last_played_at: None,
        });
    }

    // 4K Movies: 30 UHD copies of titles in Movies, 30 of their own.
    let lib = &libs[1];
    for k in 0..60 {
        let (title, year, genres, duration) = if k < 30 {
            let m = &items[k * 11 + 3];
            (
                m.title.clone(),
                m.year.unwrap_or(2000),
                m.genres.clone(),
                m.duration_seconds.unwrap_or(6000) + rng.gen_range(-3..4),
            )
        } else {
            loop {
                let title = format!("The {} {}", pick(rng, ADJECTIVES), pick(rng, NOUNS));
                let year = rng.gen_range(2012..2026);
                if titles.insert((title.clone(), year)) {
                    break (
                        title,
                        year,
                        genres_for(rng, false),
                        rng.gen_range(95 * 60..175 * 60),
                    );
                }
            }
        };
        let spec = movie_spec(rng, true);
        let path = unique_path(
            &mut paths,
            format!(
                "{}/{title} ({year})/{title} ({year}) - 2160p.{}",
                lib.path, spec.container
            ),
        );
        let n = items.len();
        items.push(video_item(
            rng, n, lib, title, year, duration, &spec, path, genres, now,
        ));
    }

    // TV Shows: 420 episodes of 14 shows; four of them for children.
    let lib = &libs[2];
    let tv_start = items.len();
    let mut show = 0usize;
    while items.len() - tv_start < 420 {
        let kids = show % 4 == 1;
        let name = format!(
            "{} {}",
            ADJECTIVES[(show * 7 + 3) % ADJECTIVES.len()],
            NOUNS[(show * 5 + 1) % NOUNS.len()]
        );
        let year = rng.gen_range(2004..2024);
        let genres = genres_for(rng, kids);
        let sitcom = kids || rng.gen_bool(0.35);
        let seasons = rng.gen_range(1..5);
        let resolution = weighted(rng, &[("1080p", 70), ("720p", 25), ("4K", 5)]);
        let codec = weighted(rng, &[("h264", 60), ("hevc", 40)]);
        let container = weighted(rng, &[("mkv", 85), ("mp4", 15)]);
        let audio_codec = weighted(rng, &[("aac", 40), ("eac3", 40), ("ac3", 20)]);
        let recent = rng.gen_bool(0.3);
        'show: for season in 1..=seasons {
            let episodes = rng.gen_range(8..13);
            for e in 1..=episodes {
                if items.len() - tv_start >= 420 {
                    break 'show;
                }
                let episode_title = format!("The {} {}", pick(rng, ADJECTIVES), pick(rng, NOUNS));
                let file_name =
                    format!("{name} - S{season:02}E{e:02} - {episode_title}.{container}");
                let path = format!(
                    "{}/{name} ({year})/Season {season:02}/{file_name}",
                    lib.path
                );
                if !paths.insert(path.clone()) {
                    continue;
                }
                let spec = VideoSpec {
                    resolution,
                    codec,
                    container,
                    hdr: (resolution == "4K").then_some("HDR10"),
                    audio_codec,
                    audio_channels: if audio_codec == "aac" { 2 } else { 6 },
                };
                let duration = if sitcom {
                    rng.gen_range(21 * 60..25 * 60)
                } else {
                    rng.gen_range(41 * 60..62 * 60)
                };
                let n = items.len();
                let mut item = video_item(
                    rng,
                    n,
                    lib,
                    episode_title,
                    year + season - 1,
                    duration,
                    &spec,
                    path,
                    genres.clone(),
                    now,
                );
                item.tv_show_id = Some(demo_id("cv-show", show));
                item.tv_season_id = Some(demo_id("cv-season", show * 100 + season as usize));
                item.episode_number = Some(e);
                // A running show: its last season arrives an episode a week.
                if recent && season == seasons {
                    let weeks = i64::from(episodes - e);
                    item.added_at =
                        (now - Duration::days(weeks * 7 + rng.gen_range(0..3))).naive_utc();
                }
                items.push(item);
            }
        }
        show += 1;
    }

    // Music: 100 tracks on 9 albums. No video stream, so no codec or resolution.
    let lib = &libs[3];
    let mut album = 0usize;
    let music_start = items.len();
    while items.len() - music_start < 100 {
        let artist = ARTISTS[album % ARTISTS.len()];
        let album_title = format!("{} {}", pick(rng, ADJECTIVES), pick(rng, NOUNS));
        let year = rng.gen_range(1971..2025);
        let (container, audio_codec, kbps) = weighted(
            rng,
            &[
                (("flac", "flac", 0), 50),
                (("mp3", "mp3", 320), 40),
                (("m4a", "aac", 256), 10),
            ],
        );
        let genre = *pick(rng, MUSIC_GENRES);
        let added = added_at(rng, lib, now);
        for t in 1..=rng.gen_range(9..14) {
            if items.len() - music_start >= 100 {
                break;
            }
            let n = items.len();
            let id = demo_id("cv-media", n);
            let title = format!("{} {}", pick(rng, ADJECTIVES), pick(rng, NOUNS));
            let duration = rng.gen_range(150..420);
            let bitrate = if kbps == 0 {
                rng.gen_range(700_000..1_100_000)
            } else {
                kbps * 1000
            };
            let file_path = unique_path(
                &mut paths,
                format!(
                    "{}/{artist}/{album_title} ({year})/{t:02} - {title}.{container}",
                    lib.path
                ),
            );
            items.push(MediaItem {
                id,
                library_id: lib.id,
                media_type: lib.media_type,
                file_name: file_path.rsplit('/').next().unwrap_or_default().to_owned(),
                file_path,
                file_size: bitrate / 8 * i64::from(duration),
                title,
                description: None,
                year: Some(year),
                duration_seconds: Some(duration),
                resolution: None,
                width: None,
                height: None,
                codec: None,
                container,
                bitrate: Some(bitrate),
                framerate: None,
                audio_codec: Some(audio_codec),
                audio_channels: Some(2),
                poster_path: (album % 3 != 2).then(|| format!("/previews/posters/{id}.jpg")),
                tv_show_id: None,
                tv_season_id: None,
                episode_number: Some(t),
                hdr_format: None,
                dynamic_range: "SDR",
                parent_media_id: None,
                extra_type: None,
                added_at: added,
                genres: vec![genre],
                play_count: 0,
                last_played_at: None,
            });
        }
        album += 1;
    }

    // Home videos: 40 phone clips, named by the camera.
    let lib = &libs[4];
    for k in 0..40 {
        let day = now - Duration::days(rng.gen_range(30..1500));
        let container = weighted(rng, &[("mp4", 70), ("mov", 30)]);
        let stem = if container == "mov" {
            format!("IMG_{:04}", 1000 + k * 37)
        } else {
            format!("VID_{}", day.format("%Y%m%d_%H%M%S"))
        };
        let spec = VideoSpec {
            resolution: weighted(rng, &[("1080p", 75), ("4K", 25)]),
            codec: if container == "mov" { "hevc" } else { "h264" },
            container,
            hdr: None,
            audio_codec: "aac",
            audio_channels: 2,
        };
        let duration = rng.gen_range(8..540);
        let path = unique_path(
            &mut paths,
            format!("{}/{}/{stem}.{container}", lib.path, day.format("%Y")),
        );
        let n = items.len();
        let mut item = video_item(
            rng,
            n,
            lib,
            stem,
            day.year(),
            duration,
            &spec,
            path,
            Vec::new(),
            now,
        );
        item.description = None;
        item.poster_path = None;
        item.framerate = Some(weighted(rng, &[(29.97, 70), (59.94, 30)]));
        items.push(item);
    }
    debug_assert_eq!(items.len(), 1000);
    items
}

fn bcrypt_like(rng: &mut StdRng) -> String {
    const ALPHABET: &[u8] = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let tail: String = (0..53)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("$2a$10${tail}")
}

fn users(rng: &mut StdRng, now: DateTime<Utc>) -> Vec<User> {
    // (username, first, last, role, weight, taste [movie, episodes, music, home], transcode share)
    type Plan = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        u32,
        [u32; 4],
        f64,
    );
    let plan: [Plan; 13] = [
        (
            "admin",
            "Chris",
            "Walker",
            "admin",
            8,
            [40, 40, 5, 15],
            0.05,
        ),
        ("emma", "Emma", "Walker", "user", 10, [35, 50, 5, 10], 0.05),
        ("liam", "Liam", "Okafor", "user", 9, [50, 45, 5, 0], 0.08),
        (
            "olivia",
            "Olivia",
            "Brandt",
            "user",
            7,
            [30, 65, 5, 0],
            0.06,
        ),
        ("noah", "Noah", "Kessler", "user", 6, [55, 45, 0, 0], 0.55),
        ("ava", "Ava", "Lindqvist", "user", 5, [45, 50, 5, 0], 0.1),
        ("lucas", "Lucas", "Moreau", "user", 5, [60, 40, 0, 0], 0.12),
        ("mia", "Mia", "Santos", "user", 4, [30, 60, 10, 0], 0.08),
        ("ethan", "Ethan", "Price", "user", 4, [35, 30, 35, 0], 0.1),
        ("sofia", "Sofia", "Ricci", "user", 3, [10, 20, 70, 0], 0.0),
        ("mason", "Mason", "Reid", "user", 3, [60, 40, 0, 0], 0.15),
        (
            "grandpa",
            "Walter",
            "Walker",
            "user",
            2,
            [70, 30, 0, 0],
            0.6,
        ),
        ("guest", "", "", "guest", 1, [60, 40, 0, 0], 0.2),
    ];
    let devices_pool: &[&'static str] = &[
        UA_CHROME_WIN,
        UA_EDGE_WIN,
        UA_FIREFOX_WIN,
        UA_FIREFOX_LINUX,
        UA_SAFARI_MAC,
        UA_CHROME_MAC,
        UA_IPHONE,
        UA_IPAD,
        UA_ANDROID,
        UA_TIZEN_TV,
        UA_WEBOS_TV,
        UA_CHROMECAST,
    ];
    let mut users = Vec::with_capacity(15);
    for (i, &(name, first, last, role, weight, taste, transcode_share)) in plan.iter().enumerate() {
        let created = match name {
            "admin" => now - Duration::days(420),
            "guest" => now - Duration::days(12) - Duration::minutes(rng.gen_range(0..600)),
            _ => now - Duration::days(rng.gen_range(70..400)),
        };
        let device_count = rng.gen_range(1..4);
        let mut devices: Vec<&'static str> = devices_pool
            .choose_multiple(rng, device_count)
            .copied()
            .collect();
        if name == "lucas" {
            devices.push(UA_VLC);
        }
        let deactivated = (name == "mason").then(|| now - Duration::days(20));
        users.push(User {
            id: demo_id("cv-user", i),
            username: name.to_owned(),
            email: format!("{name}@walker-family.example"),
            password_hash: bcrypt_like(rng),
            pin_hash: None,
            display_name: (!first.is_empty()).then(|| format!("{first} {last}")),
            first_name: (!first.is_empty()).then(|| first.to_owned()),
            last_name: (!last.is_empty()).then(|| last.to_owned()),
            role,
            is_active: deactivated.is_none(),
            max_content_rating: None,
            is_kids_profile: false,
            parent_user_id: None,
            created_at: created.naive_utc(),
            updated_at: deactivated.unwrap_or(created).naive_utc(),
            weight,
            taste,
            devices,
            transcode_share,
            active_from: created,
            active_until: deactivated,
        });
    }
    // Household sub-profiles, as handleCreateSubProfile makes them: "<master>_<slug>",
    // "<username>@household.local", an unusable password hash, role user, the master as parent.
    // (master, display name, kids' profile, rating cap, weight, taste)
    type Sub = (usize, &'static str, bool, &'static str, u32, [u32; 4]);
    let subs: [Sub; 2] = [
        (0, "Kids", true, "PG", 6, [40, 60, 0, 0]),
        (2, "Teen", false, "PG-13", 5, [40, 50, 10, 0]),
    ];
    for (master, display, kids, rating, weight, taste) in subs {
        let parent = &users[master];
        let username = format!("{}_{}", parent.username, display.to_lowercase());
        let created = now - Duration::days(rng.gen_range(65..200));
        let devices = vec![if kids { UA_TIZEN_TV } else { UA_ANDROID }, UA_IPAD];
        users.push(User {
            id: demo_id("cv-user", users.len()),
            email: format!("{username}@household.local"),
            username,
            password_hash: "$2a$10$UNUSABLE_HASH_FOR_SUBPROFILE_NO_DIRECT_LOGIN".to_owned(),
            pin_hash: (!kids).then(|| bcrypt_like(rng)),
            display_name: Some(display.to_owned()),
            first_name: None,
            last_name: None,
            role: "user",
            is_active: true,
            max_content_rating: Some(rating),
            is_kids_profile: kids,
            parent_user_id: Some(parent.id),
            created_at: created.naive_utc(),
            updated_at: created.naive_utc(),
            weight,
            taste,
            devices,
            transcode_share: 0.03,
            active_from: created,
            active_until: None,
        });
    }
    users
}

/// Local wall-clock time on `day` at `seconds` past midnight, as UTC (DST gaps resolved).
fn local_to_utc(tz: Tz, day: NaiveDate, seconds: u32) -> DateTime<Utc> {
    let naive =
        day.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::seconds(i64::from(seconds));
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.with_timezone(&Utc)
        }
        chrono::LocalResult::None => {
            Utc.from_utc_datetime(&(naive - Duration::hours(1))) + Duration::hours(1)
        }
    }
}

/// One HTTP request (or HLS transcoder start) a viewing makes.
struct Req {
    playback_type: &'static str,
    start: DateTime<Utc>,
    secs: i64,
}

/// One viewing, planned: its requests, the HLS qualities it uses (and when), where the
/// player was when it closed, and when it closed.
struct Plan {
    reqs: Vec<Req>,
    hls: Vec<(&'static str, DateTime<Utc>, DateTime<Utc>)>,
    position: i64,
    end: DateTime<Utc>,
}

fn direct_type(container: &str) -> &'static str {
    // CineVault's stream/remux.go: native browser formats are served as they are.
    if matches!(container, "mp4" | "webm" | "m4v") {
        "direct_play"
    } else {
        "direct_stream"
    }
}

/// The transcode qualities CineVault offers below the item's own resolution.
fn transcode_quality(rng: &mut StdRng, resolution: Option<&str>) -> &'static str {
    match resolution {
        Some("4K") => weighted(rng, &[("1080p", 55), ("720p", 45)]),
        Some("1080p") => weighted(rng, &[("720p", 75), ("480p", 25)]),
        _ => "480p",
    }
}

/// The direct requests of watching `watch` seconds from `position`: the browser's first
/// range probes seconds apart, the long request that streams, and a new request at every
/// seek (a range request for .mp4, an mpegts restart with `?start=` for the rest; the
/// arrow keys' 10-second skips make a burst of short ones).
fn plan_direct(
    rng: &mut StdRng,
    item: &MediaItem,
    start: DateTime<Utc>,
    watch: i64,
    position: i64,
) -> Plan {
    let runtime = i64::from(item.duration_seconds.unwrap_or(3600));
    let kind = direct_type(item.container);
    let mut reqs = Vec::new();
    let mut t = start;
    let mut position = position;
    if kind == "direct_play" {
        // The <video> element's metadata probe and its range request for the index.
        for _ in 0..rng.gen_range(2..4) {
            let secs = rng.gen_range(0..2);
            reqs.push(Req {
                playback_type: kind,
                start: t,
                secs,
            });
            t += Duration::seconds(secs + rng.gen_range(1..3)) + millis(rng);
        }
    }
    // Where the playback is interrupted: seeks, and (for mpegts) a burst of skips.
    let mut cuts: Vec<i64> = Vec::new();
    let seeks = weighted(rng, &[(0, 40), (1, 30), (2, 18), (3, 12)]);
    for _ in 0..seeks {
        cuts.push(rng.gen_range(0..watch.max(2)));
    }
    let burst_at = (kind == "direct_stream" && rng.gen_bool(0.55))
        .then(|| rng.gen_range(15..(watch / 3).max(20)));
    if let Some(b) = burst_at {
        cuts.push(b);
    }
    cuts.sort_unstable();
    let mut played = 0i64;
    for cut in cuts {
        let secs = (cut - played).max(1);
        reqs.push(Req {
            playback_type: kind,
            start: t,
            secs,
        });
        played += secs;
        position += secs;
        t += Duration::seconds(secs) + millis(rng);
        if Some(cut) == burst_at {
            // Arrow-key skips: each press restarts the stream 10 s further on.
            for _ in 0..rng.gen_range(1..5) {
                let secs = rng.gen_range(1..4);
                reqs.push(Req {
                    playback_type: kind,
                    start: t,
                    secs,
                });
                t += Duration::seconds(secs) + millis(rng);
                position += 10;
            }
        } else {
            // A seek: forward mostly, sometimes back; a .mp4 seek may make a short probe.
            position = if rng.gen_bool(0.7) {
                position + rng.gen_range(30..600)
            } else {
                (position - rng.gen_range(10..120)).max(0)
            };
            if kind == "direct_play" && rng.gen_bool(0.5) {
                let secs = rng.gen_range(0..2);
                reqs.push(Req {
                    playback_type: kind,
                    start: t,
                    secs,
                });
                t += Duration::seconds(secs) + millis(rng);
            }
        }
        t += Duration::milliseconds(rng.gen_range(100..2500));
    }
    // The request that streams until the player closes (a pause keeps it open).
    let pause = if rng.gen_bool(0.25) {
        rng.gen_range(60..900)
    } else {
        0
    };
    let secs = (watch - played).max(1) + pause;
    reqs.push(Req {
        playback_type: kind,
        start: t,
        secs,
    });
    position += (watch - played).max(1);
    let end = t + Duration::seconds(secs) + millis(rng);
    Plan {
        reqs,
        hls: Vec::new(),
        position: position.clamp(0, runtime),
        end,
    }
}

/// A transcode: the player opens on "Original" (a short direct request), then the user picks
/// a quality and hls.js fetches segments; sometimes a second quality later.
fn plan_transcode(rng: &mut StdRng, item: &MediaItem, start: DateTime<Utc>, watch: i64) -> Plan {
    let runtime = i64::from(item.duration_seconds.unwrap_or(3600));
    let kind = direct_type(item.container);
    let first = rng.gen_range(3..25);
    let reqs = vec![Req {
        playback_type: kind,
        start,
        secs: first,
    }];
    let hls_start = start + Duration::seconds(first + rng.gen_range(1..5)) + millis(rng);
    let end = hls_start + Duration::seconds(watch) + millis(rng);
    let quality = transcode_quality(rng, item.resolution);
    let mut hls = Vec::new();
    if rng.gen_bool(0.1) {
        let switch = hls_start + Duration::seconds(watch * rng.gen_range(20..70) / 100);
        let other = if quality == "480p" { "720p" } else { "480p" };
        hls.push((quality, hls_start, switch));
        hls.push((other, switch, end));
    } else {
        hls.push((quality, hls_start, end));
    }
    Plan {
        reqs,
        hls,
        position: watch.min(runtime),
        end,
    }
}

struct Sim {
    now: DateTime<Utc>,
    restart_at: DateTime<Utc>,
    back_at: DateTime<Utc>,
    rows: Vec<Row>,
    history: HashMap<(usize, usize), History>,
    /// The in-memory transcoder's sessions by (item, quality): index into `sessions`.
    transcoders: HashMap<(usize, &'static str), usize>,
    /// Every transcoder session's life: first segment request until dropped.
    sessions: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    viewings: usize,
}

/// A sitting planned for a day: who starts watching what kind of thing, when.
struct Sitting {
    start: DateTime<Utc>,
    user: usize,
    kind: usize,
}

impl Sim {
    fn run(&mut self, rng: &mut StdRng, items: &mut [MediaItem], users: &[User], tz: Tz) {
        let hours: Vec<(u32, u32)> = HOUR_WEIGHTS
            .iter()
            .enumerate()
            .map(|(h, w)| (h as u32, *w))
            .collect();
        let kids_hours: Vec<(u32, u32)> = KIDS_HOUR_WEIGHTS
            .iter()
            .enumerate()
            .map(|(h, w)| (h as u32, *w))
            .collect();
        let user_weights: Vec<(usize, u32)> = users
            .iter()
            .enumerate()
            .map(|(i, u)| (i, u.weight))
            .collect();
        let today = self.now.with_timezone(&tz).date_naive();
        let mut sittings = Vec::new();
        for back in (0..HISTORY_DAYS).rev() {
            let day = today - Duration::days(back);
            let weekend = matches!(day.format("%a").to_string().as_str(), "Fri" | "Sat" | "Sun");
            let base: i32 = if weekend { 40 } else { 28 };
            for _ in 0..rng.gen_range(base - 5..base + 6) {
                let user = weighted(rng, &user_weights);
                let u = &users[user];
                let hour = weighted(
                    rng,
                    if u.is_kids_profile {
                        &kids_hours
                    } else {
                        &hours
                    },
                );
                let start =
                    local_to_utc(tz, day, hour * 3600 + rng.gen_range(0..3600)) + millis(rng);
                let live = start >= u.active_from && u.active_until.map_or(true, |t| start < t);
                if !live || start >= self.now - Duration::minutes(2) {
                    continue;
                }
                let kind = weighted(
                    rng,
                    &[
                        (MOVIE, u.taste[0]),
                        (EPISODES, u.taste[1]),
                        (MUSIC, u.taste[2]),
                        (HOME, u.taste[3]),
                    ],
                );
                sittings.push(Sitting { start, user, kind });
            }
        }
        sittings.sort_by_key(|s| s.start);

        let catalogue = Catalogue::new(rng, items);
        let mut next_episode: HashMap<(usize, usize), usize> = HashMap::new();
        for s in &sittings {
            let u = &users[s.user];
            let mut t = s.start;
            match s.kind {
                MOVIE => {
                    if let Some(i) = catalogue.movie(rng, items, u, t) {
                        self.video(rng, items, s.user, u, i, t);
                    }
                }
                EPISODES => {
                    let shows = catalogue.shows_for(u);
                    let show = *pick(rng, &shows);
                    let episodes = &catalogue.shows[show];
                    let next = next_episode.entry((s.user, show)).or_insert(0);
                    for _ in 0..weighted(rng, &[(1, 35), (2, 35), (3, 20), (4, 10)]) {
                        let i = episodes[*next % episodes.len()];
                        if items[i].added_at > t.naive_utc() {
                            break;
                        }
                        *next += 1;
                        t = self.video(rng, items, s.user, u, i, t)
                            + Duration::seconds(rng.gen_range(8..150));
                        if t >= self.now {
                            break;
                        }
                    }
                }
                MUSIC => {
                    let album = pick(rng, &catalogue.albums);
                    let from = if rng.gen_bool(0.6) {
                        0
                    } else {
                        rng.gen_range(0..album.len())
                    };
                    let tracks: Vec<usize> = album[from..]
                        .iter()
                        .copied()
                        .filter(|&i| items[i].added_at <= t.naive_utc())
                        .collect();
                    if !tracks.is_empty() {
                        self.album(rng, items, s.user, u, &tracks, t);
                    }
                }
                _ => {
                    for _ in 0..rng.gen_range(1..4) {
                        let i = *pick(rng, &catalogue.home);
                        t = self.video(rng, items, s.user, u, i, t)
                            + Duration::seconds(rng.gen_range(3..40));
                        if t >= self.now {
                            break;
                        }
                    }
                }
            }
        }

        // Something is playing when an admin opens the demo: a movie played directly, an
        // episode remuxed, and a 4K movie transcoded, all started within the last hour.
        let now = self.now;
        let movie = catalogue.movies.iter().copied().find(|&i| {
            items[i].container == "mp4" && items[i].added_at < (now - Duration::days(1)).naive_utc()
        });
        let episode = catalogue.shows[0].first().copied();
        let uhd = catalogue.uhd.first().copied();
        for (k, item) in [movie, episode, uhd].into_iter().enumerate() {
            let Some(i) = item else { continue };
            let user = k + 1;
            let start = now - Duration::minutes(7 + 16 * k as i64) - millis(rng);
            let runtime = i64::from(items[i].duration_seconds.unwrap_or(3600));
            let plan = if k == 2 {
                plan_transcode(rng, &items[i], start, runtime - 30)
            } else {
                plan_direct(rng, &items[i], start, runtime - 30, 0)
            };
            self.viewings += 1;
            let ua = *pick(rng, &users[user].devices);
            self.emit(rng, items, user, i, ua, plan, false);
        }
        self.rows.sort_by_key(|r| (r.started_at, r.id));
        for (n, row) in self.rows.iter_mut().enumerate() {
            row.id = demo_id("cv-session", n);
        }
    }

    /// Someone watches a video item from `start`; returns when the player closed.
    fn video(
        &mut self,
        rng: &mut StdRng,
        items: &[MediaItem],
        user: usize,
        u: &User,
        i: usize,
        start: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let start = self.after_restart(rng, start);
        let ua = *pick(rng, &u.devices);
        let item = &items[i];
        let runtime = i64::from(item.duration_seconds.unwrap_or(3600));
        let watch = if rng.gen_bool(0.58) {
            runtime * rng.gen_range(90..99) / 100
        } else {
            (runtime * rng.gen_range(4..90) / 100).max(5)
        };
        // Browsers cannot play MPEG-4 part 2 or MPEG-2 even remuxed; HEVC and AV1 only some.
        let codec_share: f64 = match item.codec {
            Some("mpeg4") | Some("mpeg2video") => 0.85,
            Some("hevc") | Some("av1") => 0.2,
            _ => 0.0,
        };
        let share = codec_share
            .max(u.transcode_share)
            .max(if item.resolution == Some("4K") {
                0.35
            } else {
                0.0
            });
        let plan = if item.extra_type.is_none() && rng.gen_bool(share) {
            plan_transcode(rng, item, start, watch)
        } else {
            plan_direct(rng, item, start, watch, 0)
        };
        self.viewings += 1;
        let end = plan.end;
        let cut = start < self.restart_at && end > self.restart_at;
        if !cut {
            self.emit(rng, items, user, i, ua, plan, false);
            return end;
        }
        // CineVault restarted under this viewing.
        let position = plan.position;
        let hls = plan.hls.clone();
        let position_at_cut =
            position * (self.restart_at - start).num_seconds() / (end - start).num_seconds().max(1);
        let remaining = (end - self.restart_at).num_seconds();
        self.emit(rng, items, user, i, ua, plan, true);
        if !hls.is_empty() {
            // hls.js retries every 3 s; once CineVault is back, a segment request starts a new
            // transcoder session (the old one died with the process).
            let retry = self.back_at + Duration::seconds(rng.gen_range(0..4)) + millis(rng);
            for (q, from, to) in hls {
                if to > self.back_at {
                    self.hls_segments(user, &items[i], i, q, from.max(retry), to, ua);
                }
            }
            self.report(rng, items, user, i, position, end);
            end
        } else {
            // The player gave up; the user opens it again a minute or two later and seeks
            // back to where it was.
            let again = self.back_at + Duration::seconds(rng.gen_range(30..150));
            let plan = plan_direct(rng, &items[i], again, remaining.max(5), position_at_cut);
            let end = plan.end;
            self.emit(rng, items, user, i, ua, plan, false);
            end
        }
    }

    /// A viewing starting while CineVault was down starts once it is back.
    fn after_restart(&self, rng: &mut StdRng, t: DateTime<Utc>) -> DateTime<Utc> {
        if t >= self.restart_at && t < self.back_at {
            self.back_at + Duration::seconds(rng.gen_range(1..30))
        } else {
            t
        }
    }

    /// Writes a planned viewing's rows and its progress report. `cut`: CineVault restarted
    /// during it: requests after the restart never reached it, the one it was serving stays
    /// open, and no report is written (the player could not send it).
    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        rng: &mut StdRng,
        items: &[MediaItem],
        user: usize,
        i: usize,
        ua: &'static str,
        plan: Plan,
        cut: bool,
    ) {
        for r in &plan.reqs {
            if cut && r.start >= self.restart_at {
                continue;
            }
            self.request(user, &items[i], r.playback_type, None, ua, r.start, r.secs);
        }
        for &(q, from, to) in &plan.hls {
            if cut && from >= self.restart_at {
                continue;
            }
            let to = if cut { to.min(self.restart_at) } else { to };
            self.hls_segments(user, &items[i], i, q, from, to, ua);
        }
        if !cut {
            self.report(rng, items, user, i, plan.position, plan.end);
        }
    }

    /// The player's progress report when it closes (only once it has closed).
    fn report(
        &mut self,
        rng: &mut StdRng,
        items: &[MediaItem],
        user: usize,
        i: usize,
        position: i64,
        closed: DateTime<Utc>,
    ) {
        let at = closed + Duration::milliseconds(rng.gen_range(30..1500));
        if at >= self.now {
            return;
        }
        let item = &items[i];
        let runtime = item.duration_seconds.unwrap_or(0);
        // The web player never sends `completed`; a rare other client does.
        let completed = position * 10 >= i64::from(runtime) * 9 && rng.gen_bool(0.04);
        self.history.insert(
            (user, i),
            History {
                id: demo_id("cv-history", user * 10_000 + i),
                user_id: demo_id("cv-user", user),
                media_item_id: item.id,
                progress_seconds: position as i32,
                duration_seconds: runtime,
                completed,
                last_watched_at: at.naive_utc(),
            },
        );
    }

    /// Segment requests for `quality` from `from` to `to`: a row only when the in-memory
    /// transcoder has no session for the item and quality (whoever started it); a session
    /// lives until 30 minutes after its last segment request, or until CineVault restarts.
    #[allow(clippy::too_many_arguments)]
    fn hls_segments(
        &mut self,
        user: usize,
        item: &MediaItem,
        i: usize,
        quality: &'static str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        ua: &'static str,
    ) {
        if from >= self.now {
            return;
        }
        let restart = self.restart_at;
        let until = if from < restart {
            (to + Duration::minutes(TRANSCODER_IDLE_MINUTES)).min(restart)
        } else {
            to + Duration::minutes(TRANSCODER_IDLE_MINUTES)
        };
        let existing = self.transcoders.get(&(i, quality)).copied();
        let alive = existing.filter(|&s| {
            let (began, until) = self.sessions[s];
            until >= from && !(began < restart && from >= restart)
        });
        match alive {
            Some(s) => self.sessions[s].1 = self.sessions[s].1.max(until),
            None => {
                if let Some(s) = existing {
                    // That session ended when it went idle, or when CineVault restarted.
                    if self.sessions[s].0 < restart && from >= restart {
                        self.sessions[s].1 = self.sessions[s].1.min(restart);
                    }
                }
                self.sessions.push((from, until));
                self.transcoders
                    .insert((i, quality), self.sessions.len() - 1);
                self.request(user, item, "transcode", Some(quality), ua, from, 0);
            }
        }
    }

    /// One stream_sessions row as CineVault's handler writes it at `start` and ends it `secs`
    /// (and a fraction) later, when the handler returns — or leaves it open: every transcode
    /// row, the request a restart cut, a request still going on now.
    #[allow(clippy::too_many_arguments)]
    fn request(
        &mut self,
        user: usize,
        item: &MediaItem,
        playback_type: &'static str,
        quality: Option<&'static str>,
        ua: &'static str,
        start: DateTime<Utc>,
        secs: i64,
    ) {
        if start >= self.now {
            return;
        }
        // The sub-second part of the request time: any, but fixed by the start.
        let fraction = i64::from((start.timestamp_subsec_millis() * 7 + 311) % 1000);
        let end = start + Duration::seconds(secs) + Duration::milliseconds(fraction);
        let never_ended = playback_type == "transcode"
            || end >= self.now
            || (start < self.restart_at && end > self.restart_at);
        self.rows.push(Row {
            id: Uuid::nil(),
            user_id: demo_id("cv-user", user),
            media_item_id: item.id,
            playback_type,
            quality,
            codec: item.codec,
            resolution: item.resolution,
            container: Some(item.container),
            client_info: Some(ua),
            started_at: start,
            ended_at: (!never_ended).then_some(end),
            duration_seconds: if never_ended { 0 } else { secs as i32 },
        });
    }

    /// An album from a track on: the music player starts the first track itself (a request
    /// and a progress-0 report, which counts a play), pre-buffers the next one at once (its
    /// request, seconds later), and moves on gaplessly at each track's end with no report;
    /// a click on "next" starts the next track itself again.
    fn album(
        &mut self,
        rng: &mut StdRng,
        items: &mut [MediaItem],
        user: usize,
        u: &User,
        tracks: &[usize],
        start: DateTime<Utc>,
    ) {
        let ua = *pick(rng, &u.devices);
        let mut t = self.after_restart(rng, start);
        let listen = rng.gen_range(1..=tracks.len());
        let mut buffered: Option<usize> = None;
        for (k, &i) in tracks.iter().take(listen).enumerate() {
            if t >= self.now {
                break;
            }
            let len = i64::from(items[i].duration_seconds.unwrap_or(240));
            let clicked = k == 0 || buffered != Some(i);
            self.viewings += 1;
            if clicked {
                // playTrack(): a new request for the track and a report of progress 0.
                let secs = rng.gen_range(4..40).min(len);
                let kind = direct_type(items[i].container);
                self.request(user, &items[i], kind, None, ua, t, secs);
                let at = t + Duration::milliseconds(rng.gen_range(50..600));
                if at < self.now {
                    let item = &mut items[i];
                    item.play_count += 1;
                    item.last_played_at = Some(at.naive_utc());
                    self.history.insert(
                        (user, i),
                        History {
                            id: demo_id("cv-history", user * 10_000 + i),
                            user_id: demo_id("cv-user", user),
                            media_item_id: item.id,
                            progress_seconds: 0,
                            duration_seconds: item.duration_seconds.unwrap_or(0),
                            completed: false,
                            last_watched_at: at.naive_utc(),
                        },
                    );
                }
            }
            // preBufferNext(): the next track's request, a second or two later.
            if let Some(&next) = tracks.get(k + 1) {
                let at = t + Duration::seconds(rng.gen_range(1..3)) + millis(rng);
                let kind = direct_type(items[next].container);
                let secs = rng.gen_range(3..30);
                self.request(user, &items[next], kind, None, ua, at, secs);
                buffered = Some(next);
            }
            // Listened to the end, or "next" clicked part-way (the buffered track is then
            // requested again by playTrack()).
            let skipped = rng.gen_bool(0.12);
            let played = if skipped {
                rng.gen_range(10..len.max(11))
            } else {
                len
            };
            if skipped {
                buffered = None;
            }
            t += Duration::seconds(played) + millis(rng);
        }
    }
}

/// What can be picked: popular titles get most plays; a kids' profile sees only children's
/// titles; shows are watched in order.
struct Catalogue {
    movies: Vec<usize>,
    uhd: Vec<usize>,
    popular: Vec<usize>,
    kids_movies: Vec<usize>,
    trailers: Vec<usize>,
    shows: Vec<Vec<usize>>,
    kids_shows: Vec<usize>,
    albums: Vec<Vec<usize>>,
    home: Vec<usize>,
}

impl Catalogue {
    fn new(rng: &mut StdRng, items: &[MediaItem]) -> Self {
        let kids = |m: &MediaItem| m.genres.contains(&"Animation");
        let movies: Vec<usize> = (0..items.len())
            .filter(|&i| items[i].media_type == "movies" && items[i].extra_type.is_none())
            .collect();
        let uhd: Vec<usize> = movies
            .iter()
            .copied()
            .filter(|&i| items[i].resolution == Some("4K"))
            .collect();
        let popular: Vec<usize> = movies
            .iter()
            .copied()
            .filter(|_| rng.gen_bool(0.15))
            .collect();
        let kids_movies = movies
            .iter()
            .copied()
            .filter(|&i| kids(&items[i]))
            .collect();
        let trailers = (0..items.len())
            .filter(|&i| items[i].extra_type.is_some())
            .collect();
        let mut by_show: Vec<(Uuid, Vec<usize>)> = Vec::new();
        let mut by_album: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, m) in items.iter().enumerate() {
            if let Some(show) = m.tv_show_id {
                match by_show.iter_mut().find(|(s, _)| *s == show) {
                    Some((_, v)) => v.push(i),
                    None => by_show.push((show, vec![i])),
                }
            }
            if m.media_type == "music" {
                let dir = m.file_path.rsplit_once('/').map_or("", |p| p.0).to_owned();
                match by_album.iter_mut().find(|(d, _)| *d == dir) {
                    Some((_, v)) => v.push(i),
                    None => by_album.push((dir, vec![i])),
                }
            }
        }
        let shows: Vec<Vec<usize>> = by_show.into_iter().map(|(_, v)| v).collect();
        let kids_shows = (0..shows.len())
            .filter(|&s| kids(&items[shows[s][0]]))
            .collect();
        Self {
            movies,
            uhd,
            popular,
            kids_movies,
            trailers,
            kids_shows,
            shows,
            albums: by_album.into_iter().map(|(_, v)| v).collect(),
            home: (0..items.len())
                .filter(|&i| items[i].media_type == "home_videos")
                .collect(),
        }
    }

    fn movie(
        &self,
        rng: &mut StdRng,
        items: &[MediaItem],
        u: &User,
        t: DateTime<Utc>,
    ) -> Option<usize> {
        for _ in 0..12 {
            let i = if u.is_kids_profile {
                *pick(rng, &self.kids_movies)
            } else if rng.gen_bool(0.04) {
                *pick(rng, &self.trailers)
            } else if rng.gen_bool(0.55) && !self.popular.is_empty() {
                *pick(rng, &self.popular)
            } else {
                *pick(rng, &self.movies)
            };
            if items[i].added_at <= t.naive_utc() {
                return Some(i);
            }
        }
        None
    }

    /// The shows a user follows: a kids' profile the children's ones; others a few of
    /// their own, picked by their name.
    fn shows_for(&self, u: &User) -> Vec<usize> {
        if u.is_kids_profile {
            return self.kids_shows.clone();
        }
        let seed = u.username.bytes().fold(7usize, |h, b| h * 31 + b as usize);
        (0..4).map(|k| (seed + k * 5) % self.shows.len()).collect()
    }
}

/// The collector's rows for the last day, every 60 s from its start, as CineVault computes
/// them (collector.go): CPU from one read of /proc/stat (the average since boot), memory in
/// MiB, disk in GiB of the media path with free = Bavail, `active_streams` = every
/// `is_active` row at that moment, `active_transcodes` = in-memory transcoder sessions, GPU
/// figures from nvidia-smi.
fn system_metrics(
    rng: &mut StdRng,
    sim: &Sim,
    items: &[MediaItem],
    now: DateTime<Utc>,
) -> Vec<Metric> {
    let minutes = 24 * 60;
    let first = now - Duration::minutes(minutes) + Duration::seconds(rng.gen_range(0..60));
    // The host booted 17 days ago and has averaged 6.8% busy since.
    let mut busy = 17.0 * 86_400.0 * 0.068_f64;
    let mut total = 17.0 * 86_400.0_f64;
    let gib = 1024.0_f64.powi(3);
    let disk_total = 7_451.0_f32; // an 8 TB disk
    let reserved = 372.5_f64; // ext4's 5 %, not in Bavail
    let other = 143.0_f64; // previews, thumbnails, the database
    let window_start = first - Duration::minutes(1);
    let candidates: Vec<&Row> = sim
        .rows
        .iter()
        .filter(|r| r.ended_at.map_or(true, |e| e >= window_start))
        .collect();
    let mut out = Vec::with_capacity(minutes as usize);
    for m in 0..minutes {
        let at = first + Duration::minutes(m) + Duration::milliseconds(rng.gen_range(0..40));
        if at > now {
            break;
        }
        let streams = candidates
            .iter()
            .filter(|r| r.started_at <= at && r.ended_at.map_or(true, |e| e > at))
            .count() as i32;
        let transcodes = sim
            .sessions
            .iter()
            .filter(|(from, until)| *from <= at && at < *until)
            .count() as i32;
        // Requests being served (not the rows a restart left open long ago).
        let playing = candidates
            .iter()
            .filter(|r| {
                r.playback_type != "transcode"
                    && r.started_at <= at
                    && r.started_at >= window_start - Duration::hours(6)
                    && r.ended_at.map_or(true, |e| e > at)
            })
            .count() as f64;
        let load = (0.03 + 0.015 * playing + 0.22 * f64::from(transcodes)).min(0.97);
        busy += 60.0 * load;
        total += 60.0;
        let mem_total_mib = 32_000.0_f64;
        let used_mib = (9_200.0
            + 180.0 * playing
            + 1_400.0 * f64::from(transcodes)
            + rng.gen_range(-150.0..150.0))
        .clamp(1_000.0, mem_total_mib);
        let media: i64 = items
            .iter()
            .filter(|i| i.added_at <= at.naive_utc())
            .map(|i| i.file_size)
            .sum();
        let used = (media as f64 / gib + other + reserved) as f32;
        let gpu_busy = transcodes > 0;
        out.push(Metric {
            id: demo_id("cv-metric", m as usize),
            cpu_percent: (busy / total * 100.0) as f32,
            memory_percent: (used_mib / mem_total_mib * 100.0) as f32,
            memory_used_mb: used_mib as i32,
            gpu_encoder_percent: Some(if gpu_busy {
                (f64::from(transcodes) * 17.0 + rng.gen_range(0.0..6.0)).min(100.0) as f32
            } else {
                0.0
            }),
            gpu_memory_percent: Some(if gpu_busy {
                (f64::from(transcodes) * 5.0 + rng.gen_range(1.0..4.0)) as f32
            } else {
                rng.gen_range(0.0..2.0)
            }),
            gpu_temp_celsius: Some(
                (36.0 + f64::from(transcodes) * 6.5 + rng.gen_range(-1.0..1.0)).round() as f32,
            ),
            disk_total_gb: disk_total,
            disk_used_gb: used,
            disk_free_gb: disk_total - used,
            active_streams: streams,
            active_transcodes: transcodes,
            recorded_at: at,
        });
    }
    out
}

/// daily_stats for the last 30 UTC days, as CineVault's rollup upserts them when it runs at
/// 00:05 for "yesterday" (rollup.go, analytics_repository.go): every request row started in
/// the UTC day is a play, watch minutes are the rows' request times (0 for those still open
/// then) / 60, bytes and transcode failures are 0, and the library totals are those at the
/// moment it ran.
fn daily_stats(rows: &[Row], items: &[MediaItem], now: DateTime<Utc>) -> Vec<Daily> {
    let today = now.date_naive();
    let mut out = Vec::new();
    for back in (1..=DAILY_STATS_DAYS).rev() {
        let day = today - Duration::days(back);
        let from = Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default());
        let to = from + Duration::days(1);
        let ran = to + Duration::minutes(5);
        let in_day: Vec<&Row> = rows
            .iter()
            .filter(|r| r.started_at >= from && r.started_at < to)
            .collect();
        let users: HashSet<Uuid> = in_day.iter().map(|r| r.user_id).collect();
        let secs: i64 = in_day
            .iter()
            .filter(|r| r.ended_at.is_some_and(|e| e <= ran))
            .map(|r| i64::from(r.duration_seconds))
            .sum();
        let count = |t: &str| in_day.iter().filter(|r| r.playback_type == t).count() as i32;
        let library: Vec<&MediaItem> = items
            .iter()
            .filter(|i| i.added_at <= ran.naive_utc())
            .collect();
        out.push(Daily {
            id: demo_id("cv-daily", back as usize),
            stat_date: day,
            total_plays: in_day.len() as i32,
            unique_users: users.len() as i32,
            total_watch_minutes: (secs / 60) as i32,
            transcodes: count("transcode"),
            direct_plays: count("direct_play"),
            direct_streams: count("direct_stream"),
            new_media_added: items
                .iter()
                .filter(|i| i.added_at >= from.naive_utc() && i.added_at < to.naive_utc())
                .count() as i32,
            library_size_total: library.len() as i32,
            storage_used_bytes: library.iter().map(|i| i.file_size).sum(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;
    use rand::SeedableRng;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 20, 0, 0)
            .single()
            .expect("time")
    }

    fn data() -> Data {
        let mut rng = StdRng::seed_from_u64(25);
        generate(&mut rng, now(), chrono_tz::Europe::Berlin)
    }

    #[test]
    fn sizes_match_the_brief() {
        let d = data();
        assert_eq!(d.items.len(), 1000);
        assert_eq!(d.users.len(), 15);
        assert_eq!(d.libraries.len(), 5);
        assert_eq!(d.metrics.len(), 24 * 60);
        assert_eq!(d.daily.len(), 30);
        assert!(d.viewings > 2000, "{} viewings", d.viewings);
        assert!(d.rows.len() > 6000, "{} rows", d.rows.len());
        let paths: HashSet<&str> = d.items.iter().map(|i| i.file_path.as_str()).collect();
        assert_eq!(paths.len(), d.items.len(), "file_path is UNIQUE");
        let names: HashSet<&str> = d.users.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names.len(), d.users.len());
    }

    #[test]
    fn one_seed_gives_one_data_set() {
        let (a, b) = (data(), data());
        assert_eq!(a.rows.len(), b.rows.len());
        assert!(a
            .rows
            .iter()
            .zip(&b.rows)
            .all(|(x, y)| x.id == y.id && x.started_at == y.started_at));
        assert_eq!(a.history.len(), b.history.len());
    }

    #[test]
    fn values_are_cinevaults() {
        let d = data();
        for i in &d.items {
            assert!(matches!(
                i.resolution,
                None | Some("4K" | "1080p" | "720p" | "480p" | "SD")
            ));
            assert!(matches!(
                i.hdr_format,
                None | Some("Dolby Vision" | "HDR10" | "HLG")
            ));
            assert_eq!(i.dynamic_range == "HDR", i.hdr_format.is_some());
            assert!(i.file_path.ends_with(&format!(".{}", i.container)));
            assert!(i.file_path.ends_with(&i.file_name));
            if let Some(p) = &i.poster_path {
                assert_eq!(p, &format!("/previews/posters/{}.jpg", i.id));
            }
            let lib = d
                .libraries
                .iter()
                .find(|l| l.id == i.library_id)
                .expect("lib");
            assert_eq!(i.media_type, lib.media_type);
        }
        assert_eq!(d.users.iter().filter(|u| u.role == "admin").count(), 1);
        assert!(d
            .users
            .iter()
            .any(|u| u.parent_user_id.is_some() && u.is_kids_profile));
        for r in &d.rows {
            let item = d
                .items
                .iter()
                .find(|i| i.id == r.media_item_id)
                .expect("item");
            assert_eq!(r.codec, item.codec);
            assert_eq!(r.container, Some(item.container));
            assert!(r.client_info.map_or(true, |ua| ua.len() <= 255));
            match r.playback_type {
                "transcode" => {
                    assert!(r.quality.is_some());
                    assert!(r.is_active() && r.duration_seconds == 0);
                }
                t => {
                    assert_eq!(t, direct_type(item.container));
                    assert!(r.quality.is_none());
                    if let Some(e) = r.ended_at {
                        let wall = (e - r.started_at).num_seconds();
                        assert_eq!(wall, i64::from(r.duration_seconds), "{wall}");
                    }
                }
            }
        }
        assert!(d.rows.iter().all(|r| r.started_at < now()));
    }

    #[test]
    fn variety_the_dashboard_needs_is_present() {
        let d = data();
        let n = now();
        for t in ["direct_play", "direct_stream", "transcode"] {
            assert!(d.rows.iter().any(|r| r.playback_type == t), "{t}");
        }
        let hour = n - Duration::hours(1);
        let playing = d
            .rows
            .iter()
            .filter(|r| r.is_active() && r.started_at > hour)
            .count();
        assert!(playing >= 3, "{playing} rows open from the last hour");
        assert!(d
            .rows
            .iter()
            .any(|r| r.playback_type == "transcode" && r.started_at > hour));
        assert!(d
            .rows
            .iter()
            .any(|r| r.playback_type == "transcode" && r.started_at < n - Duration::days(30)));
        // The restart left direct requests open.
        assert!(d
            .rows
            .iter()
            .any(|r| r.playback_type != "transcode" && r.is_active() && r.started_at < hour));
        // Most viewings are several request rows.
        let direct = d
            .rows
            .iter()
            .filter(|r| r.playback_type != "transcode")
            .count();
        assert!(
            direct > d.viewings,
            "{direct} direct rows, {} viewings",
            d.viewings
        );
        assert!(d.history.iter().filter(|h| h.completed).count() * 10 < d.history.len());
        assert!(d.items.iter().any(|i| i.play_count > 0));
        assert!(d
            .metrics
            .iter()
            .all(|m| m.active_streams >= m.active_transcodes));
        assert!(d.daily.iter().all(|s| s.total_plays > 0));
        assert!(d.daily.iter().any(|s| s.new_media_added > 0));
        let last = d.metrics.last().expect("metrics");
        assert!((last.disk_total_gb - last.disk_used_gb - last.disk_free_gb).abs() < 0.01);
    }

    #[test]
    fn evenings_are_busier_than_early_mornings() {
        let d = data();
        let by_hour = |h: u32| {
            d.rows
                .iter()
                .filter(|r| {
                    r.started_at
                        .with_timezone(&chrono_tz::Europe::Berlin)
                        .hour()
                        == h
                })
                .count()
        };
        assert!(by_hour(20) > 4 * by_hour(4).max(1));
    }
}
