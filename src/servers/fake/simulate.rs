//! Populating a fake server's world (users, libraries, a catalogue of any size) and living in
//! it: viewers start, pause, seek, transcode and stop, so that the demo shows sessions arrive
//! live and the benchmarks have realistic sessions to poll.

use chrono::{Duration as ChronoDuration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{FakeItem, FakeLibrary, FakePlay, FakeSession, FakeUser, World};
use crate::ingest::events::MediaType;
use crate::servers::model::ServerKind;

const GENRES: [&str; 12] = [
    "Drama",
    "Comedy",
    "Action",
    "Thriller",
    "Science Fiction",
    "Animation",
    "Documentary",
    "Crime",
    "Family",
    "Horror",
    "Romance",
    "Adventure",
];

const WORDS: [&str; 24] = [
    "Silent", "River", "Night", "Glass", "Empire", "Winter", "Signal", "Harbor", "Ember", "Atlas",
    "Echo", "Orbit", "Meadow", "Cipher", "Lantern", "Storm", "Velvet", "Summit", "Parallel",
    "Hollow", "Copper", "Drift", "Aurora", "Frontier",
];

/// An id in the server's own style: Jellyfin and Emby write 32 hex digits without dashes
/// (Emby also uses plain numbers for items; dashless GUIDs are the harder case), Plex uses
/// small integers (`ratingKey`, account ids).
pub fn native_id(kind: ServerKind, namespace: u32, n: u64) -> String {
    match kind {
        ServerKind::Plex => (u64::from(namespace) * 1_000_000 + n).to_string(),
        ServerKind::Jellyfin | ServerKind::Emby => {
            format!(
                "{namespace:08x}{:024x}",
                n.wrapping_mul(0x9e37_79b9_7f4a_7c15)
            )
        }
    }
}

/// `users` users (the first an admin), a movie library, a TV library and a music library, and
/// `items` items spread over them (60 % episodes, 30 % movies, 10 % tracks), each with what
/// a real library has: most with an overview, a poster, genres and a year, some without;
/// codecs, resolutions, HDR and Atmos in realistic shares. `seed` makes it repeatable. The
/// same seed and counts give the same native ids on every kind's numbering, so two fakes of
/// the same kind collide on every id, as two real Plex servers do.
pub fn populate(world: &mut World, users: usize, items: usize, seed: u64) {
    let kind = world.kind;
    let mut rng = StdRng::seed_from_u64(seed);
    world.users = (0..users.max(1))
        .map(|n| FakeUser {
            id: native_id(kind, 1, n as u64 + 1),
            name: if n == 0 {
                "admin".to_owned()
            } else {
                format!("viewer{n}")
            },
            admin: n == 0,
        })
        .collect();
    world.libraries = vec![
        FakeLibrary {
            id: native_id(kind, 2, 1),
            name: "Movies".into(),
            media_type: MediaType::Movies,
        },
        FakeLibrary {
            id: native_id(kind, 2, 2),
            name: "TV Shows".into(),
            media_type: MediaType::TvShows,
        },
        FakeLibrary {
            id: native_id(kind, 2, 3),
            name: "Music".into(),
            media_type: MediaType::Music,
        },
    ];
    let now = Utc::now();
    world.items = (0..items)
        .map(|n| {
            let roll = rng.gen_range(0..10);
            let (library, media_type) = match roll {
                0..=5 => (1, MediaType::TvShows),
                6..=8 => (0, MediaType::Movies),
                _ => (2, MediaType::Music),
            };
            let name = format!(
                "{} {}",
                WORDS[rng.gen_range(0..WORDS.len())],
                WORDS[rng.gen_range(0..WORDS.len())]
            );
            let video = media_type != MediaType::Music;
            let (width, height, codec) = if video {
                match rng.gen_range(0..10) {
                    0..=1 => (3840, 2160, "hevc"),
                    2..=7 => (1920, 1080, if rng.gen_bool(0.4) { "hevc" } else { "h264" }),
                    8 => (1280, 720, "h264"),
                    _ => (720, 480, "mpeg2video"),
                }
            } else {
                (0, 0, "")
            };
            let hdr = (video && height >= 2160 && rng.gen_bool(0.7)).then(|| {
                if rng.gen_bool(0.4) {
                    "Dolby Vision".to_owned()
                } else {
                    "HDR10".to_owned()
                }
            });
            let audio_codec = if video {
                ["eac3", "ac3", "aac", "truehd", "dts"][rng.gen_range(0..5)]
            } else {
                ["flac", "mp3", "aac"][rng.gen_range(0..3)]
            };
            let atmos = matches!(audio_codec, "truehd" | "eac3") && rng.gen_bool(0.3);
            let runtime = match media_type {
                MediaType::Movies => rng.gen_range(80..170) * 60,
                MediaType::TvShows => rng.gen_range(20..65) * 60,
                _ => rng.gen_range(150..420),
            };
            let bitrate: i64 = match (video, height) {
                (false, _) => rng.gen_range(256..1400),
                (true, h) if h >= 2160 => rng.gen_range(25_000..60_000),
                (true, h) if h >= 1080 => rng.gen_range(5_000..14_000),
                _ => rng.gen_range(1_500..4_000),
            };
            let container = if video {
                if rng.gen_bool(0.8) {
                    "mkv"
                } else {
                    "mp4"
                }
            } else {
                "flac"
            };
            let series = (media_type == MediaType::TvShows).then(|| {
                format!(
                    "The {} {}",
                    WORDS[(n / 40) % WORDS.len()],
                    WORDS[(n / 7) % WORDS.len()]
                )
            });
            let added = now - ChronoDuration::minutes(rng.gen_range(60..(3 * 365 * 24 * 60)));
            FakeItem {
                id: native_id(kind, 3, n as u64 + 1),
                library_id: world.libraries[library].id.clone(),
                name: name.clone(),
                media_type,
                season: series.as_ref().map(|_| (n as i64 / 10) % 8 + 1),
                episode: series.as_ref().map(|_| n as i64 % 10 + 1),
                series,
                year: rng.gen_bool(0.95).then(|| rng.gen_range(1960..2027)),
                overview: rng.gen_bool(0.9).then(|| {
                    format!(
                        "{name}: a story of {} and {}.",
                        WORDS[n % 24],
                        WORDS[(n + 5) % 24]
                    )
                }),
                has_poster: rng.gen_bool(0.93),
                genres: if rng.gen_bool(0.92) {
                    let a = GENRES[rng.gen_range(0..GENRES.len())];
                    let b = GENRES[rng.gen_range(0..GENRES.len())];
                    if a == b {
                        vec![a.to_owned()]
                    } else {
                        vec![a.to_owned(), b.to_owned()]
                    }
                } else {
                    Vec::new()
                },
                runtime_seconds: runtime,
                video_codec: video.then(|| codec.to_owned()),
                audio_codec: Some(audio_codec.to_owned()),
                width: video.then_some(width),
                height: video.then_some(height),
                hdr,
                audio_format: atmos.then(|| {
                    if audio_codec == "truehd" {
                        "TrueHD Atmos".to_owned()
                    } else {
                        "EAC3 Atmos".to_owned()
                    }
                }),
                audio_channels: Some(if video { 6 } else { 2 }),
                container: Some(container.to_owned()),
                path: Some(format!(
                    "/media/{}/{}/{name} ({n}).{container}",
                    world.libraries[library]
                        .name
                        .to_lowercase()
                        .replace(' ', "-"),
                    n / 100
                )),
                size: Some(bitrate * 1000 / 8 * runtime),
                bitrate_kbps: Some(bitrate),
                added_at: added,
                updated_at: added,
            }
        })
        .collect();
}

/// A session of `user` playing `item` on a device of its own (`n` makes the ids).
pub fn session(world: &World, n: u64, user: usize, item: usize, play: FakePlay) -> FakeSession {
    let kind = world.kind;
    let (product, platform, device) = match (kind, n % 4) {
        (ServerKind::Plex, 0) => ("Plex Web", "Chrome", "Chrome"),
        (ServerKind::Plex, 1) => ("Plex for Android (TV)", "Android", "SHIELD Android TV"),
        (ServerKind::Plex, 2) => ("Plex for iOS", "iOS", "iPhone"),
        (ServerKind::Plex, _) => ("Plex HTPC", "Linux", "htpc"),
        (ServerKind::Emby, 0) => ("Emby Web", "Chrome", "Chrome"),
        (ServerKind::Emby, 1) => ("Emby for Android", "Android", "Pixel 8"),
        (ServerKind::Emby, 2) => ("Emby Theater", "Windows", "Living Room PC"),
        (ServerKind::Emby, _) => ("Emby for Apple TV", "tvOS", "Apple TV"),
        (_, 0) => ("Jellyfin Web", "Chrome", "Chrome"),
        (_, 1) => ("Jellyfin Android TV", "Android", "Living Room TV"),
        (_, 2) => ("Swiftfin", "iOS", "iPhone"),
        (_, _) => ("Jellyfin Media Player", "Linux", "htpc"),
    };
    FakeSession {
        session_id: match kind {
            ServerKind::Plex => format!("{:024x}", n.wrapping_mul(0x2545_f491_4f6c_dd1d)),
            _ => native_id(kind, 9, n),
        },
        session_key: (n + 1).to_string(),
        user_id: world.users[user % world.users.len()].id.clone(),
        item_id: world.items[item % world.items.len()].id.clone(),
        device_id: format!("device-{n:04}-{}", kind.as_str()),
        product: product.to_owned(),
        device: device.to_owned(),
        platform: platform.to_owned(),
        address: format!("192.168.1.{}", 20 + n % 200),
        paused: false,
        position_seconds: 0,
        play,
        transcode_bytes: -22,
        direct_play_error: false,
    }
}

/// Viewers that come and go: call [`Life::step`] every few seconds.
pub struct Life {
    rng: StdRng,
    next: u64,
    /// How many sessions to keep playing, about.
    pub target: usize,
}

impl Life {
    pub fn new(seed: u64, target: usize) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            next: 1,
            target,
        }
    }

    /// Moves the world on by `elapsed` seconds: playing sessions advance, some pause or
    /// resume, finished ones stop, new ones start to keep about `target` playing.
    pub fn step(&mut self, world: &mut World, elapsed: i64) {
        if world.items.is_empty() || world.users.is_empty() {
            return;
        }
        let runtimes: std::collections::HashMap<String, i64> = world
            .items
            .iter()
            .map(|i| (i.id.clone(), i.runtime_seconds))
            .collect();
        let rng = &mut self.rng;
        world.sessions.retain_mut(|s| {
            if !s.paused {
                s.position_seconds += elapsed;
                if s.transcode_bytes >= 0 || matches!(s.play, FakePlay::Transcode { .. }) {
                    s.transcode_bytes = s.transcode_bytes.max(0) + elapsed * 500_000;
                }
            }
            if rng.gen_bool(0.05) {
                s.paused = !s.paused;
            }
            let runtime = runtimes.get(&s.item_id).copied().unwrap_or(0);
            s.position_seconds < runtime && !rng.gen_bool(0.02)
        });
        while world.sessions.len() < self.target {
            let n = self.next;
            self.next += 1;
            let user = rng.gen_range(0..world.users.len());
            let item = rng.gen_range(0..world.items.len());
            let play = match rng.gen_range(0..10) {
                0..=4 => FakePlay::DirectPlay,
                5 => FakePlay::Remux,
                6 => FakePlay::AudioTranscode {
                    output_audio_codec: "aac".into(),
                },
                _ => FakePlay::Transcode {
                    output_codec: "h264".into(),
                    output_height: if rng.gen_bool(0.5) { 1080 } else { 720 },
                    hw: rng.gen_bool(0.6).then(|| "nvenc".to_owned()),
                    error: false,
                },
            };
            let mut s = session(world, n, user, item, play);
            let runtime = world.items[item].runtime_seconds;
            s.position_seconds = rng.gen_range(0..(runtime / 2).max(1));
            world.sessions.push(s);
        }
    }
}
