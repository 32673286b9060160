//! A database made by the sidecar's first release (its own core tables: users.is_admin,
//! libraries.library_type, media_items with overview, runtime_seconds, video_codec,
//! file_size_bytes, created_at and genres TEXT[]) is moved onto CineVault's names and types
//! on the next start (migrations/002_standalone_rename.sql), keeping every row, and then
//! serves the same figures. The first release's schema is built from its own migrations,
//! kept byte for byte in tests/fixtures/legacy_schema, as its refinery runner applied them.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use cinevault_analytics::config::DatabaseMode;
use cinevault_analytics::db::schema::{self, Catalog, Kind, NotReady, Options, Outcome, Prepared};
use serde_json::{json, Value};
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;
use uuid::Uuid;

use super::at;
use crate::common::{test_config, TestApp, TestDb};
use crate::schema::{analytics_foreign_keys, core_snapshot};

/// The first release's migrations in the order its runner applied them.
const LEGACY: [(i32, &str, &str); 6] = [
    (
        1,
        "core_contract",
        include_str!("../../fixtures/legacy_schema/V1__core_contract.sql"),
    ),
    (
        25,
        "server_analytics",
        include_str!("../../fixtures/legacy_schema/V25__server_analytics.sql"),
    ),
    (
        26,
        "sidecar_additions",
        include_str!("../../fixtures/legacy_schema/V26__sidecar_additions.sql"),
    ),
    (
        28,
        "alerting",
        include_str!("../../fixtures/legacy_schema/V28__alerting.sql"),
    ),
    (
        29,
        "analytics_indexes",
        include_str!("../../fixtures/legacy_schema/V29__analytics_indexes.sql"),
    ),
    (
        30,
        "activity_summaries",
        include_str!("../../fixtures/legacy_schema/V30__activity_summaries.sql"),
    ),
];

/// Every table the first release had rows in.
const TABLES: [&str; 13] = [
    "users",
    "libraries",
    "media_items",
    "stream_sessions",
    "transcode_history",
    "stream_errors",
    "system_metrics",
    "daily_stats",
    "notification_channels",
    "alert_rules",
    "alert_log",
    "alert_rule_state",
    "refinery_schema_history",
];

/// Tables whose shape the move leaves alone, with the columns the new steps add to them: every
/// other value of every row must be exactly what the first release stored.
const KEPT_AS_THEY_WERE: [(&str, &[&str]); 9] = [
    ("stream_sessions", &["source"]),
    ("transcode_history", &[]),
    ("stream_errors", &[]),
    ("system_metrics", &[]),
    ("daily_stats", &[]),
    ("notification_channels", &[]),
    ("alert_rules", &[]),
    ("alert_log", &["sent_by"]),
    ("alert_rule_state", &[]),
];

/// The first release's columns that have CineVault's names (or are gone) after the move.
const OLD_COLUMNS: [(&str, &str); 8] = [
    ("users", "is_admin"),
    ("libraries", "library_type"),
    ("media_items", "overview"),
    ("media_items", "runtime_seconds"),
    ("media_items", "video_codec"),
    ("media_items", "file_size_bytes"),
    ("media_items", "genres"),
    ("media_items", "created_at"),
];

const BERLIN: Tz = chrono_tz::Europe::Berlin;

/// A media item's description (overview), duration (runtime), video codec, size and added_at
/// (created_at), under either release's names.
type ItemFacts = (
    Option<String>,
    Option<i32>,
    Option<String>,
    i64,
    DateTime<Utc>,
);

/// A media item's id, library, media type, year and poster.
type ItemPlace = (Uuid, Option<Uuid>, String, Option<i32>, Option<String>);

struct OldUser {
    id: Uuid,
    name: &'static str,
    is_admin: bool,
    created: DateTime<Utc>,
}

struct OldLibrary {
    id: Uuid,
    name: &'static str,
    library_type: &'static str,
    /// What it must become (CineVault's media_type).
    media_type: &'static str,
}

/// A media item in the first release's shape, and what the move must make of it.
struct OldItem {
    id: Uuid,
    library: Option<Uuid>,
    title: &'static str,
    media_type: &'static str,
    year: Option<i32>,
    overview: Option<&'static str>,
    poster: Option<&'static str>,
    genres: &'static [&'static str],
    runtime: Option<i32>,
    video_codec: Option<&'static str>,
    audio_codec: Option<&'static str>,
    resolution: Option<&'static str>,
    hdr_format: Option<&'static str>,
    audio_format: Option<&'static str>,
    size: i64,
    created: DateTime<Utc>,
    /// CineVault's media_type for the old one.
    new_media_type: &'static str,
    /// The tag slugs the item's genres become (distinct, non-blank, case merged).
    slugs: &'static [&'static str],
}

/// A session as it stands in the table once the fixture is written.
struct OldSession {
    id: Uuid,
    user: Uuid,
    item: Uuid,
    playback_type: &'static str,
    started: DateTime<Utc>,
    ended: Option<DateTime<Utc>>,
    last_reported: DateTime<Utc>,
    secs: i32,
    bytes: i64,
}

impl OldSession {
    /// When the session was last seen (the first release's cv_session_last_active).
    fn last_active(&self) -> DateTime<Utc> {
        match self.ended {
            Some(end) => self.started.max(end),
            None => self.started.max(self.last_reported),
        }
    }
}

/// One old daily_stats row: date and its eleven figures in the table's order.
struct OldDay {
    date: NaiveDate,
    figures: [i64; 11],
}

impl OldDay {
    /// The row as `trends` answers it.
    fn as_json(&self) -> Value {
        let f = &self.figures;
        json!({
            "stat_date": self.date.to_string(),
            "total_plays": f[0],
            "unique_users": f[1],
            "total_watch_minutes": f[2],
            "total_bytes_served": f[3],
            "transcodes": f[4],
            "direct_plays": f[5],
            "direct_streams": f[6],
            "transcode_failures": f[7],
            "new_media_added": f[8],
            "library_size_total": f[9],
            "storage_used_bytes": f[10],
        })
    }
}

/// What was written into the first release's database, kept to compute the expected figures
/// by hand.
struct Legacy {
    users: Vec<OldUser>,
    libraries: Vec<OldLibrary>,
    items: Vec<OldItem>,
    sessions: Vec<OldSession>,
    days: Vec<OldDay>,
    /// The one transcode still running (started a few minutes before the fixture's `now`).
    open_transcodes: usize,
    ada: Uuid,
    bob: Uuid,
    cy: Uuid,
}

impl Legacy {
    fn user_name(&self, id: Uuid) -> &'static str {
        self.users
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.name)
            .expect("user")
    }

    fn item(&self, id: Uuid) -> &OldItem {
        self.items.iter().find(|i| i.id == id).expect("item")
    }

    /// Plays and whole watch minutes per user, from the sessions written.
    fn plays_and_minutes(&self, user: Uuid) -> (i64, i64) {
        let mine: Vec<&OldSession> = self.sessions.iter().filter(|s| s.user == user).collect();
        let secs: i64 = mine.iter().map(|s| i64::from(s.secs)).sum();
        (mine.len() as i64, secs / 60)
    }

    fn last_active(&self, user: Uuid) -> Option<DateTime<Utc>> {
        self.sessions
            .iter()
            .filter(|s| s.user == user)
            .map(OldSession::last_active)
            .max()
    }

    /// Plays per genre slug for a user: a play counts once for each distinct genre of its
    /// item.
    fn genre_plays(&self, user: Uuid) -> BTreeMap<&'static str, i64> {
        let mut out = BTreeMap::new();
        for s in self.sessions.iter().filter(|s| s.user == user) {
            for slug in self.item(s.item).slugs {
                *out.entry(*slug).or_insert(0) += 1;
            }
        }
        out
    }
}

async fn exec(c: &Client, sql: &str, params: &[&(dyn ToSql + Sync)]) {
    c.execute(sql, params)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
}

fn secs(n: i64) -> Duration {
    Duration::seconds(n)
}

/// Now, to the second (PostgreSQL keeps microseconds, chrono nanoseconds).
fn now_seconds() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("now")
}

/// The first release's schema, exactly as its runner left it: the six migrations in order
/// and refinery's own history table with their six rows.
async fn first_release_schema(c: &Client) {
    for (version, name, sql) in LEGACY {
        c.batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("legacy V{version}__{name}: {e:?}"));
    }
    c.batch_execute(
        "CREATE TABLE refinery_schema_history (
             version INT4 PRIMARY KEY,
             name VARCHAR(255),
             applied_on VARCHAR(255),
             checksum VARCHAR(255))",
    )
    .await
    .expect("refinery_schema_history");
    for (version, name, sql) in LEGACY {
        // refinery keeps a u64 hash of the file as decimal text; any stable hash will do.
        let checksum = u64::from_str_radix(&schema::checksum(sql), 16)
            .expect("hex")
            .to_string();
        let applied_on = format!("2025-01-01T00:00:{:02}.000000000+00:00", version % 60);
        exec(
            c,
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
             VALUES ($1, $2, $3, $4)",
            &[&version, &name, &applied_on, &checksum],
        )
        .await;
    }
}

/// The first release's schema with rows of every kind the old sidecar could hold, written in
/// the old shape. `now` dates the recent sessions (today's figures, one still playing).
async fn first_release_database(c: &Client, now: DateTime<Utc>) -> Legacy {
    first_release_schema(c).await;

    let (ada, bob, cy) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let users = vec![
        OldUser {
            id: ada,
            name: "ada",
            is_admin: true,
            created: at("2024-12-01T09:00:00Z"),
        },
        OldUser {
            id: bob,
            name: "bob",
            is_admin: false,
            created: at("2024-12-02T10:30:00.250000Z"),
        },
        OldUser {
            id: cy,
            name: "cy",
            is_admin: false,
            created: at("2024-12-03T23:59:59Z"),
        },
    ];
    for u in &users {
        exec(
            c,
            "INSERT INTO users (id, username, is_admin, created_at) VALUES ($1, $2, $3, $4)",
            &[&u.id, &u.name, &u.is_admin, &u.created],
        )
        .await;
    }

    let (films, misc, series, songs) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    let libraries = vec![
        OldLibrary {
            id: films,
            name: "Films",
            library_type: "movies",
            media_type: "movies",
        },
        OldLibrary {
            id: misc,
            name: "Misc",
            library_type: "other",
            media_type: "other_videos",
        },
        OldLibrary {
            id: series,
            name: "Series",
            library_type: "shows",
            media_type: "tv_shows",
        },
        OldLibrary {
            id: songs,
            name: "Songs",
            library_type: "music",
            media_type: "music",
        },
    ];
    for (n, l) in libraries.iter().enumerate() {
        let created = at("2024-12-05T12:00:00Z") + Duration::hours(n as i64);
        exec(
            c,
            "INSERT INTO libraries (id, name, library_type, created_at) VALUES ($1, $2, $3, $4)",
            &[&l.id, &l.name, &l.library_type, &created],
        )
        .await;
    }

    let (harbor, harbor2, pilot, song, nature, loose) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    let items = vec![
        // Complete: overview, poster, year and genres.
        OldItem {
            id: harbor,
            library: Some(films),
            title: "Harbor",
            media_type: "movie",
            year: Some(2001),
            overview: Some("A harbor town."),
            poster: Some("/posters/harbor.jpg"),
            genres: &["Drama", "Comedy"],
            runtime: Some(6000),
            video_codec: Some("h264"),
            audio_codec: Some("aac"),
            resolution: Some("1080p"),
            hdr_format: None,
            audio_format: Some("Dolby Atmos"),
            size: 4_000_000_000,
            created: at("2025-01-05T10:00:00Z"),
            new_media_type: "movies",
            slugs: &["comedy", "drama"],
        },
        // A blank overview; the media type in another case.
        OldItem {
            id: harbor2,
            library: Some(films),
            title: "Harbor II",
            media_type: "Movie",
            year: Some(2003),
            overview: Some(" "),
            poster: Some("/posters/harbor2.jpg"),
            genres: &["Drama"],
            runtime: Some(5400),
            video_codec: Some("hevc"),
            audio_codec: Some("eac3"),
            resolution: Some("2160p"),
            hdr_format: Some("Dolby Vision"),
            audio_format: Some("EAC3 5.1"),
            size: 3_000_000_000,
            created: at("2025-01-07T08:15:30.123456Z"),
            new_media_type: "movies",
            slugs: &["drama"],
        },
        // Genres with a repeat, a blank, two cases of one name and a name with a space.
        OldItem {
            id: pilot,
            library: Some(series),
            title: "Pilot",
            media_type: "episode",
            year: Some(2020),
            overview: None,
            poster: Some("/posters/pilot.jpg"),
            genres: &["Drama", "drama", " ", "Drama", "Sci Fi", ""],
            runtime: Some(2700),
            video_codec: Some("hevc"),
            audio_codec: Some("aac"),
            resolution: Some("1080p"),
            hdr_format: Some("HDR10"),
            audio_format: None,
            size: 1_500_000_000,
            created: at("2025-01-06T23:30:00Z"),
            new_media_type: "tv_shows",
            slugs: &["drama", "sci-fi"],
        },
        // No year, no video codec.
        OldItem {
            id: song,
            library: Some(songs),
            title: "Blue Song",
            media_type: "track",
            year: None,
            overview: Some("A tune."),
            poster: Some("/posters/song.jpg"),
            genres: &["Jazz"],
            runtime: Some(200),
            video_codec: None,
            audio_codec: Some("flac"),
            resolution: None,
            hdr_format: None,
            audio_format: None,
            size: 10_000_000,
            created: at("2025-01-08T06:00:00Z"),
            new_media_type: "music",
            slugs: &["jazz"],
        },
        // A media type the new enum does not know; no poster, no genres at all.
        OldItem {
            id: nature,
            library: Some(misc),
            title: "Nature",
            media_type: "documentary",
            year: Some(2019),
            overview: Some("Wild."),
            poster: None,
            genres: &[],
            runtime: Some(3000),
            video_codec: Some("h264"),
            audio_codec: Some("aac"),
            resolution: Some("720p"),
            hdr_format: None,
            audio_format: None,
            size: 2_000_000_000,
            created: at("2025-01-09T12:00:00Z"),
            new_media_type: "other_videos",
            slugs: &[],
        },
        // In no library; its genre in capitals (one tag with Harbor's "Comedy").
        OldItem {
            id: loose,
            library: None,
            title: "Loose",
            media_type: "movie",
            year: Some(1999),
            overview: Some("Lost and found."),
            poster: Some("/posters/loose.jpg"),
            genres: &["COMEDY"],
            runtime: Some(4000),
            video_codec: Some("mpeg4"),
            audio_codec: Some("mp3"),
            resolution: Some("480p"),
            hdr_format: None,
            audio_format: None,
            size: 100,
            created: at("2025-01-09T13:00:00Z"),
            new_media_type: "movies",
            slugs: &["comedy"],
        },
    ];
    for i in &items {
        let genres: Vec<&str> = i.genres.to_vec();
        let path = format!("/media/{}.mkv", i.title);
        exec(
            c,
            "INSERT INTO media_items (id, library_id, title, media_type, year, overview,
                 poster_path, genres, runtime_seconds, video_codec, audio_codec, resolution,
                 hdr_format, audio_format, container, file_path, file_size_bytes, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'mkv', $15,
                 $16, $17)",
            &[
                &i.id,
                &i.library,
                &i.title,
                &i.media_type,
                &i.year,
                &i.overview,
                &i.poster,
                &genres,
                &i.runtime,
                &i.video_codec,
                &i.audio_codec,
                &i.resolution,
                &i.hdr_format,
                &i.audio_format,
                &path,
                &i.size,
                &i.created,
            ],
        )
        .await;
    }

    // Sessions: ended ones from January 2025, one ended minutes ago, one still playing. The
    // first release's triggers keep its summaries as they go in.
    let ended = |id, user, item, playback_type, started: &str, secs: i32, bytes: i64| {
        let started = at(started);
        let end = started + Duration::seconds(i64::from(secs));
        OldSession {
            id,
            user,
            item,
            playback_type,
            started,
            ended: Some(end),
            last_reported: end,
            secs,
            bytes,
        }
    };
    let s1 = Uuid::new_v4();
    let mut sessions = vec![
        ended(
            s1,
            ada,
            harbor,
            "direct_play",
            "2025-01-10T20:00:00Z",
            6000,
            4_000_000_000,
        ),
        ended(
            Uuid::new_v4(),
            ada,
            pilot,
            "transcode",
            "2025-01-11T19:00:00Z",
            2700,
            1_200_000_000,
        ),
        ended(
            Uuid::new_v4(),
            ada,
            pilot,
            "direct_stream",
            "2025-01-12T18:30:00Z",
            1200,
            700_000_000,
        ),
        ended(
            Uuid::new_v4(),
            bob,
            harbor,
            "direct_play",
            "2025-01-11T21:15:00Z",
            3000,
            2_000_000_000,
        ),
        ended(
            Uuid::new_v4(),
            bob,
            song,
            "direct_play",
            "2025-01-12T07:00:00Z",
            200,
            9_000_000,
        ),
        ended(
            Uuid::new_v4(),
            bob,
            nature,
            "transcode",
            "2025-01-12T08:00:00Z",
            1500,
            800_000_000,
        ),
        ended(
            Uuid::new_v4(),
            bob,
            loose,
            "direct_stream",
            "2025-01-12T09:00:00Z",
            90,
            100,
        ),
        ended(
            Uuid::new_v4(),
            bob,
            loose,
            "direct_play",
            "2025-01-12T09:05:00Z",
            60,
            100,
        ),
    ];
    sessions.push(OldSession {
        id: Uuid::new_v4(),
        user: ada,
        item: song,
        playback_type: "direct_play",
        started: now - secs(180),
        ended: Some(now - secs(60)),
        last_reported: now - secs(60),
        secs: 120,
        bytes: 5_000_000,
    });
    sessions.push(OldSession {
        id: Uuid::new_v4(),
        user: bob,
        item: pilot,
        playback_type: "transcode",
        started: now - secs(300),
        ended: None,
        last_reported: now - secs(30),
        secs: 270,
        bytes: 300_000_000,
    });
    const INSERT_SESSION: &str = "INSERT INTO stream_sessions (id, user_id, media_item_id,
             playback_type, quality, codec, resolution, container, bytes_served,
             duration_seconds, client_info, started_at, ended_at, is_active, last_reported_at)
         VALUES ($1, $2, $3, $4, '1080p', 'h264', '1080p', 'mkv', $5, $6, 'Infuse/7.6', $7, $8,
             $9, $10)";
    for s in &sessions {
        if s.id == s1 {
            // Written while it played, then ended by an update (the update trigger's path).
            let reported = s.started + secs(600);
            exec(
                c,
                INSERT_SESSION,
                &[
                    &s.id,
                    &s.user,
                    &s.item,
                    &s.playback_type,
                    &0i64,
                    &600i32,
                    &s.started,
                    &None::<DateTime<Utc>>,
                    &true,
                    &reported,
                ],
            )
            .await;
            exec(
                c,
                "UPDATE stream_sessions SET is_active = false, ended_at = $2,
                     last_reported_at = $2, duration_seconds = $3, bytes_served = $4
                 WHERE id = $1",
                &[&s.id, &s.ended, &s.secs, &s.bytes],
            )
            .await;
            continue;
        }
        exec(
            c,
            INSERT_SESSION,
            &[
                &s.id,
                &s.user,
                &s.item,
                &s.playback_type,
                &s.bytes,
                &s.secs,
                &s.started,
                &s.ended,
                &s.ended.is_none(),
                &s.last_reported,
            ],
        )
        .await;
    }
    // A session written and deleted again (the delete trigger's path): not in any figure.
    let gone = Uuid::new_v4();
    let gone_at = at("2025-01-12T12:00:00Z");
    exec(
        c,
        INSERT_SESSION,
        &[
            &gone,
            &ada,
            &nature,
            &"direct_play",
            &1i64,
            &42i32,
            &gone_at,
            &gone_at,
            &false,
            &gone_at,
        ],
    )
    .await;
    exec(c, "DELETE FROM stream_sessions WHERE id = $1", &[&gone]).await;

    let s2 = sessions[1].id;
    c.batch_execute(&format!(
        "INSERT INTO transcode_history (media_item_id, user_id, input_codec, output_codec,
             input_resolution, output_resolution, hw_accel, quality, duration_seconds,
             file_size_bytes, success, error_message, started_at, completed_at) VALUES
         ('{pilot}', '{ada}', 'hevc', 'h264', '1080p', '720p', 'vaapi', '720p', 2700,
             900000000, true, NULL, '2025-01-11T19:00:00Z', '2025-01-11T19:45:00Z'),
         ('{nature}', '{bob}', 'h264', 'h264', '720p', '480p', NULL, '480p', 30, 0, false,
             'ffmpeg exited with status 1', '2025-01-12T08:00:00Z', '2025-01-12T08:00:30Z');
         INSERT INTO stream_errors (session_id, user_id, media_item_id, message, occurred_at)
         VALUES ('{s2}', '{ada}', '{pilot}', 'buffer underrun', '2025-01-11T19:20:00Z'),
                (NULL, '{bob}', '{nature}', 'decoder error', '2025-01-12T08:00:20Z');
         INSERT INTO system_metrics (host, cpu_percent, memory_percent, memory_used_mb,
             gpu_encoder_percent, gpu_memory_percent, gpu_temp_celsius, disk_total_gb,
             disk_used_gb, disk_free_gb, active_streams, active_transcodes, recorded_at)
         VALUES ('node-a', 12.5, 40.25, 4096, 30, 20.5, 61, 2000, 1900, 100, 2, 1,
                     '2025-01-12T10:00:00Z'),
                ('node-b', 3.75, 10, 1024, NULL, NULL, NULL, 500, 100, 400, 0, 0,
                     '2025-01-12T10:00:05Z');"
    ))
    .await
    .expect("transcodes, errors, metrics");
    exec(
        c,
        "INSERT INTO transcode_history (media_item_id, user_id, input_codec, output_codec,
             started_at) VALUES ($1, $2, 'hevc', 'h264', $3)",
        &[&pilot, &bob, &(now - secs(300))],
    )
    .await;

    let days = vec![
        OldDay {
            date: NaiveDate::from_ymd_opt(2025, 1, 10).expect("date"),
            figures: [1, 1, 100, 4_000_000_000, 0, 1, 0, 0, 5, 5, 10_500_000_100],
        },
        OldDay {
            date: NaiveDate::from_ymd_opt(2025, 1, 11).expect("date"),
            figures: [2, 2, 95, 3_200_000_000, 1, 1, 0, 0, 0, 5, 10_500_000_100],
        },
        OldDay {
            date: NaiveDate::from_ymd_opt(2025, 1, 12).expect("date"),
            figures: [5, 2, 50, 1_509_000_200, 1, 2, 2, 1, 0, 5, 10_510_000_100],
        },
    ];
    for d in &days {
        let f = &d.figures;
        let (plays, users, minutes) = (f[0] as i32, f[1] as i32, f[2] as i32);
        let (tc, dp, ds, failures, added, size) = (
            f[4] as i32,
            f[5] as i32,
            f[6] as i32,
            f[7] as i32,
            f[8] as i32,
            f[9] as i32,
        );
        exec(
            c,
            "INSERT INTO daily_stats (stat_date, total_plays, unique_users,
                 total_watch_minutes, total_bytes_served, transcodes, direct_plays,
                 direct_streams, transcode_failures, new_media_added, library_size_total,
                 storage_used_bytes)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                &d.date, &plays, &users, &minutes, &f[3], &tc, &dp, &ds, &failures, &added, &size,
                &f[10],
            ],
        )
        .await;
    }

    let (discord, signed) = (Uuid::new_v4(), Uuid::new_v4());
    let (disk_rule, error_rule) = (Uuid::new_v4(), Uuid::new_v4());
    c.batch_execute(&format!(
        "INSERT INTO notification_channels (id, name, channel_type, webhook_url, is_enabled,
             events, signing_secret, created_at, updated_at) VALUES
         ('{discord}', 'Ops Discord', 'discord', 'https://discord.com/api/webhooks/1/abc', true,
             '[\"all\"]', NULL, '2024-12-10T10:00:00Z', '2024-12-10T10:00:00Z'),
         ('{signed}', 'Signed hook', 'generic', 'https://hooks.example.org/cv', true,
             '[\"disk_space_low\", \"stream_error\"]', 'whsec_legacy_secret_0001',
             '2024-12-11T10:00:00Z', '2024-12-12T10:00:00Z');
         INSERT INTO alert_rules (id, name, condition_type, threshold, cooldown_minutes,
             channel_id, is_enabled, send_resolved, last_triggered_at, created_at, updated_at)
         VALUES
         ('{disk_rule}', 'Disk low', 'disk_space_low', 10, 30, '{signed}', true, false,
             '2025-01-12T10:05:00Z', '2024-12-11T11:00:00Z', '2024-12-11T11:00:00Z'),
         ('{error_rule}', 'Stream errors', 'stream_error', 5, 60, '{discord}', false, true,
             NULL, '2024-12-10T11:00:00Z', '2024-12-10T11:00:00Z');
         INSERT INTO alert_log (rule_id, channel_id, message, success, error_detail, sent_at,
             kind, host, http_status, attempts) VALUES
         ('{disk_rule}', '{signed}', 'Disk low on node-a', true, NULL, '2025-01-12T10:05:00Z',
             'alert', 'node-a', 200, 1),
         ('{disk_rule}', '{signed}', 'Disk space recovered on node-a', false, 'HTTP 503',
             '2025-01-12T11:00:00Z', 'resolved', 'node-a', 503, 3),
         (NULL, '{discord}', 'Test message', true, NULL, '2024-12-10T10:01:00Z', 'test', NULL,
             204, 1);
         INSERT INTO alert_rule_state (rule_id, subject, notified, firing_since,
             last_triggered_at, last_value, updated_at) VALUES
         ('{disk_rule}', 'node-a', true, '2025-01-12T10:00:00Z', '2025-01-12T10:05:00Z', 8.5,
             '2025-01-12T10:05:00Z'),
         ('{error_rule}', '', false, NULL, NULL, NULL, '2025-01-12T10:05:00Z');"
    ))
    .await
    .expect("channels, rules, log, rule state");

    Legacy {
        users,
        libraries,
        items,
        sessions,
        days,
        open_transcodes: 1,
        ada,
        bob,
        cy,
    }
}

async fn row_counts(c: &Client) -> BTreeMap<&'static str, i64> {
    let mut out = BTreeMap::new();
    for t in TABLES {
        let n: i64 = c
            .query_one(&format!("SELECT count(*) FROM {t}"), &[])
            .await
            .unwrap_or_else(|e| panic!("count {t}: {e:?}"))
            .get(0);
        out.insert(t, n);
    }
    out
}

/// Every row of `table` as JSON without the named columns, in a stable order.
async fn rows_as_json(c: &Client, table: &str, without: &[&str]) -> Vec<Value> {
    let without: Vec<String> = without.iter().map(|s| (*s).to_owned()).collect();
    c.query(
        &format!(
            "SELECT j FROM (SELECT to_jsonb(t) - $1::text[] AS j FROM {table} t) x
             ORDER BY j::text"
        ),
        &[&without],
    )
    .await
    .unwrap_or_else(|e| panic!("rows of {table}: {e:?}"))
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// The first release's per-user summary as its reader saw it: the folded totals plus the
/// deltas its triggers appended since.
async fn old_summaries(c: &Client) -> BTreeMap<Uuid, (i64, i64)> {
    c.query(
        "SELECT u.id,
                (COALESCE(t.plays, 0) + COALESCE(d.plays, 0))::int8,
                (COALESCE(t.watch_seconds, 0) + COALESCE(d.secs, 0))::int8
         FROM users u
         LEFT JOIN user_activity_totals t ON t.user_id = u.id
         LEFT JOIN (SELECT user_id, sum(plays) AS plays, sum(watch_seconds) AS secs
                    FROM user_activity_deltas GROUP BY user_id) d ON d.user_id = u.id",
        &[],
    )
    .await
    .expect("old summaries")
    .iter()
    .map(|r| (r.get(0), (r.get(1), r.get::<_, i64>(2) / 60)))
    .collect()
}

fn auto() -> Options {
    Options {
        mode: DatabaseMode::Auto,
        db_time_zone: Tz::UTC,
    }
}

async fn prepare_ready(c: &mut Client, opts: Options) -> Prepared {
    match schema::prepare(c, opts).await.expect("prepare") {
        Outcome::Ready(p) => p,
        Outcome::NotReady(why) => panic!("schema not ready: {why}"),
    }
}

async fn columns_present(c: &Client, pairs: &[(&str, &str)]) -> Vec<String> {
    let mut out = Vec::new();
    for (t, col) in pairs {
        let n: i64 = c
            .query_one(
                "SELECT count(*) FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2",
                &[t, col],
            )
            .await
            .expect("column lookup")
            .get(0);
        if n > 0 {
            out.push(format!("{t}.{col}"));
        }
    }
    out
}

/// Every foreign key of the schema: (table, definition).
async fn all_foreign_keys(c: &Client) -> Vec<(String, String)> {
    c.query(
        "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint
         WHERE contype = 'f' AND connamespace = current_schema()::regnamespace ORDER BY 1, 2",
        &[],
    )
    .await
    .expect("foreign keys")
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

/// The schema's functions (with their argument types) and non-internal triggers.
async fn routines_and_triggers(c: &Client) -> Vec<String> {
    c.query(
        "SELECT 'function ' || p.oid::regprocedure::text FROM pg_proc p
         WHERE p.pronamespace = current_schema()::regnamespace
         UNION ALL
         SELECT 'trigger ' || t.tgrelid::regclass::text || '.' || t.tgname FROM pg_trigger t
         JOIN pg_class r ON r.oid = t.tgrelid
         WHERE NOT t.tgisinternal AND r.relnamespace = current_schema()::regnamespace
         ORDER BY 1",
        &[],
    )
    .await
    .expect("functions and triggers")
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// The core tables' columns by name (not position: the move adds some at the end) with type,
/// length, nullability and default.
async fn core_columns(c: &Client) -> BTreeMap<String, (String, Option<i32>, bool, Option<String>)> {
    c.query(
        "SELECT table_name || '.' || column_name, data_type::text,
                character_maximum_length::int, is_nullable = 'YES', column_default::text
         FROM information_schema.columns
         WHERE table_schema = current_schema()
           AND table_name IN ('users', 'libraries', 'media_items', 'tags', 'media_tags',
                              'watch_history')",
        &[],
    )
    .await
    .expect("core columns")
    .iter()
    .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3), r.get(4))))
    .collect()
}

#[tokio::test]
async fn a_first_release_database_is_moved_onto_cinevaults_names_keeping_every_row() {
    let db = TestDb::empty().await;
    let mut c = db.client().await;
    let legacy = first_release_database(&c, now_seconds()).await;

    // What the first release holds.
    let counts = row_counts(&c).await;
    assert_eq!(counts["users"], 3);
    assert_eq!(counts["media_items"], 6);
    assert_eq!(counts["stream_sessions"], legacy.sessions.len() as i64);
    assert_eq!(counts["refinery_schema_history"], 6);
    let mut kept = BTreeMap::new();
    for (table, added) in KEPT_AS_THEY_WERE {
        let rows = rows_as_json(&c, table, &[]).await;
        assert!(!rows.is_empty(), "the fixture writes {table}");
        kept.insert(table, (added, rows));
    }
    let old_daily = rows_as_json(&c, "daily_stats", &["id"]).await;
    let refinery = rows_as_json(&c, "refinery_schema_history", &[]).await;
    let old_summary = old_summaries(&c).await;
    for u in &legacy.users {
        assert_eq!(
            old_summary[&u.id],
            legacy.plays_and_minutes(u.id),
            "the first release's summary of {}",
            u.name
        );
    }
    let old_items: BTreeMap<Uuid, ItemFacts> = c
        .query(
            "SELECT id, overview, runtime_seconds, video_codec, file_size_bytes, created_at
             FROM media_items",
            &[],
        )
        .await
        .expect("old items")
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3), r.get(4), r.get(5))))
        .collect();
    let old_triggers: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_trigger
             WHERE tgrelid = 'stream_sessions'::regclass AND NOT tgisinternal",
            &[],
        )
        .await
        .expect("old triggers")
        .get(0);
    assert_eq!(old_triggers, 4, "the first release's summary triggers");

    // The new sidecar's start.
    let prepared = prepare_ready(&mut c, auto()).await;
    assert_eq!(prepared.kind, Kind::Standalone);
    assert_eq!(
        prepared.decided_by,
        "found the core tables of the sidecar's first release"
    );
    assert_eq!(
        prepared.applied,
        schema::required_versions(Kind::Standalone)
    );
    for change in [
        ("removed", "column users.is_admin"),
        ("added", "column users.role"),
        ("removed", "column media_items.genres"),
        ("added", "column media_items.added_at"),
        ("created", "table tags"),
        ("created", "table media_tags"),
        ("adopted", "table stream_sessions"),
        ("adopted", "table alert_log"),
    ] {
        assert!(
            prepared
                .changes
                .iter()
                .any(|(k, o)| k == change.0 && o == change.1),
            "{change:?} in {:?}",
            prepared.changes
        );
    }
    let recorded: (String, String) = c
        .query_one("SELECT mode, decided_by FROM analytics_database", &[])
        .await
        .map(|r| (r.get(0), r.get(1)))
        .expect("recorded mode");
    assert_eq!(recorded.0, "standalone");
    assert_eq!(recorded.1, prepared.decided_by);
    let logged: i64 = c
        .query_one("SELECT count(*) FROM analytics_schema_changes", &[])
        .await
        .expect("changes")
        .get(0);
    assert_eq!(logged, prepared.changes.len() as i64);

    // Not a row lost, and every value of the tables the move leaves alone as it was.
    assert_eq!(row_counts(&c).await, counts);
    for (table, (added, rows)) in &kept {
        assert_eq!(&rows_as_json(&c, table, added).await, rows, "{table}");
    }
    assert_eq!(
        rows_as_json(&c, "refinery_schema_history", &[]).await,
        refinery
    );

    // users: is_admin became the role; created_at is UTC wall-clock time now.
    let users: BTreeMap<Uuid, (String, DateTime<Utc>)> = c
        .query(
            "SELECT id, role::text, created_at AT TIME ZONE 'UTC' FROM users",
            &[],
        )
        .await
        .expect("users")
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();
    for u in &legacy.users {
        let want = if u.is_admin { "admin" } else { "user" };
        assert_eq!(users[&u.id], (want.to_owned(), u.created), "{}", u.name);
    }

    // libraries: library_type became CineVault's media_type.
    let libraries: BTreeMap<Uuid, (String, String)> = c
        .query(
            "SELECT id, name::text, media_type::text FROM libraries",
            &[],
        )
        .await
        .expect("libraries")
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();
    assert_eq!(libraries.len(), legacy.libraries.len());
    for l in &legacy.libraries {
        assert_eq!(
            libraries[&l.id],
            (l.name.to_owned(), l.media_type.to_owned()),
            "library {} ({})",
            l.name,
            l.library_type
        );
    }

    // media_items: CineVault's names, its media_type, added_at as UTC wall clock.
    let items: BTreeMap<Uuid, ItemFacts> = c
        .query(
            "SELECT id, description, duration_seconds, codec, file_size,
                    added_at AT TIME ZONE 'UTC'
             FROM media_items",
            &[],
        )
        .await
        .expect("items")
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3), r.get(4), r.get(5))))
        .collect();
    assert_eq!(items, old_items);
    let items_by_hand: Vec<ItemPlace> = c
        .query(
            "SELECT id, library_id, media_type::text, year, poster_path FROM media_items",
            &[],
        )
        .await
        .expect("items")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    for (id, library, media_type, year, poster) in items_by_hand {
        let old = legacy.item(id);
        assert_eq!(
            (library, media_type.as_str(), year, poster.as_deref()),
            (old.library, old.new_media_type, old.year, old.poster),
            "{} ({})",
            old.title,
            old.media_type
        );
        let (description, duration, codec, size, added) = &items[&id];
        assert_eq!(
            (
                description.as_deref(),
                *duration,
                codec.as_deref(),
                *size,
                *added
            ),
            (
                old.overview,
                old.runtime,
                old.video_codec,
                old.size,
                old.created
            ),
            "{} by hand",
            old.title
        );
    }

    // Genres: one tag per distinct slug, each item linked to its distinct non-blank genres.
    let tags: Vec<(String, String, String)> = c
        .query(
            "SELECT slug::text, name::text, category::text FROM tags ORDER BY slug",
            &[],
        )
        .await
        .expect("tags")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let slugs: Vec<&str> = tags.iter().map(|t| t.0.as_str()).collect();
    assert_eq!(slugs, ["comedy", "drama", "jazz", "sci-fi"]);
    let spellings: BTreeMap<&str, &[&str]> = [
        ("comedy", &["Comedy", "COMEDY"][..]),
        ("drama", &["Drama", "drama"][..]),
        ("jazz", &["Jazz"][..]),
        ("sci-fi", &["Sci Fi"][..]),
    ]
    .into_iter()
    .collect();
    let mut tag_name: BTreeMap<String, String> = BTreeMap::new();
    for (slug, name, category) in &tags {
        assert_eq!(category, "genre", "{slug}");
        assert!(
            spellings[slug.as_str()].contains(&name.as_str()),
            "tag {slug} is named {name:?}, one of the spellings the items had"
        );
        tag_name.insert(slug.clone(), name.clone());
    }
    let links: BTreeSet<(Uuid, String)> = c
        .query(
            "SELECT mt.media_item_id, t.slug::text FROM media_tags mt JOIN tags t ON t.id = mt.tag_id",
            &[],
        )
        .await
        .expect("media tags")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let want_links: BTreeSet<(Uuid, String)> = legacy
        .items
        .iter()
        .flat_map(|i| i.slugs.iter().map(move |s| (i.id, (*s).to_owned())))
        .collect();
    assert_eq!(links, want_links);
    let link_rows: i64 = c
        .query_one("SELECT count(*) FROM media_tags", &[])
        .await
        .expect("media tags")
        .get(0);
    assert_eq!(link_rows, want_links.len() as i64);

    // The old columns, triggers and genre functions are gone.
    assert_eq!(
        columns_present(&c, &OLD_COLUMNS).await,
        Vec::<String>::new()
    );
    let triggers: Vec<String> = c
        .query(
            "SELECT tgname::text FROM pg_trigger
             WHERE tgrelid = 'stream_sessions'::regclass AND NOT tgisinternal",
            &[],
        )
        .await
        .expect("triggers")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(triggers, Vec::<String>::new());
    let old_functions: Vec<String> = c
        .query(
            "SELECT f FROM unnest(ARRAY['cv_item_genres(text[])', 'cv_sessions_inserted()',
                 'cv_sessions_updated()', 'cv_sessions_deleted()', 'cv_sessions_truncated()'])
                 AS f WHERE to_regprocedure(f) IS NOT NULL",
            &[],
        )
        .await
        .expect("functions")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(old_functions, Vec::<String>::new());

    // Every old session was reported through the ingest API; every old log row is the
    // sidecar's own.
    let sources: Vec<(String, i64)> = c
        .query(
            "SELECT source, count(*) FROM stream_sessions GROUP BY 1 ORDER BY 1",
            &[],
        )
        .await
        .expect("sources")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(sources, [("ingest".to_owned(), counts["stream_sessions"])]);
    let senders: Vec<(String, i64)> = c
        .query(
            "SELECT sent_by, count(*) FROM alert_log GROUP BY 1 ORDER BY 1",
            &[],
        )
        .await
        .expect("senders")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(senders, [("sidecar".to_owned(), counts["alert_log"])]);

    // The same schema as a database the new sidecar set up itself: catalog, foreign keys with
    // CineVault's delete rules, the core tables' columns.
    let fresh = TestDb::migrated().await;
    let f = fresh.client().await;
    assert_eq!(
        analytics_foreign_keys(&c).await,
        analytics_foreign_keys(&f).await
    );
    assert_eq!(all_foreign_keys(&c).await, all_foreign_keys(&f).await);
    let mut catalog = Catalog::read(&c).await.expect("catalog");
    assert!(catalog.columns.remove("refinery_schema_history").is_some());
    catalog.indexes.remove("refinery_schema_history_pkey");
    let fresh_catalog = Catalog::read(&f).await.expect("catalog");
    assert_eq!(catalog.columns, fresh_catalog.columns);
    assert_eq!(catalog.views, fresh_catalog.views);
    assert_eq!(catalog.indexes, fresh_catalog.indexes);
    assert_eq!(catalog.enums, fresh_catalog.enums);
    assert_eq!(core_columns(&c).await, core_columns(&f).await);
    assert_eq!(
        routines_and_triggers(&c).await,
        routines_and_triggers(&f).await
    );

    // sidecar_daily_stats holds the first release's daily rows.
    assert_eq!(
        rows_as_json(&c, "sidecar_daily_stats", &["computed_at"]).await,
        old_daily
    );

    // The summaries, rebuilt from the plays: the old figures per user, genres merged.
    let summaries = cinevault_analytics::analytics::users::summaries(&c)
        .await
        .expect("summaries");
    assert_eq!(summaries.users.len(), legacy.users.len());
    for s in &summaries.users {
        let (plays, minutes) = legacy.plays_and_minutes(s.user_id);
        assert_eq!(
            (s.total_plays, s.watch_minutes),
            old_summary[&s.user_id],
            "{}",
            s.username
        );
        assert_eq!((s.total_plays, s.watch_minutes), (plays, minutes));
        assert_eq!(s.username, legacy.user_name(s.user_id));
        assert_eq!(
            s.last_active,
            legacy.last_active(s.user_id),
            "{}",
            s.username
        );
    }
    let favourite = |u: Uuid| {
        summaries
            .users
            .iter()
            .find(|s| s.user_id == u)
            .expect("listed")
            .favorite_genre
            .clone()
    };
    assert_eq!(favourite(legacy.ada), Some(tag_name["drama"].clone()));
    // Bob's plays of "Comedy" and "COMEDY" count for one genre, which outnumbers drama.
    assert_eq!(favourite(legacy.bob), Some(tag_name["comedy"].clone()));
    assert_eq!(favourite(legacy.cy), None);
    let genre_plays: BTreeMap<(Uuid, String), i64> = c
        .query("SELECT user_id, genre, plays FROM user_genre_plays", &[])
        .await
        .expect("genre plays")
        .iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect();
    let want_genre_plays: BTreeMap<(Uuid, String), i64> = [legacy.ada, legacy.bob, legacy.cy]
        .into_iter()
        .flat_map(|u| {
            legacy
                .genre_plays(u)
                .into_iter()
                .map(move |(slug, n)| ((u, slug), n))
        })
        .map(|((u, slug), n)| ((u, tag_name[slug].clone()), n))
        .collect();
    assert_eq!(genre_plays, want_genre_plays);

    // A second start applies nothing and changes nothing.
    let catalog_before = Catalog::read(&c).await.expect("catalog");
    let core_before = core_snapshot(&c).await;
    let again = prepare_ready(&mut c, auto()).await;
    assert_eq!(again.kind, Kind::Standalone);
    assert_eq!(again.decided_by, "recorded");
    assert!(again.applied.is_empty(), "{again:?}");
    assert!(again.changes.is_empty(), "{again:?}");
    assert_eq!(Catalog::read(&c).await.expect("catalog"), catalog_before);
    assert_eq!(core_snapshot(&c).await, core_before);
    assert_eq!(row_counts(&c).await, counts);
    let history: Vec<i32> = c
        .query(
            "SELECT version FROM analytics_schema_history ORDER BY 1",
            &[],
        )
        .await
        .expect("history")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(history, schema::required_versions(Kind::Standalone));
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    let r = app.admin_get(path).send().await.expect("answer");
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.expect("JSON answer")
}

fn i(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("a whole number: {v}"))
}

fn uuid_or_null(id: Option<Uuid>) -> Value {
    id.map_or(Value::Null, |u| json!(u.to_string()))
}

#[tokio::test]
async fn the_upgraded_database_serves_the_same_figures() {
    let db = TestDb::empty().await;
    let legacy = {
        let c = db.client().await;
        first_release_database(&c, now_seconds()).await
    };
    // The server's own start moves the database (auto: it finds the first release's tables).
    let app = TestApp::spawn(test_config(
        &db.url,
        &["--database-mode", "auto", "--evaluate-alerts", "false"],
    ))
    .await;
    let status = get_json(&app, "/api/v1/status").await;
    assert_eq!(status["database"]["mode"], "standalone", "{status}");
    assert_eq!(
        status["database"]["decided_by"],
        "found the core tables of the sidecar's first release"
    );

    // overview: the catalogue, what plays now, and today's and this week's plays (the
    // fixture's two recent sessions, wherever Berlin's midnight falls).
    let before = Utc::now();
    let o = get_json(&app, "/api/v1/analytics/overview").await;
    let after = Utc::now();
    let today: NaiveDate = o["today"].as_str().expect("today").parse().expect("date");
    let week_start: NaiveDate = o["week_start"]
        .as_str()
        .expect("week_start")
        .parse()
        .expect("date");
    assert!(
        [before, after]
            .iter()
            .any(|t| t.with_timezone(&BERLIN).date_naive() == today),
        "{o}"
    );
    let local = |t: DateTime<Utc>| t.with_timezone(&BERLIN).date_naive();
    let todays: Vec<&OldSession> = legacy
        .sessions
        .iter()
        .filter(|s| local(s.started) == today)
        .collect();
    let week = legacy
        .sessions
        .iter()
        .filter(|s| {
            let d = local(s.started);
            d >= week_start && (d - week_start).num_days() < 7
        })
        .count() as i64;
    let count_type = |t: &str| todays.iter().filter(|s| s.playback_type == t).count() as i64;
    let todays_users: BTreeSet<Uuid> = todays.iter().map(|s| s.user).collect();
    let library_bytes: i64 = legacy.items.iter().map(|i| i.size).sum();
    assert_eq!(i(&o["library_items"]), legacy.items.len() as i64, "{o}");
    assert_eq!(i(&o["library_bytes"]), library_bytes, "{o}");
    assert_eq!(
        i(&o["active_streams"]),
        legacy.sessions.iter().filter(|s| s.ended.is_none()).count() as i64
    );
    assert_eq!(i(&o["active_transcodes"]), legacy.open_transcodes as i64);
    assert_eq!(i(&o["plays_today"]), todays.len() as i64, "{o}");
    assert_eq!(i(&o["plays_this_week"]), week, "{o}");
    assert_eq!(i(&o["unique_users_today"]), todays_users.len() as i64);
    assert_eq!(
        i(&o["bytes_served_today"]),
        todays.iter().map(|s| s.bytes).sum::<i64>()
    );
    assert_eq!(
        i(&o["watch_minutes_today"]),
        todays.iter().map(|s| i64::from(s.secs)).sum::<i64>() / 60
    );
    assert_eq!(i(&o["transcodes_today"]), count_type("transcode"));
    assert_eq!(i(&o["direct_plays_today"]), count_type("direct_play"));
    assert_eq!(i(&o["direct_streams_today"]), count_type("direct_stream"));
    assert_eq!(i(&o["transcode_failures_today"]), 0);
    assert_eq!(
        o["plays_today_by_source"],
        json!({"cinevault": 0, "ingest": todays.len()})
    );

    // streams/breakdown over ten years: every old session, per playback type.
    let b = get_json(&app, "/api/v1/analytics/streams/breakdown?days=3660").await;
    // 5 direct plays (Harbor twice, Blue Song twice, Loose), 2 direct streams (Pilot,
    // Loose), 3 transcodes (Pilot twice, Nature).
    assert_eq!(i(&b["total"]), 10, "{b}");
    assert_eq!(
        b["types"],
        json!([
            {"playback_type": "direct_play", "count": 5, "percent": 50.0},
            {"playback_type": "direct_stream", "count": 2, "percent": 20.0},
            {"playback_type": "transcode", "count": 3, "percent": 30.0},
        ]),
        "{b}"
    );
    assert_eq!(b["plays_by_source"], json!({"cinevault": 0, "ingest": 10}));

    // storage: items and bytes per library by name, the item in no library last.
    let st = get_json(&app, "/api/v1/analytics/storage").await;
    let lib = |name: &str| {
        legacy
            .libraries
            .iter()
            .find(|l| l.name == name)
            .expect("library")
    };
    let storage_row =
        |id: Option<Uuid>, name: Option<&str>, kind: Option<&str>, n: i64, bytes: i64| {
            json!({"library_id": uuid_or_null(id), "name": name, "library_type": kind,
               "item_count": n, "total_bytes": bytes})
        };
    assert_eq!(
        st,
        json!({
            "total_items": 6,
            "total_bytes": library_bytes,
            "libraries": [
                // Harbor and Harbor II.
                storage_row(Some(lib("Films").id), Some("Films"), Some("movies"), 2, 7_000_000_000),
                // Nature.
                storage_row(Some(lib("Misc").id), Some("Misc"), Some("other_videos"), 1, 2_000_000_000),
                // Pilot.
                storage_row(Some(lib("Series").id), Some("Series"), Some("tv_shows"), 1, 1_500_000_000),
                // Blue Song.
                storage_row(Some(lib("Songs").id), Some("Songs"), Some("music"), 1, 10_000_000),
                // Loose.
                storage_row(None, None, None, 1, 100),
            ],
        })
    );
    assert_eq!(library_bytes, 10_510_000_100);

    // library-health: completeness from the old overview, poster, year and genres.
    let h = get_json(&app, "/api/v1/analytics/library-health").await;
    let reports = h["libraries"].as_array().expect("libraries");
    let got: Vec<Value> = reports
        .iter()
        .map(|r| {
            json!([
                r["name"],
                r["library_type"],
                r["total_items"],
                r["complete_items"],
                r["metadata_completeness_percent"],
                r["missing_overview"],
                r["missing_poster"],
                r["missing_year"],
                r["missing_genres"],
                r["hdr_count"],
                r["atmos_count"]
            ])
        })
        .collect();
    assert_eq!(
        got,
        vec![
            // Harbor complete; Harbor II's overview is blank; Dolby Vision; Atmos.
            json!(["Films", "movies", 2, 1, 50.0, 1, 0, 0, 0, 1, 1]),
            // Nature: no poster, no genres.
            json!(["Misc", "other_videos", 1, 0, 0.0, 0, 1, 0, 1, 0, 0]),
            // Pilot: no overview; HDR10.
            json!(["Series", "tv_shows", 1, 0, 0.0, 1, 0, 0, 0, 1, 0]),
            // Blue Song: no year.
            json!(["Songs", "music", 1, 0, 0.0, 0, 0, 1, 0, 0, 0]),
            // Loose: complete, its one genre in capitals.
            json!([null, null, 1, 1, 100.0, 0, 0, 0, 0, 0, 0]),
        ],
        "{h}"
    );
    assert_eq!(
        reports[0]["video_codecs"],
        json!([{"name": "h264", "count": 1}, {"name": "hevc", "count": 1}])
    );
    assert_eq!(
        reports[3]["video_codecs"],
        json!([{"name": "unknown", "count": 1}])
    );

    // users/activity: plays, minutes, last activity and favourite genre per user.
    let tag_name: BTreeMap<String, String> = {
        let c = db.client().await;
        c.query("SELECT slug::text, name::text FROM tags", &[])
            .await
            .expect("tags")
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    };
    let a = get_json(&app, "/api/v1/analytics/users/activity").await;
    let users = a["users"].as_array().expect("users");
    let order: Vec<&str> = users
        .iter()
        .map(|u| u["username"].as_str().expect("name"))
        .collect();
    // Bob 6 plays, Ada 4, Cy none.
    assert_eq!(order, ["bob", "ada", "cy"], "{a}");
    for u in users {
        let id: Uuid = u["user_id"].as_str().expect("id").parse().expect("uuid");
        let (plays, minutes) = legacy.plays_and_minutes(id);
        assert_eq!(i(&u["total_plays"]), plays, "{u}");
        assert_eq!(i(&u["watch_minutes"]), minutes, "{u}");
        let last: Option<DateTime<Utc>> = u["last_active"].as_str().map(|s| {
            DateTime::parse_from_rfc3339(s)
                .expect("rfc3339")
                .with_timezone(&Utc)
        });
        assert_eq!(last, legacy.last_active(id), "{u}");
        let (role, favourite) = match u["username"].as_str() {
            Some("ada") => ("admin", Some(tag_name["drama"].as_str())),
            Some("bob") => ("user", Some(tag_name["comedy"].as_str())),
            _ => ("user", None),
        };
        assert_eq!(u["role"], role, "{u}");
        assert_eq!(u["favorite_genre"].as_str(), favourite, "{u}");
    }
    // 10020 s and 5120 s of the sessions written.
    assert_eq!(legacy.plays_and_minutes(legacy.ada), (4, 167));
    assert_eq!(legacy.plays_and_minutes(legacy.bob), (6, 85));

    // trends: the first release's daily rows, as they were.
    let t = get_json(
        &app,
        "/api/v1/analytics/trends?from=2025-01-09&to=2025-01-13",
    )
    .await;
    let want: Vec<Value> = legacy.days.iter().map(OldDay::as_json).collect();
    assert_eq!(t["days"], json!(want), "{t}");
    assert_eq!(t["from"], "2025-01-09");
    assert_eq!(t["to"], "2025-01-13");

    app.stop().await;
}

#[tokio::test]
async fn a_database_the_new_sidecar_set_up_alone_is_not_mistaken_for_anything_else() {
    let db = TestDb::migrated().await;
    let mut c = db.client().await;
    let before = Catalog::read(&c).await.expect("catalog");
    // It has CineVault's names (users.role) now, but its record says what it is.
    assert!(before.has_column("users", "role"));
    assert!(!before.has_first_release_core());

    let again = prepare_ready(&mut c, auto()).await;
    assert_eq!(again.kind, Kind::Standalone);
    assert_eq!(again.decided_by, "recorded");
    assert!(again.applied.is_empty(), "{again:?}");
    assert!(again.changes.is_empty(), "{again:?}");

    let cinevault = Options {
        mode: DatabaseMode::Cinevault,
        db_time_zone: Tz::UTC,
    };
    match schema::prepare(&mut c, cinevault).await.expect("prepare") {
        Outcome::NotReady(NotReady::Refused(why)) => {
            assert!(why.contains("standalone"), "{why}")
        }
        Outcome::NotReady(other) => panic!("refused, not {other:?}"),
        Outcome::Ready(p) => panic!("a standalone database taken for CineVault's: {p:?}"),
    }
    let standalone = Options {
        mode: DatabaseMode::Standalone,
        db_time_zone: Tz::UTC,
    };
    let configured = prepare_ready(&mut c, standalone).await;
    assert_eq!(
        (configured.kind, configured.decided_by.as_str()),
        (Kind::Standalone, "recorded")
    );
    assert_eq!(Catalog::read(&c).await.expect("catalog"), before);
    let mode: String = c
        .query_one("SELECT mode FROM analytics_database", &[])
        .await
        .expect("recorded mode")
        .get(0);
    assert_eq!(mode, "standalone");
}

#[tokio::test]
async fn the_first_releases_instants_become_wall_clock_time_of_the_database_zone() {
    let db = TestDb::empty().await;
    let mut c = db.client().await;
    first_release_schema(&c).await;
    // 22:30 UTC on 1 July is 00:30 on 2 July in Berlin (summer time, +2).
    let instant = at("2025-07-01T22:30:00.5Z");
    let (user, library, item) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    exec(
        &c,
        "INSERT INTO users (id, username, is_admin, created_at) VALUES ($1, 'ada', true, $2)",
        &[&user, &instant],
    )
    .await;
    exec(
        &c,
        "INSERT INTO libraries (id, name, library_type, created_at)
         VALUES ($1, 'Films', 'movies', $2)",
        &[&library, &instant],
    )
    .await;
    exec(
        &c,
        "INSERT INTO media_items (id, library_id, title, created_at)
         VALUES ($1, $2, 'Harbor', $3)",
        &[&item, &library, &instant],
    )
    .await;
    let berlin = Options {
        mode: DatabaseMode::Auto,
        db_time_zone: BERLIN,
    };
    let prepared = prepare_ready(&mut c, berlin).await;
    assert_eq!(prepared.kind, Kind::Standalone);
    for sql in [
        "SELECT created_at::text FROM users",
        "SELECT created_at::text FROM libraries",
        "SELECT added_at::text FROM media_items",
    ] {
        let wall: String = c.query_one(sql, &[]).await.expect(sql).get(0);
        assert_eq!(wall, "2025-07-02 00:30:00.5", "{sql}");
    }
    let back: DateTime<Utc> = c
        .query_one(
            "SELECT added_at AT TIME ZONE 'Europe/Berlin' FROM media_items",
            &[],
        )
        .await
        .expect("added_at")
        .get(0);
    assert_eq!(back, instant);
    // The item had the first release's defaults: media type 'movie', no genres.
    let (media_type, tags): (String, i64) = c
        .query_one(
            "SELECT media_type::text, (SELECT count(*) FROM media_tags) FROM media_items",
            &[],
        )
        .await
        .map(|r| (r.get(0), r.get(1)))
        .expect("item");
    assert_eq!((media_type.as_str(), tags), ("movies", 0));
}
