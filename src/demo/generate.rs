//! Pure generation of the demo data set from a seeded random generator, so it can be unit
//! tested and two runs with one seed produce the same catalogue.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use uuid::Uuid;

use super::Counts;

const NAMESPACE: Uuid = Uuid::from_u128(0x6c1e_7a11_d3a0_4c0e_9d6f_2b1e_5c0d_e000);

/// Stable ids, so the demo's records are recognisable and a re-seed is idempotent.
pub fn demo_id(kind: &str, n: usize) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{kind}/{n}").as_bytes())
}

pub struct Library {
    pub id: Uuid,
    pub name: &'static str,
    /// CineVault's `media_type` enum value (`movies`, `tv_shows`, ...).
    pub media_type: &'static str,
    /// `timestamp without time zone`, in UTC.
    pub created_at: NaiveDateTime,
}

pub struct MediaItem {
    pub id: Uuid,
    pub library_id: Uuid,
    pub title: String,
    /// CineVault's `media_type` enum value: an episode is `tv_shows`, a movie `movies`.
    pub media_type: &'static str,
    pub year: i32,
    pub description: Option<String>,
    pub poster_path: Option<String>,
    /// Genre names, written as `tags` (category 'genre') linked through `media_tags`.
    pub genres: Vec<&'static str>,
    pub duration_seconds: i32,
    pub codec: &'static str,
    pub audio_codec: &'static str,
    pub resolution: &'static str,
    pub hdr_format: Option<&'static str>,
    pub audio_format: Option<&'static str>,
    pub container: &'static str,
    pub file_path: String,
    pub file_size: i64,
    /// `timestamp without time zone`, in UTC.
    pub added_at: NaiveDateTime,
}

pub struct User {
    pub id: Uuid,
    pub username: String,
    /// CineVault's `user_role` enum value.
    pub role: &'static str,
    pub is_active: bool,
    /// `timestamp without time zone`, in UTC.
    pub created_at: NaiveDateTime,
    /// Relative activity: a few heavy watchers, many light ones.
    weight: f64,
}

pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub media_item_id: Uuid,
    pub playback_type: &'static str,
    pub quality: Option<&'static str>,
    pub codec: &'static str,
    pub resolution: &'static str,
    pub container: &'static str,
    pub bytes_served: i64,
    pub duration_seconds: i32,
    pub client_info: &'static str,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub is_active: bool,
}

pub struct Transcode {
    pub id: Uuid,
    pub media_item_id: Uuid,
    pub user_id: Uuid,
    pub input_codec: &'static str,
    pub output_codec: &'static str,
    pub input_resolution: &'static str,
    pub output_resolution: &'static str,
    pub hw_accel: Option<&'static str>,
    pub quality: &'static str,
    pub duration_seconds: i32,
    pub file_size_bytes: i64,
    pub success: bool,
    pub error_message: Option<&'static str>,
    pub started_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

pub struct StreamError {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub media_item_id: Uuid,
    pub message: &'static str,
    pub occurred_at: DateTime<Utc>,
}

pub struct SystemMetric {
    pub cpu_percent: f32,
    pub memory_percent: f32,
    pub memory_used_mb: i32,
    pub gpu_encoder_percent: f32,
    pub gpu_memory_percent: f32,
    pub gpu_temp_celsius: f32,
    pub disk_total_gb: f32,
    pub disk_used_gb: f32,
    pub disk_free_gb: f32,
    pub active_streams: i32,
    pub active_transcodes: i32,
    pub recorded_at: DateTime<Utc>,
}

pub struct DemoData {
    pub host: String,
    pub libraries: Vec<Library>,
    pub media_items: Vec<MediaItem>,
    pub users: Vec<User>,
    pub sessions: Vec<Session>,
    pub transcodes: Vec<Transcode>,
    pub stream_errors: Vec<StreamError>,
    pub system_metrics: Vec<SystemMetric>,
}

impl DemoData {
    pub fn counts(&self) -> Counts {
        Counts {
            libraries: self.libraries.len(),
            media_items: self.media_items.len(),
            users: self.users.len(),
            sessions: self.sessions.len(),
            transcodes: self.transcodes.len(),
            stream_errors: self.stream_errors.len(),
            system_metrics: self.system_metrics.len(),
        }
    }
}

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
];
const NOUNS: &[&str] = &[
    "Harbor", "Kingdom", "Signal", "Frontier", "Garden", "Empire", "Horizon", "Witness", "River",
    "Machine", "Orchard", "Station", "Protocol", "Lantern", "Archive", "Summit", "Tide", "Cipher",
];
const GENRES: &[&str] = &[
    "Action",
    "Adventure",
    "Animation",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Family",
    "Fantasy",
    "Horror",
    "Mystery",
    "Romance",
    "Science Fiction",
    "Thriller",
    "War",
    "Western",
];
const NAMES: &[&str] = &[
    "admin",
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "niaj",
    "olivia",
    "peggy",
    "rupert",
    "sybil",
    "trent",
    "uma",
    "victor",
    "walter",
    "xena",
    "yusuf",
    "zoe",
    "kids-room",
];
const CLIENTS: &[&str] = &[
    "CineVault Web (Chrome 131)",
    "CineVault Web (Firefox 133)",
    "CineVault Android TV 2.4.1",
    "CineVault iOS 2.4.0",
    "Apple TV (Infuse 7.8)",
    "Roku Ultra",
    "LG webOS 23",
    "Kodi 21 (CineVault add-on)",
];
const TRANSCODE_ERRORS: &[&str] = &[
    "Conversion failed: Error while opening encoder for output stream #0:0",
    "NVENC: OpenEncodeSessionEx failed: out of memory (10)",
    "Invalid data found when processing input",
    "ffmpeg exited with status 137 (killed)",
    "Subtitle burn-in failed: unsupported codec hdmv_pgs_subtitle",
];
const STREAM_ERRORS: &[&str] = &[
    "client disconnected: broken pipe",
    "segment not found: transcode fell behind playback",
    "read timeout on media storage",
    "range request beyond end of file",
];

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

fn pick_str(rng: &mut StdRng, items: &[&'static str]) -> &'static str {
    items[rng.gen_range(0..items.len())]
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

/// Typical bitrate of a file, in bytes per second.
fn bytes_per_second(resolution: &str) -> i64 {
    match resolution {
        "2160p" => 5_000_000,
        "1080p" => 1_500_000,
        "720p" => 700_000,
        _ => 300_000,
    }
}

pub fn generate(rng: &mut StdRng, now: DateTime<Utc>, tz: Tz, host: &str) -> DemoData {
    let libraries = vec![
        library(0, "Movies", "movies", now - Duration::days(900)),
        library(1, "TV Shows", "shows", now - Duration::days(900)),
        library(2, "4K Movies", "movies", now - Duration::days(500)),
        library(3, "Anime", "shows", now - Duration::days(300)),
    ];
    let media_items = media_items(rng, &libraries, now);
    let users = users(rng, now);
    let (sessions, transcodes, stream_errors) = activity(rng, &media_items, &users, now, tz);
    let system_metrics = system_metrics(rng, now, tz);
    DemoData {
        host: host.to_owned(),
        libraries,
        media_items,
        users,
        sessions,
        transcodes,
        stream_errors,
        system_metrics,
    }
}

fn library(n: usize, name: &'static str, kind: &'static str, at: DateTime<Utc>) -> Library {
    Library {
        id: demo_id("library", n),
        name,
        media_type: library_media_type(kind),
        created_at: at.naive_utc(),
    }
}

/// The demo's library kinds as CineVault's `media_type` values.
fn library_media_type(kind: &str) -> &'static str {
    match kind {
        "movies" => "movies",
        "shows" => "tv_shows",
        "music" => "music",
        _ => "other_videos",
    }
}

/// The demo's item kinds as CineVault's `media_type` values (an episode is `tv_shows`).
fn item_media_type(kind: &str) -> &'static str {
    match kind {
        "movie" => "movies",
        "episode" => "tv_shows",
        "track" => "music",
        _ => "other_videos",
    }
}

/// CineVault's tag slug: the name in lower case, spaces as dashes (its handlers_metadata.go).
pub fn genre_slug(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
        .to_lowercase()
}

fn media_items(rng: &mut StdRng, libraries: &[Library], now: DateTime<Utc>) -> Vec<MediaItem> {
    // (library index, number of items): 2,000 in all.
    let plan = [(0usize, 720usize), (1, 960), (2, 160), (3, 160)];
    let mut items = Vec::with_capacity(2000);
    for (lib_index, count) in plan {
        let lib = &libraries[lib_index];
        let is_show = lib.media_type == "tv_shows";
        for i in 0..count {
            let n = items.len();
            let (title, kind, runtime_min) = if is_show {
                let show = i / 24;
                let season = (i % 24) / 8 + 1;
                let episode = i % 8 + 1;
                let name = format!(
                    "{} {}",
                    ADJECTIVES[(show * 7 + lib_index) % ADJECTIVES.len()],
                    NOUNS[(show * 5 + 3) % NOUNS.len()]
                );
                (
                    format!("{name} S{season:02}E{episode:02}"),
                    "episode",
                    rng.gen_range(22..62),
                )
            } else {
                (
                    format!("The {} {}", pick(rng, ADJECTIVES), pick(rng, NOUNS)),
                    "movie",
                    rng.gen_range(84..165),
                )
            };
            let resolution = if lib_index == 2 {
                "2160p"
            } else {
                weighted(
                    rng,
                    &[("1080p", 62), ("720p", 22), ("2160p", 8), ("480p", 8)],
                )
            };
            let codec = if resolution == "2160p" {
                weighted(rng, &[("hevc", 85), ("av1", 15)])
            } else {
                weighted(rng, &[("h264", 62), ("hevc", 30), ("av1", 4), ("mpeg4", 4)])
            };
            let hdr_format = if resolution == "2160p" {
                Some(weighted(
                    rng,
                    &[
                        ("HDR10", 50),
                        ("Dolby Vision", 35),
                        ("HDR10+", 10),
                        ("HLG", 5),
                    ],
                ))
            } else if codec == "hevc" && rng.gen_bool(0.1) {
                Some("HDR10")
            } else {
                None
            };
            let audio_codec = weighted(
                rng,
                &[
                    ("aac", 40),
                    ("ac3", 22),
                    ("eac3", 18),
                    ("truehd", 10),
                    ("dts", 10),
                ],
            );
            let atmos = matches!(audio_codec, "truehd" | "eac3")
                && rng.gen_bool(if lib_index == 2 { 0.7 } else { 0.25 });
            let audio_format = if atmos {
                Some("Dolby Atmos")
            } else {
                match audio_codec {
                    "truehd" => Some("Dolby TrueHD 7.1"),
                    "dts" => Some("DTS-HD MA 5.1"),
                    "aac" => Some("AAC Stereo"),
                    _ => Some("Dolby Digital 5.1"),
                }
            };
            let container = if codec == "mpeg4" {
                "avi"
            } else {
                weighted(rng, &[("mkv", 75), ("mp4", 25)])
            };
            let duration_seconds = runtime_min * 60;
            let file_size =
                bytes_per_second(resolution) * i64::from(duration_seconds) * rng.gen_range(80..125)
                    / 100;
            let genre_count = rng.gen_range(1..4);
            let mut genres: Vec<&'static str> =
                GENRES.choose_multiple(rng, genre_count).copied().collect();
            if lib_index == 3 && !genres.contains(&"Animation") {
                genres.insert(0, "Animation");
            }
            // Most of the library is old; a steady trickle arrives, more of it recently.
            let age_days = if rng.gen_bool(0.15) {
                rng.gen_range(0..90)
            } else {
                rng.gen_range(90..850)
            };
            let added_at =
                now - Duration::days(age_days) - Duration::minutes(rng.gen_range(0..1440));
            let slug = title.to_lowercase().replace(' ', ".");
            items.push(MediaItem {
                id: demo_id("media", n),
                library_id: lib.id,
                media_type: item_media_type(kind),
                year: rng.gen_range(1972..2027),
                description: (!rng.gen_bool(0.06)).then(|| {
                    format!(
                        "{title}: a story of {} and {}.",
                        pick(rng, NOUNS).to_lowercase(),
                        pick(rng, NOUNS).to_lowercase()
                    )
                }),
                poster_path: (!rng.gen_bool(0.04))
                    .then(|| format!("/metadata/posters/{}.jpg", demo_id("poster", n))),
                file_path: format!(
                    "/media/{}/{slug}.{container}",
                    lib.name.to_lowercase().replace(' ', "-")
                ),
                title,
                genres,
                duration_seconds,
                codec,
                audio_codec,
                resolution,
                hdr_format,
                audio_format,
                container,
                file_size,
                added_at: added_at.naive_utc(),
            });
        }
    }
    items
}

fn users(rng: &mut StdRng, now: DateTime<Utc>) -> Vec<User> {
    NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| User {
            id: demo_id("user", i),
            username: (*name).to_owned(),
            role: if i == 0 { "admin" } else { "user" },
            is_active: true,
            created_at: (now - Duration::days(rng.gen_range(100..700))).naive_utc(),
            // Zipf-like: the first few users watch far more than the rest.
            weight: 1.0 / (1.0 + i as f64 * 0.35),
        })
        .collect()
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

/// Viewing by local hour: quiet nights, a lunch bump, a strong evening peak.
const HOUR_WEIGHTS: [u32; 24] = [
    4, 2, 1, 1, 1, 1, 1, 2, 3, 3, 4, 5, 6, 5, 5, 6, 7, 9, 12, 16, 18, 17, 13, 8,
];

type Activity = (Vec<Session>, Vec<Transcode>, Vec<StreamError>);

fn activity(
    rng: &mut StdRng,
    items: &[MediaItem],
    users: &[User],
    now: DateTime<Utc>,
    tz: Tz,
) -> Activity {
    let hours: Vec<(u32, u32)> = HOUR_WEIGHTS
        .iter()
        .enumerate()
        .map(|(h, w)| (h as u32, *w))
        .collect();
    let user_weights: Vec<(usize, u32)> = users
        .iter()
        .enumerate()
        .map(|(i, u)| (i, (u.weight * 1000.0) as u32))
        .collect();
    let today = now.with_timezone(&tz).date_naive();
    let (mut sessions, mut transcodes, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    // Popular titles get most plays.
    let popular: Vec<usize> = (0..items.len()).filter(|_| rng.gen_bool(0.12)).collect();

    for back in (0..super::HISTORY_DAYS).rev() {
        let day = today - Duration::days(back);
        let weekend = matches!(day.format("%a").to_string().as_str(), "Sat" | "Sun" | "Fri");
        let base = if weekend { 82 } else { 58 };
        let plays = rng.gen_range(base - 12..base + 12);
        for _ in 0..plays {
            let hour = weighted(rng, &hours);
            let started_at = local_to_utc(tz, day, hour * 3600 + rng.gen_range(0..3600));
            if started_at > now - Duration::minutes(20) {
                continue;
            }
            let user = &users[weighted(rng, &user_weights)];
            let item = if rng.gen_bool(0.6) && !popular.is_empty() {
                &items[*pick(rng, &popular)]
            } else {
                pick(rng, items)
            };
            let playback_type = weighted(
                rng,
                &[
                    ("direct_play", 55),
                    ("direct_stream", 20),
                    ("transcode", 25),
                ],
            );
            let watched = if rng.gen_bool(0.58) {
                rng.gen_range(0.9..1.0)
            } else {
                rng.gen_range(0.03..0.9)
            };
            let duration_seconds = (f64::from(item.duration_seconds) * watched) as i32;
            let ended_at =
                started_at + Duration::seconds(i64::from(duration_seconds) + rng.gen_range(5..240));
            let (is_active, ended_at) = if ended_at > now {
                (true, None)
            } else {
                (false, Some(ended_at))
            };
            let session = make_session(
                rng,
                sessions.len(),
                user,
                item,
                playback_type,
                started_at,
                ended_at,
                is_active,
                duration_seconds,
            );
            if playback_type == "transcode" {
                transcodes.push(make_transcode(rng, transcodes.len(), &session, item));
            }
            if rng.gen_bool(0.012) {
                errors.push(StreamError {
                    session_id: session.id,
                    user_id: user.id,
                    media_item_id: item.id,
                    message: pick_str(rng, STREAM_ERRORS),
                    occurred_at: started_at + Duration::seconds(i64::from(duration_seconds)),
                });
            }
            sessions.push(session);
        }
    }
    // Something is always playing when an admin opens the demo.
    for (k, playback_type) in ["direct_play", "transcode", "direct_stream"]
        .iter()
        .enumerate()
    {
        let user = &users[k + 1];
        let item = &items[(k * 397) % items.len()];
        let started_at = now - Duration::minutes(8 + 11 * k as i64);
        let elapsed = (now - started_at).num_seconds() as i32;
        let session = make_session(
            rng,
            sessions.len(),
            user,
            item,
            playback_type,
            started_at,
            None,
            true,
            elapsed,
        );
        if *playback_type == "transcode" {
            let mut t = make_transcode(rng, transcodes.len(), &session, item);
            t.completed_at = None;
            t.success = true;
            t.error_message = None;
            transcodes.push(t);
        }
        sessions.push(session);
    }
    (sessions, transcodes, errors)
}

#[allow(clippy::too_many_arguments)]
fn make_session(
    rng: &mut StdRng,
    n: usize,
    user: &User,
    item: &MediaItem,
    playback_type: &'static str,
    started_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    is_active: bool,
    duration_seconds: i32,
) -> Session {
    let (codec, resolution, quality, rate) = if playback_type == "transcode" {
        let res = weighted(rng, &[("1080p", 45), ("720p", 45), ("480p", 10)]);
        let quality = match res {
            "1080p" => "1080p 8 Mbps",
            "720p" => "720p 4 Mbps",
            _ => "480p 1.5 Mbps",
        };
        ("h264", res, Some(quality), bytes_per_second(res))
    } else {
        (
            item.codec,
            item.resolution,
            Some("original"),
            bytes_per_second(item.resolution),
        )
    };
    Session {
        id: demo_id("session", n),
        user_id: user.id,
        media_item_id: item.id,
        playback_type,
        quality,
        codec,
        resolution,
        container: if playback_type == "direct_play" {
            item.container
        } else {
            "mpegts"
        },
        bytes_served: rate * i64::from(duration_seconds),
        duration_seconds,
        client_info: pick_str(rng, CLIENTS),
        started_at,
        ended_at,
        is_active,
    }
}

fn make_transcode(rng: &mut StdRng, n: usize, session: &Session, item: &MediaItem) -> Transcode {
    let hw_accel = weighted(
        rng,
        &[
            (Some("h264_nvenc"), 55),
            (Some("h264_vaapi"), 15),
            (Some("h264_qsv"), 10),
            (None, 20),
        ],
    );
    let success = !rng.gen_bool(0.035);
    let speed = if hw_accel.is_some() {
        rng.gen_range(3.0..8.0)
    } else {
        rng.gen_range(0.9..2.5)
    };
    let duration_seconds = (f64::from(session.duration_seconds) / speed) as i32;
    Transcode {
        id: demo_id("transcode", n),
        media_item_id: item.id,
        user_id: session.user_id,
        input_codec: item.codec,
        output_codec: session.codec,
        input_resolution: item.resolution,
        output_resolution: session.resolution,
        hw_accel,
        quality: session.quality.unwrap_or("720p 4 Mbps"),
        duration_seconds: if success {
            duration_seconds
        } else {
            rng.gen_range(1..90)
        },
        file_size_bytes: if success { session.bytes_served } else { 0 },
        success,
        error_message: (!success).then(|| pick_str(rng, TRANSCODE_ERRORS)),
        started_at: session.started_at,
        completed_at: Some(
            session.started_at + Duration::seconds(i64::from(duration_seconds.max(1))),
        ),
    }
}

fn system_metrics(rng: &mut StdRng, now: DateTime<Utc>, tz: Tz) -> Vec<SystemMetric> {
    let minutes = 7 * 24 * 60;
    let start = now - Duration::minutes(minutes);
    let total_gb = 8001.6_f32;
    let mut used_gb = 5210.0_f32;
    let mut out = Vec::with_capacity(minutes as usize);
    for m in 0..minutes {
        let at = start + Duration::minutes(m + 1);
        let hour = at.with_timezone(&tz).hour() as usize;
        let load = HOUR_WEIGHTS[hour] as f32 / 18.0;
        let streams = (load * 6.0 + rng.gen_range(-1.0..1.5)).round().max(0.0) as i32;
        let transcodes = (streams as f32 * 0.3).round() as i32;
        used_gb += rng.gen_range(0.0..0.012);
        let cpu = (4.0 + load * 25.0 + transcodes as f32 * 6.0 + rng.gen_range(-3.0..6.0))
            .clamp(0.5, 100.0);
        let mem = (38.0 + load * 14.0 + rng.gen_range(-2.0..2.0)).clamp(5.0, 99.0);
        out.push(SystemMetric {
            cpu_percent: cpu,
            memory_percent: mem,
            memory_used_mb: (mem / 100.0 * 15_885.0) as i32,
            gpu_encoder_percent: (transcodes as f32 * 14.0 + rng.gen_range(0.0..4.0)).min(100.0),
            gpu_memory_percent: (6.0 + transcodes as f32 * 9.0 + rng.gen_range(0.0..3.0))
                .min(100.0),
            gpu_temp_celsius: 38.0 + transcodes as f32 * 7.5 + rng.gen_range(-1.5..1.5),
            disk_total_gb: total_gb,
            disk_used_gb: used_gb,
            disk_free_gb: total_gb - used_gb,
            active_streams: streams,
            active_transcodes: transcodes,
            recorded_at: at,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn data() -> DemoData {
        let mut rng = StdRng::seed_from_u64(25);
        let now = Utc
            .with_ymd_and_hms(2026, 11, 28, 20, 0, 0)
            .single()
            .expect("time");
        generate(&mut rng, now, chrono_tz::Europe::Berlin, "media1")
    }

    #[test]
    fn sizes_match_the_brief() {
        let d = data();
        assert_eq!(d.media_items.len(), 2000);
        assert_eq!(d.users.len(), 25);
        assert_eq!(d.system_metrics.len(), 7 * 24 * 60);
        assert!(
            d.sessions.len() > 4000 && d.sessions.len() < 9000,
            "{}",
            d.sessions.len()
        );
    }

    #[test]
    fn variety_the_dashboard_needs_is_present() {
        let d = data();
        for t in ["direct_play", "direct_stream", "transcode"] {
            assert!(d.sessions.iter().any(|s| s.playback_type == t), "{t}");
        }
        let active = d.sessions.iter().filter(|s| s.is_active).count();
        assert!(active >= 3);
        let failures = d.transcodes.iter().filter(|t| !t.success).count();
        let share = failures as f64 / d.transcodes.len() as f64;
        assert!((0.01..0.08).contains(&share), "failure share {share}");
        assert!(d.transcodes.iter().any(|t| t.hw_accel.is_none()));
        assert!(d.media_items.iter().any(|m| m.hdr_format.is_some()));
        assert!(d
            .media_items
            .iter()
            .any(|m| m.audio_format == Some("Dolby Atmos")));
        assert!(d.media_items.iter().any(|m| m.description.is_none()));
        assert!(d.media_items.iter().any(|m| m.poster_path.is_none()));
        assert!(!d.stream_errors.is_empty());
        // Every session ends after it starts, and only active ones have no end.
        assert!(d
            .sessions
            .iter()
            .all(|s| s.ended_at.map_or(true, |e| e >= s.started_at)));
        assert!(d
            .sessions
            .iter()
            .all(|s| s.is_active == s.ended_at.is_none()));
    }

    #[test]
    fn kinds_are_cinevault_enum_values() {
        let d = data();
        let kinds = [
            "movies",
            "tv_shows",
            "adult_movies",
            "music",
            "music_videos",
            "home_videos",
            "other_videos",
            "images",
            "audiobooks",
        ];
        assert!(d.libraries.iter().all(|l| kinds.contains(&l.media_type)));
        assert!(d.media_items.iter().all(|m| kinds.contains(&m.media_type)));
        assert!(d.media_items.iter().any(|m| m.media_type == "tv_shows"));
        assert!(d.media_items.iter().any(|m| m.media_type == "movies"));
        assert_eq!(d.users.iter().filter(|u| u.role == "admin").count(), 1);
        assert_eq!(genre_slug("Science Fiction"), "science-fiction");
        assert_eq!(genre_slug(" War "), "war");
    }

    #[test]
    fn evenings_are_busier_than_early_mornings() {
        let d = data();
        let by_hour = |h: u32| {
            d.sessions
                .iter()
                .filter(|s| {
                    s.started_at
                        .with_timezone(&chrono_tz::Europe::Berlin)
                        .hour()
                        == h
                })
                .count()
        };
        assert!(by_hour(20) > 4 * by_hour(4).max(1));
    }
}
