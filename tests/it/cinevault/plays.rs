//! CineVault's own rows made into plays (src/plays): request rows of one viewing are one
//! play, rows it never ends are closed by documented rules, the ingest API's sessions are
//! never counted twice, and the summaries stay exact through every pass.

use chrono::{Duration, Utc};
use uuid::Uuid;

use super::{at, end_row, item, library, pass, pool, progress, request, request_row, user};
use crate::common::TestDb;

#[derive(Debug, Clone, PartialEq)]
struct Play {
    id: Uuid,
    user: Uuid,
    playback_type: String,
    started: chrono::DateTime<Utc>,
    ended: Option<chrono::DateTime<Utc>>,
    active: bool,
    watch: i32,
    rows: i32,
    position: Option<i32>,
    duration_source: String,
}

async fn plays_of(c: &tokio_postgres::Client, item: Uuid) -> Vec<Play> {
    c.query(
        "SELECT id, user_id, playback_type, started_at, ended_at, is_active, watch_seconds,
                request_rows, position_seconds, duration_source
         FROM plays WHERE media_item_id = $1 ORDER BY user_id, started_at",
        &[&item],
    )
    .await
    .expect("plays")
    .iter()
    .map(|r| Play {
        id: r.get(0),
        user: r.get(1),
        playback_type: r.get(2),
        started: r.get(3),
        ended: r.get(4),
        active: r.get(5),
        watch: r.get(6),
        rows: r.get(7),
        position: r.get(8),
        duration_source: r.get(9),
    })
    .collect()
}

fn secs(n: i64) -> Duration {
    Duration::seconds(n)
}

#[tokio::test]
async fn the_request_rows_of_one_viewing_are_one_play() {
    let db = TestDb::cinevault().await;
    let pool = pool(&db);
    let c = db.client().await;
    let ann = user(&c, "ann", "user").await;
    let ben = user(&c, "ben", "admin").await;
    let lib = library(&c, "Films", "movies").await;
    let film = item(
        &c,
        lib,
        "Harbor",
        "movies",
        Some(6000),
        4_000_000_000,
        Some("h264"),
        "mp4",
    )
    .await;
    let t0 = at("2026-11-20T20:00:00Z");

    // Ann: one long request, a parallel range request inside it, a seek 10 s after the first
    // ends; then, 40 minutes later (past the 30-minute gap), another viewing.
    let r1 = request(&c, ann, film, "direct_play", t0, 3000).await;
    request(&c, ann, film, "direct_play", t0 + secs(10), 10).await;
    request(&c, ann, film, "direct_play", t0 + secs(3010), 300).await;
    let r4 = request(&c, ann, film, "direct_play", t0 + secs(3310 + 2400), 60).await;
    // Ben, the same item at the same time: his own play. A direct row, then the player falls
    // back to HLS: one play, a transcode, which CineVault's never ends.
    let b1 = request(&c, ben, film, "direct_stream", t0 + secs(5), 20).await;
    let b2 = request_row(&c, ben, film, "transcode", Some("720p"), t0 + secs(40)).await;

    let p = pass(&pool, false).await;
    assert_eq!(p.inserted, 3, "{p:?}");
    let plays = plays_of(&c, film).await;
    let ann_plays: Vec<&Play> = plays.iter().filter(|p| p.user == ann).collect();
    assert_eq!(ann_plays.len(), 2, "{plays:#?}");
    // Union of [0, 3000) ∪ [10, 20) ∪ [3010, 3310): 3,300 s; it ends with its last request.
    assert_eq!(
        (ann_plays[0].id, ann_plays[0].watch, ann_plays[0].rows),
        (r1, 3300, 3)
    );
    assert_eq!(ann_plays[0].ended, Some(t0 + secs(3310)));
    assert_eq!(ann_plays[0].playback_type, "direct_play");
    assert_eq!(ann_plays[0].duration_source, "requests");
    assert_eq!((ann_plays[1].id, ann_plays[1].watch), (r4, 60));
    let ben_plays: Vec<&Play> = plays.iter().filter(|p| p.user == ben).collect();
    assert_eq!(ben_plays.len(), 1, "{plays:#?}");
    assert_eq!(ben_plays[0].id, b1);
    assert_eq!(ben_plays[0].playback_type, "transcode");
    assert_eq!(ben_plays[0].rows, 2);

    // The transcode row is long past the item's runtime with no report: the pass closed it
    // at its start plus the runtime, with no time watched known.
    let (active, ended, secs_watched): (bool, Option<chrono::DateTime<Utc>>, i32) = {
        let r = c
            .query_one(
                "SELECT is_active, ended_at, duration_seconds FROM stream_sessions WHERE id = $1",
                &[&b2],
            )
            .await
            .expect("row");
        (r.get(0), r.get(1), r.get(2))
    };
    assert_eq!(
        (active, ended, secs_watched),
        (false, Some(t0 + secs(40 + 6000)), 0)
    );
    assert!(!ben_plays[0].active);
    assert_eq!(ben_plays[0].watch, 20, "only the direct row's request time");

    // A second pass changes nothing.
    let again = pass(&pool, false).await;
    assert_eq!(
        (again.inserted, again.updated, again.deleted),
        (0, 0, 0),
        "{again:?}"
    );
    let full = pass(&pool, true).await;
    assert_eq!(
        (full.inserted, full.updated, full.deleted),
        (0, 0, 0),
        "{full:?}"
    );

    // A late request of Ann's first viewing joins it; the analytics count two plays for her.
    request(&c, ann, film, "direct_play", t0 + secs(3400), 100).await;
    // CineVault stamps its rows with its own clock: the row is older than the last pass, but
    // within the margin the worker looks back.
    c.execute(
        "UPDATE cinevault_plays_state SET scanned_to = $1",
        &[&(t0 + secs(3500))],
    )
    .await
    .expect("state");
    let late = pass(&pool, false).await;
    assert_eq!(
        (late.inserted, late.updated, late.deleted),
        (0, 1, 0),
        "{late:?}"
    );
    let plays = plays_of(&c, film).await;
    let first = plays.iter().find(|p| p.id == r1).expect("first play");
    assert_eq!((first.watch, first.rows), (3400, 4));
}

#[tokio::test]
async fn rows_cinevault_never_ends_are_closed_by_the_players_report_or_the_runtime() {
    let db = TestDb::cinevault().await;
    let pool = pool(&db);
    let c = db.client().await;
    let lib = library(&c, "Films", "movies").await;
    let film = item(
        &c,
        lib,
        "Storm",
        "movies",
        Some(6000),
        1,
        Some("hevc"),
        "mkv",
    )
    .await;
    let unknown = item(&c, lib, "No runtime", "movies", None, 1, None, "mkv").await;
    let now = Utc::now();
    let (reported, fresh, silent, stuck, open, forever) = (
        user(&c, "reported", "user").await,
        user(&c, "fresh", "user").await,
        user(&c, "silent", "user").await,
        user(&c, "stuck", "user").await,
        user(&c, "open", "user").await,
        user(&c, "forever", "user").await,
    );
    // The player closed 15 minutes ago (older than the 10-minute staleness) at 25 minutes in.
    let r = request_row(
        &c,
        reported,
        film,
        "transcode",
        Some("720p"),
        now - Duration::minutes(30),
    )
    .await;
    progress(&c, reported, film, 1500, false, now - Duration::minutes(15)).await;
    // Reported two minutes ago: still playing (casting reports every 5 s).
    let f = request_row(
        &c,
        fresh,
        film,
        "transcode",
        Some("720p"),
        now - Duration::minutes(30),
    )
    .await;
    progress(&c, fresh, film, 1700, false, now - Duration::minutes(2)).await;
    // No report, and its runtime (100 min) plus the staleness has passed.
    let s = request_row(
        &c,
        silent,
        film,
        "transcode",
        Some("480p"),
        now - Duration::hours(3),
    )
    .await;
    // A direct request left open by a CineVault that stopped mid-request.
    let d = request_row(
        &c,
        stuck,
        film,
        "direct_play",
        None,
        now - Duration::hours(3),
    )
    .await;
    // An open direct request within the runtime: CineVault ends it itself.
    let o = request_row(
        &c,
        open,
        film,
        "direct_play",
        None,
        now - Duration::minutes(20),
    )
    .await;
    // Unknown runtime: 6 hours (--stale-transcode-after) before it is closed.
    let u = request_row(
        &c,
        forever,
        unknown,
        "transcode",
        Some("720p"),
        now - Duration::hours(5),
    )
    .await;
    // A transcode of three days ago never ended, and the player's only report (watch_history
    // keeps the latest) is of a viewing today: it is not this row's end.
    let again = user(&c, "again", "user").await;
    let old = request_row(
        &c,
        again,
        film,
        "transcode",
        Some("720p"),
        now - Duration::days(3),
    )
    .await;
    progress(&c, again, film, 300, false, now - Duration::minutes(15)).await;

    let p = pass(&pool, false).await;
    assert_eq!(p.rows_closed, 4, "{p:?}");
    let state = |id: Uuid| {
        let c = &c;
        async move {
            let r = c
                .query_one(
                    "SELECT is_active, ended_at, duration_seconds FROM stream_sessions WHERE id = $1",
                    &[&id],
                )
                .await
                .expect("row");
            (
                r.get::<_, bool>(0),
                r.get::<_, Option<chrono::DateTime<Utc>>>(1),
                r.get::<_, i32>(2),
            )
        }
    };
    let close_to = |a: Option<chrono::DateTime<Utc>>, b: chrono::DateTime<Utc>| {
        a.is_some_and(|a| (a - b).num_milliseconds().abs() < 1000)
    };
    let (active, ended, watched) = state(r).await;
    assert!(
        !active && close_to(ended, now - Duration::minutes(15)),
        "{ended:?}"
    );
    assert!((899..=901).contains(&watched), "{watched}");
    let (active, ended, _) = state(f).await;
    assert!(active && ended.is_none());
    let (active, ended, watched) = state(s).await;
    assert!(!active && close_to(ended, now - Duration::hours(3) + secs(6000)));
    assert_eq!(watched, 0);
    let (active, _, watched) = state(d).await;
    assert!(!active);
    assert_eq!(watched, 0);
    assert!(
        state(o).await.0,
        "an open request within the runtime stays open"
    );
    let (active, ended, watched) = state(old).await;
    assert!(
        !active && close_to(ended, now - Duration::days(3) + secs(6000)),
        "{ended:?}"
    );
    assert_eq!(
        watched, 0,
        "closed by the runtime, not by a later viewing's report"
    );
    assert!(state(u).await.0, "unknown runtime: open for 6 hours");

    let plays = plays_of(&c, film).await;
    let play = |u: Uuid| plays.iter().find(|p| p.user == u).expect("play").clone();
    let closed = play(reported);
    assert_eq!(
        closed.position,
        Some(1500),
        "watch_history's position belongs to the play"
    );
    assert!(!closed.active);
    assert_eq!(closed.duration_source, "requests");
    assert!(play(fresh).active);
    assert_eq!(play(fresh).position, Some(1700));
    let unknown_play = play(silent);
    assert_eq!(
        (unknown_play.watch, unknown_play.duration_source.as_str()),
        (0, "unknown")
    );
    assert!(play(open).active);
    assert!(
        (1199..=1201).contains(&play(open).watch),
        "open for 20 minutes so far"
    );
}

#[tokio::test]
async fn rows_of_a_session_reported_through_the_ingest_api_are_never_counted_twice() {
    let db = TestDb::cinevault().await;
    let pool = pool(&db);
    let c = db.client().await;
    let ann = user(&c, "ann", "user").await;
    let lib = library(&c, "Films", "movies").await;
    let film = item(
        &c,
        lib,
        "Harbor",
        "movies",
        Some(6000),
        1,
        Some("h264"),
        "mp4",
    )
    .await;
    let t0 = at("2026-11-20T20:00:00Z");
    // A CineVault that reports through the ingest API while its own handler still writes.
    let reported = Uuid::new_v4();
    c.execute(
        "INSERT INTO stream_sessions (id, user_id, media_item_id, playback_type, started_at,
             ended_at, is_active, duration_seconds, last_reported_at, source)
         VALUES ($1, $2, $3, 'direct_play', $4, $5, false, 1800, $5, 'ingest')",
        &[&reported, &ann, &film, &t0, &(t0 + secs(1800))],
    )
    .await
    .expect("reported session");
    request(&c, ann, film, "direct_play", t0 + secs(2), 1700).await;
    request(&c, ann, film, "direct_play", t0 + secs(1790), 5).await;
    // Two hours later, a viewing only CineVault's handler saw.
    let alone = request(&c, ann, film, "direct_play", t0 + Duration::hours(2), 600).await;
    pass(&pool, false).await;
    let plays = plays_of(&c, film).await;
    let ids: Vec<Uuid> = plays.iter().map(|p| p.id).collect();
    assert_eq!(ids, vec![reported, alone], "{plays:#?}");
    assert_eq!(plays[0].watch, 1800);
    assert_eq!(plays[0].duration_source, "reported");
    let overview_plays: i64 = c
        .query_one("SELECT count(*) FROM plays WHERE user_id = $1", &[&ann])
        .await
        .expect("count")
        .get(0);
    assert_eq!(overview_plays, 2);
    // An ingest start under the id of one of CineVault's rows is refused, not merged.
    let mut conn = pool.get().await.expect("connection");
    let tx = conn.transaction().await.expect("tx");
    let event: cinevault_analytics::ingest::Event = serde_json::from_value(serde_json::json!({
        "type": "session_start", "id": alone, "user_id": ann, "media_item_id": film}))
    .expect("event");
    let refused = cinevault_analytics::ingest::apply::apply(&tx, &event).await;
    let err = refused.expect_err("refused").into_app_error("");
    assert_eq!(err.status.as_u16(), 409);
}

#[tokio::test]
async fn summaries_follow_every_pass_exactly() {
    let db = TestDb::cinevault().await;
    let pool = pool(&db);
    let c = db.client().await;
    let ann = user(&c, "ann", "user").await;
    let ben = user(&c, "ben", "user").await;
    let lib = library(&c, "Films", "movies").await;
    let film = item(
        &c,
        lib,
        "Harbor",
        "movies",
        Some(6000),
        1,
        Some("h264"),
        "mp4",
    )
    .await;
    super::genre(&c, film, "Drama").await;
    let other = item(
        &c,
        lib,
        "Storm",
        "movies",
        Some(3000),
        1,
        Some("h264"),
        "mp4",
    )
    .await;
    super::genre(&c, other, "Action").await;
    // Rows stamped days ago are only looked at again by a full pass (the first test shows the
    // margin of an ordinary one), so every pass here is full.
    let t0 = at("2026-11-20T20:00:00Z");
    let scan = "SELECT user_id, count(*), sum(watch_seconds) / 60, max(last_active)
                FROM plays GROUP BY user_id ORDER BY user_id";
    let summary = "SELECT user_id, total_plays, watch_minutes, last_active FROM (
                       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(user_id uuid,
                           total_plays bigint, watch_minutes bigint, last_active timestamptz)
                   ) s WHERE total_plays > 0 ORDER BY user_id";
    let compare = || async {
        let want: Vec<(Uuid, i64, i64, Option<chrono::DateTime<Utc>>)> = c
            .query(scan, &[])
            .await
            .expect("scan")
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    r.get(1),
                    r.get::<_, Option<i64>>(2).unwrap_or(0),
                    r.get(3),
                )
            })
            .collect();
        let answer = cinevault_analytics::analytics::users::summaries(&c)
            .await
            .expect("summaries");
        let json = serde_json::to_value(&answer.users).expect("json");
        let got: Vec<(Uuid, i64, i64, Option<chrono::DateTime<Utc>>)> = c
            .query(summary, &[&json])
            .await
            .expect("summary")
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect();
        assert_eq!(got, want);
        answer
    };
    for (n, who) in [ann, ann, ben].into_iter().enumerate() {
        request(
            &c,
            who,
            film,
            "direct_play",
            t0 + Duration::hours(n as i64 * 3),
            1200,
        )
        .await;
    }
    pass(&pool, true).await;
    compare().await;
    cinevault_analytics::workers::summaries::fold_once(&pool)
        .await
        .expect("fold");
    compare().await;
    // Ann's second viewing grows (a request still open, then ended); Ben watches another
    // item.
    let last = request_row(
        &c,
        ann,
        film,
        "direct_play",
        None,
        t0 + Duration::hours(3) + secs(1300),
    )
    .await;
    pass(&pool, true).await;
    compare().await;
    end_row(&c, last, t0 + Duration::hours(3) + secs(1900), 600).await;
    request(
        &c,
        ben,
        other,
        "direct_stream",
        t0 + Duration::hours(10),
        900,
    )
    .await;
    pass(&pool, true).await;
    let answer = compare().await;
    let ben_row = answer.users.iter().find(|u| u.user_id == ben).expect("ben");
    let plays: i64 = c
        .query_one("SELECT count(*) FROM cinevault_plays", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(plays, 4, "Ann twice and Ben twice");
    // Two plays, Drama and Action once each: ties go to the first name.
    assert_eq!(ben_row.favorite_genre.as_deref(), Some("Action"));
    cinevault_analytics::workers::summaries::fold_once(&pool)
        .await
        .expect("fold");
    compare().await;
}

/// A pass never waits on CineVault: while CineVault's delete of an item is in flight (its
/// transaction holds the item), the pass leaves that item's plays for later instead of
/// waiting, so the two can never deadlock (PostgreSQL would then cancel one of them, maybe
/// CineVault's). Once the delete is gone the pass catches up.
#[tokio::test]
async fn a_pass_leaves_an_item_cinevault_is_deleting_for_later_and_never_waits() {
    let db = TestDb::cinevault().await;
    let pool = pool(&db);
    let c = db.client().await;
    let ann = user(&c, "ann", "user").await;
    let lib = library(&c, "Films", "movies").await;
    let film = item(
        &c,
        lib,
        "Harbor",
        "movies",
        Some(6000),
        1,
        Some("h264"),
        "mp4",
    )
    .await;
    let other = item(
        &c,
        lib,
        "Storm",
        "movies",
        Some(6000),
        1,
        Some("h264"),
        "mp4",
    )
    .await;
    let now = Utc::now();
    request(
        &c,
        ann,
        film,
        "direct_play",
        now - Duration::minutes(20),
        60,
    )
    .await;
    request(
        &c,
        ann,
        other,
        "direct_play",
        now - Duration::minutes(20),
        60,
    )
    .await;

    let mut cinevault = crate::common::connect(&db.url).await;
    let deleting = cinevault.transaction().await.expect("tx");
    deleting
        .execute("DELETE FROM media_items WHERE id = $1", &[&film])
        .await
        .expect("CineVault's delete, not committed yet");
    let started = std::time::Instant::now();
    let p = pass(&pool, false).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "the pass waited"
    );
    assert_eq!((p.deferred, p.inserted), (1, 1), "{p:?}");
    assert_eq!(plays_of(&c, other).await.len(), 1);
    assert!(plays_of(&c, film).await.is_empty());
    deleting.rollback().await.expect("rollback");
    let p = pass(&pool, false).await;
    assert_eq!((p.deferred, p.inserted), (0, 1), "{p:?}");
    assert_eq!(plays_of(&c, film).await.len(), 1);

    // And the delete, committed, takes the item's play with it.
    c.execute("DELETE FROM media_items WHERE id = $1", &[&film])
        .await
        .expect("CineVault's delete");
    assert!(plays_of(&c, film).await.is_empty());
    assert_eq!(pass(&pool, false).await.deferred, 0);
}
