//! Every endpoint's figures on the seeded dataset, computed by the query functions with the
//! clock pinned (so "today" and "this week" are known days, across a DST change).

use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use cinevault_analytics::analytics::watch::{Completion, WatchFilter};
use cinevault_analytics::analytics::{
    library_health, overview, period, storage, streams, system, transcodes, trends, users, watch,
    NameCount,
};
use uuid::Uuid;

use super::seed::{daily, metric, now, seed, utc};
use crate::common::TestDb;

const BERLIN: Tz = chrono_tz::Europe::Berlin;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn nc(list: &[(&str, i64)]) -> Vec<NameCount> {
    list.iter().map(|(n, c)| NameCount::new(*n, *c)).collect()
}

#[tokio::test]
async fn overview_counts_the_local_day_and_iso_week() {
    let db = TestDb::migrated().await;
    let (mut c, mut c2) = (db.client().await, db.client().await);
    seed(&c).await;
    metric(&c, "alpha", now() - Duration::hours(3), 10.0, 500.0).await;
    metric(&c, "alpha", now() - Duration::hours(1), 30.0, 400.0).await;
    metric(&c, "beta", now() - Duration::minutes(30), 50.0, 300.0).await;

    let o = overview::load(&mut c, Some(&mut c2), BERLIN, "alpha", now())
        .await
        .expect("overview");
    assert_eq!((o.today, o.week_start), (d("2026-03-29"), d("2026-03-23")));
    assert_eq!(o.active_streams, 1); // s4
    assert_eq!(o.active_transcodes, 1); // t3
                                        // s1, s2 (local midnight sharp) and s4; s3 one second before midnight is yesterday.
    assert_eq!(o.plays_today, 3);
    // + s3 and s5 (Monday 00:00); s6 at Sunday 23:59:59 is last week.
    assert_eq!(o.plays_this_week, 5);
    assert_eq!(o.unique_users_today, 2);
    assert_eq!(o.bytes_served_today, 3500);
    assert_eq!(o.watch_minutes_today, (5400 + 600 + 120) / 60);
    assert_eq!(
        (
            o.transcodes_today,
            o.direct_plays_today,
            o.direct_streams_today
        ),
        (2, 1, 0)
    );
    assert_eq!(o.transcode_failures_today, 1); // t2; t4 failed yesterday
    assert_eq!(o.library_items, 4);
    assert_eq!(o.library_bytes, 16_000_000_100);
    // This host's newest reading, even though beta's is newer.
    assert_eq!(o.metrics_host.as_deref(), Some("alpha"));
    assert_eq!(o.metrics_recorded_at, Some(now() - Duration::hours(1)));
    assert_eq!(
        (o.cpu_percent, o.disk_free_gb, o.disk_used_gb),
        (30.0, 400.0, 600.0)
    );
    assert_eq!(
        (o.memory_percent, o.memory_used_mb, o.disk_total_gb),
        (40.0, 2048, 1000.0)
    );
    // A host with no readings shows the newest reading of any host.
    let o = overview::load(&mut c, None, BERLIN, "gamma", now())
        .await
        .expect("overview");
    assert_eq!(o.metrics_host.as_deref(), Some("beta"));
    assert_eq!(o.cpu_percent, 50.0);

    // In UTC the same instant has a different today (03-29 from 00:00Z): s2 and s3 fall on
    // the 28th, and the week starts 03-23 00:00Z, so s5 and s6 both fall before it.
    let o = overview::load(&mut c, Some(&mut c2), Tz::UTC, "alpha", now())
        .await
        .expect("overview");
    assert_eq!((o.plays_today, o.plays_this_week), (2, 4));
}

#[tokio::test]
async fn breakdown_lists_all_three_types_over_the_last_days() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let shares = |b: &streams::StreamTypeBreakdown| -> Vec<(String, i64, f64)> {
        b.types
            .iter()
            .map(|t| (t.playback_type.clone(), t.count, t.percent))
            .collect()
    };
    let empty = streams::breakdown(&c, BERLIN, 30, now())
        .await
        .expect("breakdown");
    assert_eq!(empty.total, 0);
    assert_eq!(
        shares(&empty),
        vec![
            ("direct_play".into(), 0, 0.0),
            ("direct_stream".into(), 0, 0.0),
            ("transcode".into(), 0, 0.0)
        ]
    );

    seed(&c).await;
    let today = streams::breakdown(&c, BERLIN, 1, now())
        .await
        .expect("breakdown");
    assert_eq!(today.since, utc("2026-03-28T23:00:00Z"));
    assert_eq!(today.total, 3);
    assert_eq!(
        shares(&today),
        vec![
            ("direct_play".into(), 1, 33.33),
            ("direct_stream".into(), 0, 0.0),
            ("transcode".into(), 2, 66.67)
        ]
    );
    // Seven days back to Monday 03-23 00:00 CET (s1..s5).
    let week = streams::breakdown(&c, BERLIN, 7, now())
        .await
        .expect("breakdown");
    assert_eq!(week.since, utc("2026-03-22T23:00:00Z"));
    assert_eq!(
        shares(&week),
        vec![
            ("direct_play".into(), 2, 40.0),
            ("direct_stream".into(), 1, 20.0),
            ("transcode".into(), 2, 40.0)
        ]
    );
    // Thirty days (from 02-28) add s6 but not s7 (February 1st).
    let month = streams::breakdown(&c, BERLIN, 30, now())
        .await
        .expect("breakdown");
    assert_eq!((month.days, month.total), (30, 6));
    assert_eq!(month.types[0].count, 3);
}

fn ids(page: &watch::WatchActivityPage) -> Vec<Uuid> {
    page.entries.iter().map(|e| e.session_id).collect()
}

#[tokio::test]
async fn watch_activity_filters_pages_and_completion() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let s = seed(&c).await;
    let [s1, s2, s3, s4, s5, s6, s7] = s.sessions;
    let all = WatchFilter {
        limit: 100,
        ..WatchFilter::default()
    };
    let page = watch::page(&c, &all).await.expect("page");
    assert_eq!(ids(&page), vec![s4, s1, s2, s3, s5, s6, s7]);
    assert_eq!(page.next_cursor, None);
    let status: Vec<Completion> = page.entries.iter().map(|e| e.completion_status).collect();
    use Completion::*;
    assert_eq!(
        status,
        vec![InProgress, Completed, Partial, Unknown, Completed, Partial, Unknown]
    );
    let first = &page.entries[0];
    assert_eq!(first.username, "bob");
    assert_eq!(first.title, "The Quiet Harbor");
    assert_eq!(
        (first.media_type.as_str(), first.playback_type.as_str()),
        ("movies", "transcode")
    );
    assert_eq!(
        (first.duration_seconds, first.runtime_seconds),
        (120, Some(6000))
    );
    assert_eq!(first.completion_percent, Some(2.0));
    assert_eq!(page.entries[1].completion_percent, Some(90.0));
    assert_eq!(page.entries[3].completion_percent, None);

    let with = |f: WatchFilter| {
        let c = &c;
        async move { ids(&watch::page(c, &f).await.expect("page")) }
    };
    let by_user = with(WatchFilter {
        user_id: Some(s.bob),
        ..all.clone()
    })
    .await;
    assert_eq!(by_user, vec![s4, s3, s6]);
    // Inclusive local days: the 29th starts at 03-28 23:00Z (s2 in, s3 out).
    let (from, to) = period::date_range(BERLIN, Some(d("2026-03-29")), Some(d("2026-03-29")));
    assert_eq!(
        with(WatchFilter {
            from,
            to,
            ..all.clone()
        })
        .await,
        vec![s4, s1, s2]
    );
    let (_, to) = period::date_range(BERLIN, None, Some(d("2026-03-28")));
    assert_eq!(
        with(WatchFilter { to, ..all.clone() }).await,
        vec![s3, s5, s6, s7]
    );
    let (from, _) = period::date_range(BERLIN, Some(d("2026-03-23")), None);
    assert_eq!(
        with(WatchFilter {
            from,
            ..all.clone()
        })
        .await,
        vec![s4, s1, s2, s3, s5]
    );
    let episodes = with(WatchFilter {
        media_type: Some("tv_shows".into()),
        ..all.clone()
    })
    .await;
    assert_eq!(episodes, vec![s3, s7]);
    let none = with(WatchFilter {
        user_id: Some(s.carol),
        ..all.clone()
    })
    .await;
    assert!(none.is_empty());

    // Pages of two, chained by cursor, with a filter kept across pages.
    let mut seen = Vec::new();
    let mut filter = WatchFilter {
        user_id: Some(s.alice),
        limit: 2,
        ..WatchFilter::default()
    };
    loop {
        let page = watch::page(&c, &filter).await.expect("page");
        assert!(page.entries.len() <= 2);
        seen.extend(ids(&page));
        match page.next_cursor {
            Some(cur) => filter.after = Some(watch::Cursor::decode(&cur).expect("cursor")),
            None => break,
        }
    }
    assert_eq!(seen, vec![s1, s2, s5, s7]);
}

#[tokio::test]
async fn user_activity_totals_and_favorite_genre() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    assert!(users::summaries(&c).await.expect("users").users.is_empty());
    let s = seed(&c).await;
    let list = users::summaries(&c).await.expect("users").users;
    let rows: Vec<_> = list
        .iter()
        .map(|u| {
            (
                u.user_id,
                u.username.as_str(),
                u.total_plays,
                u.watch_minutes,
                u.last_active,
                u.favorite_genre.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            // 5400 + 600 + 3600 + 1200 s; Drama 3 (Harbor, Storm twice) beats Action 2.
            (
                s.alice,
                "alice",
                4,
                180,
                Some(utc("2026-03-29T11:30:00Z")),
                Some("Drama")
            ),
            // 300 + 120 + 60 s; last report of the active s4; Drama and Mystery tie at 2.
            (
                s.bob,
                "bob",
                3,
                8,
                Some(utc("2026-03-29T11:52:00Z")),
                Some("Drama")
            ),
            (s.carol, "carol", 0, 0, None, None),
        ]
    );
}

#[tokio::test]
async fn transcode_stats_over_the_last_days() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let empty = transcodes::stats(&c, BERLIN, 30, now())
        .await
        .expect("stats");
    assert_eq!(
        (
            empty.total,
            empty.success_rate_percent,
            empty.hw_accel_percent
        ),
        (0, 0.0, 0.0)
    );
    assert!(empty.recent.is_empty() && empty.codec_distribution.is_empty());

    let s = seed(&c).await;
    let [t1, t2, t3, t4, _] = s.transcodes;
    let today = transcodes::stats(&c, BERLIN, 1, now())
        .await
        .expect("stats");
    assert_eq!(
        (
            today.total,
            today.succeeded,
            today.failed,
            today.in_progress
        ),
        (3, 1, 1, 1)
    );
    assert_eq!(today.success_rate_percent, 50.0);
    assert_eq!((today.hw_accel_count, today.hw_accel_percent), (2, 66.67));
    assert_eq!(
        today.by_accelerator,
        nc(&[("h264_nvenc", 1), ("h264_vaapi", 1)])
    );
    assert_eq!(
        today.codec_distribution,
        nc(&[("hevc → h264", 2), ("hevc → unknown", 1)])
    );
    let recent: Vec<_> = today
        .recent
        .iter()
        .map(|t| (t.id, t.status, t.error_message.as_deref()))
        .collect();
    assert_eq!(
        recent,
        vec![
            (t3, "in_progress", None),
            (t2, "failed", Some("ffmpeg exited with status 1")),
            (t1, "succeeded", None)
        ]
    );
    assert_eq!(today.recent[1].username, "bob");
    assert_eq!(today.recent[1].title, "The Quiet Harbor");

    // A week adds t4: failed, and "none" is software.
    let week = transcodes::stats(&c, BERLIN, 7, now())
        .await
        .expect("stats");
    assert_eq!((week.total, week.failed), (4, 2));
    assert_eq!(week.success_rate_percent, 33.33);
    assert_eq!((week.hw_accel_count, week.hw_accel_percent), (2, 50.0));
    assert_eq!(
        week.codec_distribution,
        nc(&[
            ("hevc → h264", 2),
            ("h264 → h264", 1),
            ("hevc → unknown", 1)
        ])
    );
    assert_eq!(week.recent.last().map(|t| t.id), Some(t4));
    // A year adds January's t5.
    let year = transcodes::stats(&c, BERLIN, 365, now())
        .await
        .expect("stats");
    assert_eq!(year.total, 5);
    assert_eq!(
        year.by_accelerator,
        nc(&[("h264_nvenc", 2), ("h264_vaapi", 1)])
    );
}

#[tokio::test]
async fn storage_and_library_health_per_library() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let empty = storage::summary(&c).await.expect("storage");
    assert_eq!(
        (empty.total_items, empty.total_bytes, empty.libraries.len()),
        (0, 0, 0)
    );
    assert!(library_health::reports(&c, &c, &c)
        .await
        .expect("health")
        .libraries
        .is_empty());

    let s = seed(&c).await;
    let st = storage::summary(&c).await.expect("storage");
    let rows: Vec<_> = st
        .libraries
        .iter()
        .map(|l| (l.library_id, l.name.as_deref(), l.item_count, l.total_bytes))
        .collect();
    assert_eq!(
        rows,
        vec![
            (Some(s.anime), Some("Anime"), 0, 0),
            (Some(s.movies), Some("Movies"), 2, 15_000_000_000),
            (Some(s.shows), Some("Shows"), 1, 1_000_000_000),
            (None, None, 1, 100),
        ]
    );
    assert_eq!((st.total_items, st.total_bytes), (4, 16_000_000_100));
    assert_eq!(st.libraries[1].library_type.as_deref(), Some("movies"));

    // Two connections run the two passes at once; the answer is the same.
    let c2 = db.client().await;
    let h = library_health::reports(&c, &c2, &c)
        .await
        .expect("health")
        .libraries;
    assert_eq!(
        library_health::reports(&c, &c, &c)
            .await
            .expect("health")
            .libraries,
        h
    );
    assert_eq!(h.len(), 4);
    let (anime, movies, shows, none) = (&h[0], &h[1], &h[2], &h[3]);
    assert_eq!(anime.library_id, Some(s.anime));
    assert_eq!(
        (anime.total_items, anime.metadata_completeness_percent),
        (0, 0.0)
    );
    assert!(anime.video_codecs.is_empty());

    assert_eq!(movies.library_id, Some(s.movies));
    assert_eq!(
        (
            movies.total_items,
            movies.complete_items,
            movies.metadata_completeness_percent
        ),
        (2, 1, 50.0)
    );
    assert_eq!(
        (
            movies.missing_overview,
            movies.missing_poster,
            movies.missing_year,
            movies.missing_genres
        ),
        (0, 1, 0, 0)
    );
    assert_eq!(movies.video_codecs, nc(&[("h264", 1), ("hevc", 1)]));
    assert_eq!(movies.audio_codecs, nc(&[("dts", 1), ("truehd", 1)]));
    assert_eq!(movies.resolutions, nc(&[("1080p", 1), ("2160p", 1)]));
    assert_eq!(movies.hdr_count, 2);
    assert_eq!(movies.hdr_formats, nc(&[("Dolby Vision", 1), ("HDR10", 1)]));
    assert_eq!(movies.atmos_count, 1);

    // Pilot: a blank overview is missing; SDR; "dolby atmos" counts.
    assert_eq!(shows.library_id, Some(s.shows));
    assert_eq!(
        (
            shows.complete_items,
            shows.missing_overview,
            shows.missing_poster
        ),
        (0, 1, 0)
    );
    assert_eq!((shows.hdr_count, shows.atmos_count), (0, 1));
    assert!(shows.hdr_formats.is_empty());

    assert_eq!((none.library_id, none.name.as_deref()), (None, None));
    assert_eq!(
        (
            none.total_items,
            none.missing_overview,
            none.missing_poster,
            none.missing_year,
            none.missing_genres
        ),
        (1, 1, 1, 1, 1)
    );
    assert_eq!(none.video_codecs, nc(&[("unknown", 1)]));
    assert_eq!(none.resolutions, nc(&[("unknown", 1)]));
    let _ = (s.harbor, s.storm, s.pilot, s.loose);
}

#[tokio::test]
async fn trends_are_stored_rows_oldest_first_with_gaps_absent() {
    let db = TestDb::migrated().await;
    let c = db.client().await;
    let t = trends::range(&c, d("2026-03-01"), d("2026-03-31"))
        .await
        .expect("trends");
    assert!(t.days.is_empty());
    for (day, plays) in [
        ("2026-03-25", 7),
        ("2026-03-20", 3),
        ("2026-03-22", 5),
        ("2026-03-26", 9),
    ] {
        daily(&c, day, plays).await;
    }
    let t = trends::range(&c, d("2026-03-21"), d("2026-03-25"))
        .await
        .expect("trends");
    assert_eq!((t.from, t.to), (d("2026-03-21"), d("2026-03-25")));
    let got: Vec<_> = t
        .days
        .iter()
        .map(|s| (s.stat_date, s.total_plays))
        .collect();
    assert_eq!(got, vec![(d("2026-03-22"), 5), (d("2026-03-25"), 7)]);
    assert_eq!(t.days[1].total_watch_minutes, 70);
    assert_eq!(t.days[1].storage_used_bytes, 16_000_000_100);
    // The default range ends today and spans 30 days.
    let (from, to) = period::trend_range(BERLIN, now(), None, None);
    assert_eq!((from, to), (d("2026-02-28"), d("2026-03-29")));
    let t = trends::range(&c, from, to).await.expect("trends");
    assert_eq!(t.days.len(), 4);
}

#[tokio::test]
async fn system_latest_per_host_and_downsampled_history() {
    let db = TestDb::migrated().await;
    let mut c = db.client().await;
    assert!(system::latest(&c, None)
        .await
        .expect("latest")
        .hosts
        .is_empty());
    let h = system::history(&c, 24, None, now()).await.expect("history");
    assert!(h.hosts.is_empty());
    assert!(overview::load(&mut c, None, BERLIN, "alpha", now())
        .await
        .expect("overview")
        .metrics_recorded_at
        .is_none());

    let width = system::bucket_seconds(24);
    // Two readings in one bucket (averaged), one in another, one outside the window.
    let bucket = |t: chrono::DateTime<chrono::Utc>| {
        let s = t.timestamp().div_euclid(width) * width;
        chrono::DateTime::from_timestamp(s, 0).expect("time")
    };
    let b1 = bucket(now() - Duration::hours(2));
    metric(&c, "alpha", b1 + Duration::seconds(1), 20.0, 500.0).await;
    metric(&c, "alpha", b1 + Duration::seconds(61), 40.0, 400.0).await;
    metric(&c, "alpha", now() - Duration::minutes(10), 70.0, 300.0).await;
    metric(&c, "alpha", now() - Duration::hours(30), 99.0, 100.0).await;
    metric(&c, "beta", now() - Duration::minutes(5), 5.0, 900.0).await;

    let latest = system::latest(&c, None).await.expect("latest").hosts;
    let got: Vec<_> = latest
        .iter()
        .map(|m| (m.host.as_str(), m.cpu_percent))
        .collect();
    assert_eq!(got, vec![("alpha", 70.0), ("beta", 5.0)]);
    assert_eq!(latest[0].recorded_at, now() - Duration::minutes(10));
    let beta = system::latest(&c, Some("beta"))
        .await
        .expect("latest")
        .hosts;
    assert_eq!(beta.len(), 1);
    assert_eq!(beta[0].disk_free_gb, 900.0);
    assert!(system::latest(&c, Some("nope"))
        .await
        .expect("latest")
        .hosts
        .is_empty());

    let h = system::history(&c, 24, Some("alpha"), now())
        .await
        .expect("history");
    assert_eq!((h.hours, h.bucket_seconds, h.to), (24, width, now()));
    assert_eq!(h.hosts.len(), 1);
    let points: Vec<_> = h.hosts[0]
        .points
        .iter()
        .map(|p| (p.recorded_at, p.samples, p.cpu_percent, p.disk_free_gb))
        .collect();
    assert_eq!(
        points,
        vec![
            (b1, 2, 30.0, 450.0),
            (bucket(now() - Duration::minutes(10)), 1, 70.0, 300.0)
        ]
    );
    assert_eq!(h.hosts[0].points[0].gpu_temp_celsius, None);
    // 48 hours reach the old reading; both hosts, by name.
    let h = system::history(&c, 48, None, now()).await.expect("history");
    let hosts: Vec<_> = h
        .hosts
        .iter()
        .map(|s| (s.host.as_str(), s.points.len()))
        .collect();
    assert_eq!(hosts, vec![("alpha", 3), ("beta", 1)]);
}

/// The catalogue pass split over two connections by heap page counts every item once, also
/// right after an update has moved every row to new pages.
#[tokio::test]
async fn overview_library_figures_split_over_two_connections_count_each_item_once() {
    let db = TestDb::migrated().await;
    let (mut c, mut c2) = (db.client().await, db.client().await);
    c.batch_execute(
        "INSERT INTO media_items (title, media_type, description, file_size)
         SELECT 'Item ' || n, 'movies', repeat('An overview. ', 40), n
         FROM generate_series(1, 3000) AS n",
    )
    .await
    .expect("items");
    let pages: i64 = c
        .query_one(
            "SELECT pg_relation_size('media_items') / current_setting('block_size')::int8",
            &[],
        )
        .await
        .expect("pages")
        .get(0);
    assert!(pages > 10, "the catalogue spans many pages ({pages})");
    let expected = (3000, 3000 * 3001 / 2);
    for round in 0..2 {
        let split = overview::load(&mut c, Some(&mut c2), BERLIN, "alpha", now())
            .await
            .expect("split");
        let single = overview::load(&mut c, None, BERLIN, "alpha", now())
            .await
            .expect("single");
        assert_eq!(
            (split.library_items, split.library_bytes),
            expected,
            "round {round}"
        );
        assert_eq!((single.library_items, single.library_bytes), expected);
        // Every row gets a new version further on; the old ones stay until vacuumed.
        c.batch_execute("UPDATE media_items SET title = title || '.'")
            .await
            .expect("update");
    }
}
