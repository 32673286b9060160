//! Every analytics figure on data shaped the way the real CineVault writes it, against
//! answers worked out by hand: request-per-row direct plays, never-ended transcodes closed
//! by the player's report, genres in tags, roles, `added_at` without time zone.
//!
//! The day is Friday 2026-11-20 in Europe/Berlin, [2026-11-19T23:00Z, 2026-11-20T23:00Z):
//! - ada (admin) watches Harbor (6,000 s) with three requests: 20:00:00 for 3,000 s, a range
//!   request at 20:00:05 for 5 s, a seek at 20:50:10 for 1,000 s: one play of 4,000 s (the
//!   union), whose player reported position 5,500 at 21:10: completed (91.67 %).
//! - ben watches Storm (3,000 s, .mp4) at 18:00 for 600 s and, after a 5 s pause, 300 s: one
//!   direct play of 900 s, 30 %, partial.
//! - ben transcodes Pilot (1,800 s) at 21:00; CineVault never ends the row; his player
//!   reported position 1,200 at 21:20: the play ends then, 1,200 s, 66.67 %, partial.
//! - kid (a household profile) streamed Pilot on Thursday the 19th at 12:00 for 200 s.
//!
//! Watch minutes that Friday: (4,000 + 900 + 1,200) / 60 = 101 (rounded down).

use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use cinevault_analytics::analytics::watch::{self, Completion, WatchFilter};
use cinevault_analytics::analytics::{
    library_health, overview, storage, streams, users, NameCount,
};
use cinevault_analytics::rollup;

use super::{at, genre, library, pass, pool, progress, request, request_row, user};
use crate::common::{test_config, TestApp, TestDb};

const BERLIN: Tz = chrono_tz::Europe::Berlin;

struct World {
    ada: Uuid,
    ben: Uuid,
    kid: Uuid,
    films: Uuid,
    shows: Uuid,
    harbor: Uuid,
    storm: Uuid,
    pilot: Uuid,
    plays: [Uuid; 4],
}

/// A media item with every column the analytics read; `added_at` is wall-clock time as
/// CineVault's database writes it (no zone).
#[allow(clippy::too_many_arguments)]
async fn media(
    c: &tokio_postgres::Client,
    library: Uuid,
    title: &str,
    media_type: &str,
    runtime: i32,
    size: i64,
    codec: &str,
    container: &str,
    resolution: &str,
    meta: (Option<&str>, Option<&str>, Option<i32>),
    hdr: Option<&str>,
    audio_format: Option<&str>,
    added_at: &str,
) -> Uuid {
    let id = Uuid::new_v4();
    let (description, poster, year) = meta;
    c.execute(
        "INSERT INTO media_items (id, library_id, media_type, file_path, file_name, file_size,
             title, duration_seconds, codec, container, resolution, description, poster_path,
             year, hdr_format, dynamic_range, audio_format, added_at)
         VALUES ($1, $2, $3::text::media_type, '/media/' || $4::text || '.' || $8::text,
             $4::text || '.' || $8::text, $5, $4::text, $6, $7, $8::text, $9, $10, $11, $12,
             $13::text, CASE WHEN $13::text IS NULL THEN 'SDR' ELSE 'HDR' END, $14,
             $15::text::timestamp)",
        &[
            &id,
            &library,
            &media_type,
            &title,
            &size,
            &runtime,
            &codec,
            &container,
            &resolution,
            &description,
            &poster,
            &year,
            &hdr,
            &audio_format,
            &added_at,
        ],
    )
    .await
    .expect("media item");
    id
}

async fn world(db: &TestDb) -> World {
    let c = db.client().await;
    let ada = user(&c, "ada", "admin").await;
    let ben = user(&c, "ben", "user").await;
    let kid = user(&c, "kid", "user").await;
    c.execute(
        "UPDATE users SET parent_user_id = $1 WHERE id = $2",
        &[&ben, &kid],
    )
    .await
    .expect("household profile");
    let films = library(&c, "Films", "movies").await;
    let shows = library(&c, "Shows", "tv_shows").await;
    let harbor = media(
        &c,
        films,
        "Harbor",
        "movies",
        6000,
        4_000_000_000,
        "hevc",
        "mkv",
        "4K",
        (
            Some("A harbor."),
            Some("/previews/posters/h.jpg"),
            Some(2021),
        ),
        Some("Dolby Vision"),
        Some("TrueHD Atmos"),
        "2026-11-19 10:00:00",
    )
    .await;
    genre(&c, harbor, "Drama").await;
    genre(&c, harbor, "Mystery").await;
    // Added at 22:30 wall clock: 23:30 in Berlin with the database in UTC.
    let storm = media(
        &c,
        films,
        "Storm",
        "movies",
        3000,
        2_500_000_000,
        "h264",
        "mp4",
        "1080p",
        (None, None, None),
        None,
        Some("AAC"),
        "2026-11-20 22:30:00",
    )
    .await;
    genre(&c, storm, "Action").await;
    let pilot = media(
        &c,
        shows,
        "Pilot",
        "tv_shows",
        1800,
        500_000_000,
        "h264",
        "mkv",
        "720p",
        (Some("  "), Some("/previews/posters/p.jpg"), Some(2020)),
        None,
        None,
        "2026-11-10 08:00:00",
    )
    .await;
    genre(&c, pilot, "Comedy").await;

    let s = |t: &str| at(t);
    let a1 = request(
        &c,
        ada,
        harbor,
        "direct_stream",
        s("2026-11-20T20:00:00Z"),
        3000,
    )
    .await;
    request(
        &c,
        ada,
        harbor,
        "direct_stream",
        s("2026-11-20T20:00:05Z"),
        5,
    )
    .await;
    request(
        &c,
        ada,
        harbor,
        "direct_stream",
        s("2026-11-20T20:50:10Z"),
        1000,
    )
    .await;
    progress(&c, ada, harbor, 5500, false, s("2026-11-20T21:10:00Z")).await;
    let b1 = request(
        &c,
        ben,
        storm,
        "direct_play",
        s("2026-11-20T18:00:00Z"),
        600,
    )
    .await;
    request(
        &c,
        ben,
        storm,
        "direct_play",
        s("2026-11-20T18:10:05Z"),
        300,
    )
    .await;
    let b2 = request_row(
        &c,
        ben,
        pilot,
        "transcode",
        Some("720p"),
        s("2026-11-20T21:00:00Z"),
    )
    .await;
    progress(&c, ben, pilot, 1200, false, s("2026-11-20T21:20:00Z")).await;
    let k1 = request(
        &c,
        kid,
        pilot,
        "direct_stream",
        s("2026-11-19T12:00:00Z"),
        200,
    )
    .await;
    pass(&pool(db), false).await;
    World {
        ada,
        ben,
        kid,
        films,
        shows,
        harbor,
        storm,
        pilot,
        plays: [b2, a1, b1, k1],
    }
}

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

#[tokio::test]
async fn every_analytics_figure_counts_cinevaults_rows_as_viewings() {
    let db = TestDb::cinevault().await;
    let w = world(&db).await;
    let (mut c, mut c2) = (db.client().await, db.client().await);

    // Overview at 23:00 Berlin on the Friday.
    let o = overview::load(
        &mut c,
        Some(&mut c2),
        BERLIN,
        "test-host",
        at("2026-11-20T22:00:00Z"),
    )
    .await
    .expect("overview");
    assert_eq!(
        (o.plays_today, o.unique_users_today, o.watch_minutes_today),
        (3, 2, 101)
    );
    assert_eq!(
        (
            o.direct_plays_today,
            o.direct_streams_today,
            o.transcodes_today
        ),
        (1, 1, 1)
    );
    assert_eq!(
        (o.plays_this_week, o.active_streams, o.bytes_served_today),
        (4, 0, 0)
    );
    assert_eq!(
        (
            o.plays_today_by_source.cinevault,
            o.plays_today_by_source.ingest
        ),
        (3, 0)
    );
    assert_eq!((o.transcode_failures_today, o.active_transcodes), (0, 0));
    assert_eq!((o.library_items, o.library_bytes), (3, 7_000_000_000));

    // Breakdown of the last two days (Thursday and Friday).
    let b = streams::breakdown(&c, BERLIN, 2, at("2026-11-20T22:00:00Z"))
        .await
        .expect("breakdown");
    let counts: Vec<(String, i64)> = b
        .types
        .iter()
        .map(|t| (t.playback_type.clone(), t.count))
        .collect();
    assert_eq!(
        counts,
        vec![
            ("direct_play".to_owned(), 1),
            ("direct_stream".to_owned(), 2),
            ("transcode".to_owned(), 1)
        ]
    );
    assert_eq!(b.plays_by_source.cinevault, 4);

    // Who watched what, newest first.
    let page = watch::page(
        &c,
        &WatchFilter {
            limit: 100,
            ..WatchFilter::default()
        },
    )
    .await
    .expect("watch activity");
    let ids: Vec<Uuid> = page.entries.iter().map(|e| e.session_id).collect();
    assert_eq!(ids, w.plays.to_vec());
    let [pilot, harbor, storm, kid] = [0, 1, 2, 3].map(|i| &page.entries[i]);
    assert_eq!(
        (
            pilot.playback_type.as_str(),
            pilot.duration_seconds,
            pilot.request_rows
        ),
        ("transcode", 1200, 1)
    );
    assert_eq!(pilot.ended_at, Some(at("2026-11-20T21:20:00Z")));
    assert_eq!(
        (
            pilot.position_seconds,
            pilot.completion_status,
            pilot.completion_percent
        ),
        (Some(1200), Completion::Partial, Some(66.67))
    );
    assert_eq!(pilot.media_type, "tv_shows");
    assert_eq!(
        (
            harbor.duration_seconds,
            harbor.request_rows,
            harbor.duration_source.as_str()
        ),
        (4000, 3, "requests")
    );
    assert_eq!(
        (
            harbor.completion_status,
            harbor.completion_source,
            harbor.completion_percent
        ),
        (Completion::Completed, "watch_history", Some(91.67))
    );
    assert_eq!(harbor.ended_at, Some(at("2026-11-20T21:06:50Z")));
    assert_eq!(
        (
            storm.duration_seconds,
            storm.request_rows,
            storm.completion_status
        ),
        (900, 2, Completion::Partial)
    );
    assert_eq!(
        (
            storm.completion_source,
            storm.completion_percent,
            storm.source.as_str()
        ),
        ("watch_time", Some(30.0), "cinevault")
    );
    assert_eq!((kid.username.as_str(), kid.duration_seconds), ("kid", 200));
    // CineVault's own media type names filter; the first release's are understood too.
    let shows = watch::page(
        &c,
        &WatchFilter {
            limit: 100,
            media_type: Some("tv_shows".into()),
            ..WatchFilter::default()
        },
    )
    .await
    .expect("filtered");
    assert_eq!(shows.entries.len(), 2);

    // Per user: plays are viewings, favourite genres come from tags, roles are shown.
    let list = users::summaries(&c).await.expect("users").users;
    let got: Vec<(&str, &str, i64, i64, Option<&str>)> = list
        .iter()
        .map(|u| {
            (
                u.username.as_str(),
                u.role.as_str(),
                u.total_plays,
                u.watch_minutes,
                u.favorite_genre.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("ben", "user", 2, 35, Some("Action")),
            ("ada", "admin", 1, 66, Some("Drama")),
            ("kid", "user", 1, 3, Some("Comedy")),
        ]
    );
    let ada = list.iter().find(|u| u.user_id == w.ada).expect("ada");
    assert_eq!(ada.last_active, Some(at("2026-11-20T21:06:50Z")));
    let ben = list.iter().find(|u| u.user_id == w.ben).expect("ben");
    assert_eq!(ben.last_active, Some(at("2026-11-20T21:20:00Z")));
    assert!(list.iter().any(|u| u.user_id == w.kid));

    // Storage and library health from CineVault's columns.
    let st = storage::summary(&c).await.expect("storage");
    let per: Vec<(Option<Uuid>, Option<&str>, i64, i64)> = st
        .libraries
        .iter()
        .map(|l| {
            (
                l.library_id,
                l.library_type.as_deref(),
                l.item_count,
                l.total_bytes,
            )
        })
        .collect();
    assert_eq!(
        per,
        vec![
            (Some(w.films), Some("movies"), 2, 6_500_000_000),
            (Some(w.shows), Some("tv_shows"), 1, 500_000_000)
        ]
    );
    let health = library_health::reports(&c, &c2, &c).await.expect("health");
    let films = &health.libraries[0];
    assert_eq!(
        (
            films.total_items,
            films.complete_items,
            films.metadata_completeness_percent
        ),
        (2, 1, 50.0)
    );
    assert_eq!(
        (
            films.missing_overview,
            films.missing_poster,
            films.missing_year,
            films.missing_genres
        ),
        (1, 1, 1, 0)
    );
    assert_eq!(
        films.video_codecs,
        vec![NameCount::new("h264", 1), NameCount::new("hevc", 1)]
    );
    assert_eq!(
        films.resolutions,
        vec![NameCount::new("1080p", 1), NameCount::new("4K", 1)]
    );
    assert_eq!((films.hdr_count, films.atmos_count), (1, 1));
    assert_eq!(films.hdr_formats, vec![NameCount::new("Dolby Vision", 1)]);
    let shows = &health.libraries[1];
    assert_eq!(
        (
            shows.total_items,
            shows.complete_items,
            shows.missing_overview,
            shows.missing_genres
        ),
        (1, 0, 1, 0)
    );

    // CineVault writes no stream_errors and no transcode_history: none of its short requests
    // (ada's 5 s range request) is an "error", and no transcode failed.
    let readings = cinevault_analytics::notifications::inputs::readings(
        &c,
        std::time::Duration::from_secs(600),
    )
    .await
    .expect("readings");
    assert_eq!(
        (readings.stream_errors, readings.transcode_failures),
        (0, 0)
    );
    let _ = (w.harbor, w.storm, w.pilot);
}

#[tokio::test]
async fn the_rollup_counts_viewings_and_reads_added_at_in_the_databases_zone() {
    let db = TestDb::cinevault().await;
    world(&db).await;
    let c = db.client().await;
    let days = rollup::rollup_range(
        &pool(&db),
        BERLIN,
        d("2026-11-19"),
        d("2026-11-21"),
        |_, _, _| {},
    )
    .await
    .expect("rollup");
    assert_eq!(days, 3);
    let fri = rollup::load_day(&c, d("2026-11-20"))
        .await
        .expect("load")
        .expect("row");
    assert_eq!(
        (
            fri.total_plays,
            fri.unique_users,
            fri.total_watch_minutes,
            fri.total_bytes_served
        ),
        (3, 2, 101, 0)
    );
    assert_eq!(
        (fri.transcodes, fri.direct_plays, fri.direct_streams),
        (1, 1, 1)
    );
    assert_eq!(fri.transcode_failures, 0);
    // Storm was added at 22:30 UTC: 23:30 in Berlin, Friday.
    assert_eq!(
        (
            fri.new_media_added,
            fri.library_size_total,
            fri.storage_used_bytes
        ),
        (1, 3, 7_000_000_000)
    );
    let thu = rollup::load_day(&c, d("2026-11-19"))
        .await
        .expect("load")
        .expect("row");
    assert_eq!(
        (thu.total_plays, thu.new_media_added, thu.library_size_total),
        (1, 1, 2)
    );
    // The spec's table holds the same figures.
    let spec: i32 = c
        .query_one(
            "SELECT total_plays FROM daily_stats WHERE stat_date = '2026-11-20'",
            &[],
        )
        .await
        .expect("daily_stats")
        .get(0);
    assert_eq!(spec, 3);

    // A CineVault whose PostgreSQL writes wall clock in New York: Storm's 22:30 is 03:30 UTC
    // on the Saturday, so it is Saturday's; Harbor's Thursday 10:00 is still Thursday.
    let ny = cinevault_analytics::db::connect_pool(
        &db.url,
        2,
        std::time::Duration::from_secs(10),
        chrono_tz::America::New_York,
    )
    .expect("pool");
    rollup::rollup_range(&ny, BERLIN, d("2026-11-19"), d("2026-11-21"), |_, _, _| {})
        .await
        .expect("rollup");
    let fri = rollup::load_day(&c, d("2026-11-20"))
        .await
        .expect("load")
        .expect("row");
    let sat = rollup::load_day(&c, d("2026-11-21"))
        .await
        .expect("load")
        .expect("row");
    assert_eq!((fri.new_media_added, fri.library_size_total), (0, 2));
    assert_eq!((sat.new_media_added, sat.library_size_total), (1, 3));

    // Through the API: trends are the sidecar's rows; the server runs in CineVault mode with
    // the zone configured.
    let app = TestApp::spawn(test_config(
        &db.url,
        &[
            "--database-mode",
            "cinevault",
            "--db-timezone",
            "America/New_York",
        ],
    ))
    .await;
    let v: serde_json::Value = app
        .admin_get("/api/v1/analytics/trends?from=2026-11-19&to=2026-11-21")
        .send()
        .await
        .expect("trends")
        .json()
        .await
        .expect("json");
    let plays: Vec<i64> = v["days"]
        .as_array()
        .expect("days")
        .iter()
        .map(|d| d["total_plays"].as_i64().expect("plays"))
        .collect();
    assert_eq!(plays, vec![1, 3, 0]);
    let status: serde_json::Value = app
        .admin_get("/api/v1/status")
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    assert_eq!(status["database"]["db_timezone"], "America/New_York");
    app.stop().await;
    let _ = Utc::now();
}
