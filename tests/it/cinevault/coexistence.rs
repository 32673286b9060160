//! Beside CineVault's always-on workers (src/workers/coexistence.rs), each writing with
//! CineVault's exact statements: its collector's `system_metrics` rows (host ''), its
//! 30-day purge, its rollup's `daily_stats` upsert and its alert evaluator's `alert_log` rows
//! and `last_triggered_at` updates.

use std::future::Future;
use std::time::{Duration, Instant};

use chrono::{DateTime, Days, NaiveDate, SubsecRound, Utc};
use chrono_tz::Tz;
use cinevault_analytics::db::schema::Kind;
use cinevault_analytics::ingest::IngestWriter;
use cinevault_analytics::metrics::Metrics;
use cinevault_analytics::notifications::evaluator::{evaluate_once, Evaluation};
use cinevault_analytics::notifications::sender::Sender;
use cinevault_analytics::rollup::{day_start, load_day, rollup_range};
use cinevault_analytics::state::{AppState, SchemaState};
use cinevault_analytics::workers::coexistence::look_once;
use reqwest::Method;
use serde_json::{json, Value};
use tokio_postgres::Client;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::statements::{
    CLEANUP_OLD_METRICS, LOG_ALERT, RECORD_SYSTEM_METRICS, UPDATE_LAST_TRIGGERED, UPSERT_DAILY_STAT,
};
use super::{item, library, pass, pool, request, user};
use crate::alerts::receiver::Receiver;
use crate::alerts::{
    api, channel, evaluations, last_triggered, log_of, ok_json, rule, stream_errors, wait_for_log,
};
use crate::common::{test_config, TestApp, TestDb};
use crate::ingest::metric;

const BERLIN: Tz = Tz::Europe__Berlin;

/// The sidecar on CineVault's database, with no GPU, a media path that does not exist (no
/// disk reading of its own) and one collector run an hour, so the rows are the test's.
fn cv_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--database-mode",
        "cinevault",
        "--gpu",
        "off",
        "--media-path",
        "/nonexistent/cinevault-coexistence-tests",
        "--collect-interval",
        "1h",
    ];
    args.extend_from_slice(extra);
    args
}

/// An `AppState` built as src/lib.rs builds it, its schema marked ready on CineVault's
/// database, so each worker's step can be called on its own.
fn sidecar_state(db: &TestDb, args: &[&str]) -> AppState {
    let config = test_config(&db.url, args);
    let pool = pool(db);
    let metrics = Metrics::new(&config.host());
    let (ingest, _writers) =
        IngestWriter::start(pool.clone(), metrics.clone(), 1, CancellationToken::new());
    let state = AppState::new(config, pool, metrics, ingest);
    state.set_schema_state(SchemaState::Ready {
        kind: Kind::Cinevault,
        decided_by: "test".into(),
    });
    state
}

fn state_metric(state: &AppState, series: &str) -> f64 {
    metric(
        &state.metrics.encode_openmetrics().expect("metrics text"),
        series,
    )
}

fn detected_series(worker: &str) -> String {
    format!("cinevault_analytics_cinevault_worker_detected{{worker=\"{worker}\"}}")
}

fn last_seen_series(worker: &str) -> String {
    format!(
        "cinevault_analytics_cinevault_worker_last_seen_timestamp_seconds{{worker=\"{worker}\"}}"
    )
}

/// The gauge's value is a Unix time in seconds, to the millisecond.
fn same_second(gauge: f64, t: DateTime<Utc>) -> bool {
    (gauge - t.timestamp_millis() as f64 / 1000.0).abs() < 0.002
}

/// One tick of CineVault's collector: its RecordSystemMetrics, which does not name `host`.
async fn cinevault_tick(c: &Client, free_gb: f32, at: DateTime<Utc>) -> Uuid {
    let id = Uuid::new_v4();
    let no_gpu: Option<f32> = None;
    c.execute(
        RECORD_SYSTEM_METRICS,
        &[
            &id,
            &23.7_f32,
            &41.2_f32,
            &13_215_i32,
            &no_gpu,
            &no_gpu,
            &no_gpu,
            &100.0_f32,
            &(100.0_f32 - free_gb),
            &free_gb,
            &0_i32,
            &0_i32,
            &at,
        ],
    )
    .await
    .expect("CineVault's RecordSystemMetrics");
    id
}

/// A row of a sidecar's collector (this one's host is `test-host`).
async fn sidecar_row(c: &Client, host: &str, free_gb: f32, at: DateTime<Utc>) -> Uuid {
    let id = Uuid::new_v4();
    c.execute(
        "INSERT INTO system_metrics (id, host, cpu_percent, memory_percent, memory_used_mb,
             disk_total_gb, disk_used_gb, disk_free_gb, active_streams, active_transcodes,
             recorded_at)
         VALUES ($1, $2, 12.5, 30, 2048, 1000, 1000 - $3::real, $3, 1, 0, $4)",
        &[&id, &host, &free_gb, &at],
    )
    .await
    .expect("a sidecar's system_metrics row");
    id
}

async fn count(c: &Client, sql: &str, ids: &[Uuid]) -> i64 {
    c.query_one(sql, &[&ids]).await.expect("count").get(0)
}

async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done().await {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    let resp = app.admin_get(path).send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    assert!(status.is_success(), "{path}: {status}: {text}");
    serde_json::from_str(&text).expect("a JSON answer")
}

/// `cinevault_workers` in /api/v1/status once the server's first look is done.
async fn first_look(app: &TestApp) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = get_json(app, "/api/v1/status").await;
        if !status["cinevault_workers"]["checked_at"].is_null() {
            return status["cinevault_workers"].clone();
        }
        assert!(
            Instant::now() < deadline,
            "CineVault's workers were never looked for: {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn instant(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("an RFC 3339 instant, not {v}"))
}

/// One evaluation of the sidecar's evaluator (again while another worker holds its lock).
async fn evaluate(state: &AppState) -> (usize, usize, usize) {
    let sender = Sender::for_state(state).expect("webhook client");
    let cancel = CancellationToken::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match evaluate_once(state, &sender, &cancel)
            .await
            .expect("an evaluation")
        {
            Evaluation::Done {
                firing,
                delivered,
                failed,
            } => return (firing, delivered, failed),
            Evaluation::Skipped => {
                assert!(
                    Instant::now() < deadline,
                    "the evaluator lock never came free"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

#[tokio::test]
async fn cinevaults_collector_rows_are_detected_and_left_out_of_answers_and_alerts() {
    let db = TestDb::cinevault().await;
    let c = db.client().await;
    let args = cv_args(&["--webhook-allow-loopback", "--alert-interval", "1h"]);
    let state = sidecar_state(&db, &args);

    let seen = look_once(&state).await.expect("look");
    assert!(seen.checked_at.is_some());
    assert_eq!(
        (
            seen.collector.detected,
            seen.collector.running,
            seen.collector.last_seen
        ),
        (false, false, None)
    );

    // A tick of an hour ago: its collector ran, not lately.
    let hour_ago = (Utc::now() - chrono::Duration::hours(1)).trunc_subsecs(6);
    cinevault_tick(&c, 5.0, hour_ago).await;
    let seen = look_once(&state).await.expect("look");
    assert_eq!(
        (
            seen.collector.detected,
            seen.collector.running,
            seen.collector.last_seen
        ),
        (true, false, Some(hour_ago))
    );

    // It ticks every minute: running, last seen at its newest row.
    let newest = Utc::now().trunc_subsecs(6);
    cinevault_tick(&c, 5.0, newest - chrono::Duration::seconds(60)).await;
    cinevault_tick(&c, 5.0, newest).await;
    let seen = look_once(&state).await.expect("look");
    assert_eq!(
        (
            seen.collector.detected,
            seen.collector.running,
            seen.collector.last_seen
        ),
        (true, true, Some(newest))
    );
    assert!(!seen.collector.note.is_empty());
    assert!(!seen.rollup.detected && !seen.alert_evaluator.detected && !seen.duplicate_alerts);
    assert_eq!(state.cinevault_workers(), seen);
    assert_eq!(state_metric(&state, &detected_series("collector")), 1.0);
    assert_eq!(state_metric(&state, &detected_series("rollup")), 0.0);
    assert_eq!(
        state_metric(&state, &detected_series("alert_evaluator")),
        0.0
    );
    let gauge = state_metric(&state, &last_seen_series("collector"));
    assert!(same_second(gauge, newest), "{gauge} for {newest}");

    // The server's first look, right after its schema was ready, found the same.
    let app = TestApp::spawn(test_config(&db.url, &args)).await;
    let workers = first_look(&app).await;
    assert_eq!(workers["collector"]["detected"], true, "{workers}");
    assert_eq!(workers["collector"]["running"], true, "{workers}");
    assert_eq!(instant(&workers["collector"]["last_seen"]), newest);
    let text = app.metrics_text().await;
    assert_eq!(metric(&text, &detected_series("collector")), 1.0, "{text}");
    let gauge = metric(&text, &last_seen_series("collector"));
    assert!(same_second(gauge, newest), "{gauge} for {newest}");

    // Its own collector's first row goes (the next is an hour away): only CineVault's are left.
    eventually("the sidecar's collector wrote its row", || async {
        own_rows(&c).await > 0
    })
    .await;
    c.execute("DELETE FROM system_metrics WHERE host <> ''", &[])
        .await
        .expect("delete the sidecar's row");
    let system = get_json(&app, "/api/v1/analytics/system").await;
    assert_eq!(system["hosts"], json!([]), "{system}");
    for path in [
        "/api/v1/analytics/system/history",
        "/api/v1/analytics/system/history?hours=168",
    ] {
        let history = get_json(&app, path).await;
        assert_eq!(history["hosts"], json!([]), "{path}: {history}");
    }
    let overview = get_json(&app, "/api/v1/analytics/overview").await;
    assert_eq!(overview["metrics_host"], Value::Null, "{overview}");
    assert_eq!(overview["metrics_recorded_at"], Value::Null, "{overview}");
    assert_eq!(overview["disk_free_gb"].as_f64(), Some(0.0), "{overview}");

    // The sidecar's own rows beside them; CineVault's row is the newest of all.
    let t = Utc::now().trunc_subsecs(6);
    sidecar_row(&c, "test-host", 800.0, t - chrono::Duration::seconds(30)).await;
    sidecar_row(&c, "test-host", 790.0, t - chrono::Duration::seconds(5)).await;
    cinevault_tick(&c, 5.0, t).await;
    let system = get_json(&app, "/api/v1/analytics/system").await;
    let hosts = system["hosts"].as_array().expect("hosts");
    assert_eq!(hosts.len(), 1, "{system}");
    assert_eq!(hosts[0]["host"], "test-host");
    assert_eq!(hosts[0]["disk_free_gb"].as_f64(), Some(790.0));
    assert_eq!(
        instant(&hosts[0]["recorded_at"]),
        t - chrono::Duration::seconds(5)
    );
    let history = get_json(&app, "/api/v1/analytics/system/history?hours=2").await;
    let series = history["hosts"].as_array().expect("hosts");
    assert_eq!(series.len(), 1, "{history}");
    assert_eq!(series[0]["host"], "test-host");
    let samples: i64 = series[0]["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| p["samples"].as_i64().expect("samples"))
        .sum();
    assert_eq!(samples, 2, "{history}");
    let overview = get_json(&app, "/api/v1/analytics/overview").await;
    assert_eq!(overview["metrics_host"], "test-host", "{overview}");
    assert_eq!(overview["disk_free_gb"].as_f64(), Some(790.0), "{overview}");

    // A low-disk rule whose threshold CineVault's reading (5 GiB free) is far below: the
    // sidecar's own fresh reading has plenty, and CineVault's is not a reading of its own.
    let rx = Receiver::start().await;
    let ch = channel(&app, "generic", &rx.url("/disk")).await;
    let low_disk = rule(
        &app,
        json!({"name": "Low disk", "condition_type": "disk_space_low", "threshold": 50,
               "channel_id": ch}),
    )
    .await;
    assert_eq!(evaluate(&state).await, (0, 0, 0));
    assert!(log_of(&c, low_disk).await.is_empty());
    assert!(rx.hits().is_empty());
    // The rule does fire on a sidecar's host that is low.
    sidecar_row(&c, "media2", 10.0, Utc::now()).await;
    assert_eq!(evaluate(&state).await, (1, 1, 0));
    let hits = rx.wait_for(1, Duration::from_secs(5), |_| true).await;
    assert_eq!(hits.len(), 1);
    assert!(hits[0].text().contains("media2"), "{}", hits[0].text());
    let logged: Vec<(Option<String>, String)> = c
        .query(
            "SELECT host, sent_by FROM alert_log WHERE rule_id = $1",
            &[&low_disk],
        )
        .await
        .expect("log rows")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(logged, [(Some("media2".to_owned()), "sidecar".to_owned())]);
    app.stop().await;
}

/// Old rows of every kind on CineVault's database; returns (this host's 40-day-old rows,
/// this host's 100-day-old row, this host's 10-day-old row, another host's and CineVault's
/// 40-day-old rows, CineVault's fresh row).
async fn old_rows(c: &Client) -> (Vec<Uuid>, Uuid, Uuid, Vec<Uuid>, Uuid) {
    let now = Utc::now().trunc_subsecs(6);
    let ago = |d: i64| now - chrono::Duration::days(d);
    let own_40 = vec![
        sidecar_row(c, "test-host", 700.0, ago(40)).await,
        sidecar_row(
            c,
            "test-host",
            710.0,
            ago(40) + chrono::Duration::minutes(1),
        )
        .await,
    ];
    let own_100 = sidecar_row(c, "test-host", 720.0, ago(100)).await;
    let own_10 = sidecar_row(c, "test-host", 730.0, ago(10)).await;
    let others_40 = vec![
        sidecar_row(c, "media2", 740.0, ago(40)).await,
        cinevault_tick(c, 5.0, ago(40)).await,
    ];
    let cv_fresh = cinevault_tick(c, 5.0, now - chrono::Duration::seconds(60)).await;
    (own_40, own_100, own_10, others_40, cv_fresh)
}

async fn own_rows(c: &Client) -> i64 {
    c.query_one(
        "SELECT count(*) FROM system_metrics WHERE host = 'test-host'",
        &[],
    )
    .await
    .expect("count")
    .get(0)
}

/// One run of the sidecar's collector (the purge is store::purge, private to it): its row,
/// then its purge; the next run would be an hour later.
async fn collect_and_purge(state: &AppState) {
    let runs = state.metrics.collector_runs.get();
    let cancel = CancellationToken::new();
    let worker = tokio::spawn(cinevault_analytics::collector::run(
        state.clone(),
        cancel.clone(),
    ));
    eventually("the sidecar's collector ran", || async {
        state.metrics.collector_runs.get() > runs
    })
    .await;
    // The run under way finishes (its row, then its purge) before the worker stops.
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(10), worker)
        .await
        .expect("the collector stops")
        .expect("collector task")
        .expect("collector result");
}

async fn ids_in(c: &Client, table: &str) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = c
        .query(&format!("SELECT id FROM {table}"), &[])
        .await
        .expect("ids")
        .iter()
        .map(|r| r.get(0))
        .collect();
    ids.sort();
    ids
}

async fn rows_as_json(c: &Client, table: &str, ids: &[Uuid]) -> Vec<Value> {
    c.query(
        &format!("SELECT to_jsonb(t) FROM {table} t WHERE id = ANY($1) ORDER BY id"),
        &[&ids],
    )
    .await
    .expect("rows")
    .iter()
    .map(|r| r.get(0))
    .collect()
}

#[tokio::test]
async fn with_a_retention_past_30_days_this_hosts_rows_outlive_cinevaults_purge_in_the_archive() {
    let db = TestDb::cinevault().await;
    let c = db.client().await;
    let (own_40, own_100, own_10, others_40, cv_fresh) = old_rows(&c).await;
    let before = rows_as_json(&c, "system_metrics", &own_40).await;
    assert_eq!(before.len(), 2);

    // The sidecar's purge (the collector's public path: store::purge is private to it).
    let state = sidecar_state(&db, &cv_args(&["--metrics-retention", "90d"]));
    collect_and_purge(&state).await;
    // Its 40-day-old rows are in the archive, every column as they were; past the 90 days,
    // gone from both tables; other hosts' rows are not its to keep or to delete.
    assert_eq!(
        rows_as_json(&c, "system_metrics_archive", &own_40).await,
        before
    );
    let mut own_sorted = own_40.clone();
    own_sorted.sort();
    assert_eq!(ids_in(&c, "system_metrics_archive").await, own_sorted);
    let left = ids_in(&c, "system_metrics").await;
    for id in [own_10, cv_fresh].iter().chain(&others_40) {
        assert!(left.contains(id), "{id} was purged");
    }
    for id in own_40.iter().chain([&own_100]) {
        assert!(!left.contains(id), "{id} is still in system_metrics");
    }
    let collected = count(
        &c,
        "SELECT count(*) FROM system_metrics WHERE host = 'test-host' AND NOT id = ANY($1)",
        &[own_10],
    )
    .await;
    assert_eq!(collected, 1, "the collector's own fresh row");

    // CineVault's purge: its own and the other host's old rows go, as before; the archive
    // keeps this host's.
    let deleted = c
        .execute(
            CLEANUP_OLD_METRICS,
            &[&(Utc::now() - chrono::Duration::days(30))],
        )
        .await
        .expect("CineVault's CleanupOldMetrics");
    assert_eq!(deleted, 2);
    let left = ids_in(&c, "system_metrics").await;
    assert!(others_40.iter().all(|id| !left.contains(id)));
    assert!(left.contains(&own_10) && left.contains(&cv_fresh));
    assert_eq!(
        rows_as_json(&c, "system_metrics_archive", &own_40).await,
        before
    );

    // Another purge keeps them (not past the retention).
    collect_and_purge(&state).await;
    assert_eq!(ids_in(&c, "system_metrics_archive").await, own_sorted);
}

#[tokio::test]
async fn with_the_default_retention_nothing_is_archived() {
    let db = TestDb::cinevault().await;
    let c = db.client().await;
    let (own_40, own_100, own_10, _, cv_fresh) = old_rows(&c).await;
    // Older than 29 days, younger than 30: CineVault's purge does not want it yet.
    let own_29_5 = sidecar_row(
        &c,
        "test-host",
        750.0,
        Utc::now() - chrono::Duration::hours(29 * 24 + 12),
    )
    .await;
    let state = sidecar_state(&db, &cv_args(&[]));
    collect_and_purge(&state).await;
    assert_eq!(
        ids_in(&c, "system_metrics_archive").await,
        Vec::<Uuid>::new()
    );
    let left = ids_in(&c, "system_metrics").await;
    for id in own_40.iter().chain([&own_100]) {
        assert!(!left.contains(id), "{id} is past the 30 days");
    }
    for id in [own_29_5, own_10, cv_fresh] {
        assert!(left.contains(&id), "{id} was purged");
    }
    let deleted = c
        .execute(
            CLEANUP_OLD_METRICS,
            &[&(Utc::now() - chrono::Duration::days(30))],
        )
        .await
        .expect("CineVault's CleanupOldMetrics");
    assert_eq!(
        deleted, 0,
        "the sidecar's purge already took every row past 30 days"
    );
    assert!(ids_in(&c, "system_metrics").await.contains(&own_29_5));
}

/// A day's eleven figures in `table`, as bigints.
async fn figures(c: &Client, table: &str, day: NaiveDate) -> Option<Vec<i64>> {
    c.query_opt(
        &format!(
            "SELECT total_plays::int8, unique_users::int8, total_watch_minutes::int8,
                    total_bytes_served, transcodes::int8, direct_plays::int8,
                    direct_streams::int8, transcode_failures::int8, new_media_added::int8,
                    library_size_total::int8, storage_used_bytes
             FROM {table} WHERE stat_date = $1"
        ),
        &[&day],
    )
    .await
    .expect("figures")
    .map(|r| (0..11).map(|i| r.get::<_, i64>(i)).collect())
}

/// CineVault's rollup for `day`: its UpsertDailyStat (every request row a play).
async fn cinevault_rollup(c: &Client, day: NaiveDate, plays: i32) -> Vec<i64> {
    let n = c
        .execute(
            UPSERT_DAILY_STAT,
            &[
                &Uuid::new_v4(),
                &day,
                &plays,
                &2_i32,
                &80_i32,
                &0_i64,
                &0_i32,
                &(plays - 1),
                &1_i32,
                &0_i32,
                &0_i32,
                &1_i32,
                &4_000_000_000_i64,
            ],
        )
        .await
        .expect("CineVault's UpsertDailyStat");
    assert_eq!(n, 1);
    vec![
        i64::from(plays),
        2,
        80,
        0,
        0,
        i64::from(plays - 1),
        1,
        0,
        0,
        1,
        4_000_000_000,
    ]
}

#[tokio::test]
async fn days_cinevaults_rollup_overwrites_are_written_back_with_the_sidecars_figures() {
    let db = TestDb::cinevault().await;
    let c = db.client().await;
    let pool = pool(&db);
    let today = Utc::now().with_timezone(&BERLIN).date_naive();
    let day = today - Days::new(5);
    let not_ours = today - Days::new(15);

    // One day of CineVault's request rows: Ann's play (a request, then a seek) and Ben's.
    let ann = user(&c, "ann", "user").await;
    let ben = user(&c, "ben", "user").await;
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
    c.execute(
        "UPDATE media_items SET added_at = added_at - interval '60 days' WHERE id = $1",
        &[&film],
    )
    .await
    .expect("an item of the library that day");
    let noon = day_start(BERLIN, day) + chrono::Duration::hours(12);
    request(&c, ann, film, "direct_play", noon, 3000).await;
    request(
        &c,
        ann,
        film,
        "direct_play",
        noon + chrono::Duration::seconds(3005),
        600,
    )
    .await;
    request(
        &c,
        ben,
        film,
        "direct_stream",
        noon + chrono::Duration::seconds(60),
        1200,
    )
    .await;
    pass(&pool, true).await;
    assert_eq!(
        rollup_range(&pool, BERLIN, day, day, |_, _, _| {})
            .await
            .expect("rollup"),
        1
    );
    let ours = load_day(&c, day).await.expect("load").expect("computed");
    assert_eq!(
        (
            ours.total_plays,
            ours.unique_users,
            ours.total_watch_minutes,
            ours.direct_plays,
            ours.direct_streams,
            ours.library_size_total
        ),
        (2, 2, 80, 1, 1, 1),
        "{ours:?}"
    );
    let sidecar_figures = figures(&c, "sidecar_daily_stats", day).await;
    assert!(sidecar_figures.is_some());
    assert_eq!(figures(&c, "daily_stats", day).await, sidecar_figures);

    let app = TestApp::spawn(test_config(&db.url, &cv_args(&[]))).await;
    let workers = first_look(&app).await;
    assert_eq!(workers["days_restored"], json!([]), "{workers}");

    // CineVault's rollup overwrites the day, and writes one the sidecar never computed.
    let cinevault_figures = cinevault_rollup(&c, day, 3).await;
    let cinevault_only = cinevault_rollup(&c, not_ours, 4).await;
    assert_eq!(
        figures(&c, "daily_stats", day).await,
        Some(cinevault_figures)
    );
    // The trends endpoint answers the sidecar's figures before any write-back (the server
    // looks again only in a minute).
    let trends = get_json(
        &app,
        &format!("/api/v1/analytics/trends?from={not_ours}&to={day}"),
    )
    .await;
    assert_eq!(
        trends["days"],
        json!([serde_json::to_value(&ours).expect("json")]),
        "{trends}"
    );
    assert_eq!(
        figures(&c, "daily_stats", day).await.map(|f| f[0]),
        Some(3),
        "not written back yet"
    );

    let state = sidecar_state(&db, &cv_args(&[]));
    let seen = look_once(&state).await.expect("look");
    assert_eq!(seen.days_restored, vec![day]);
    assert!(seen.rollup.detected && seen.rollup.running, "{seen:?}");
    assert_eq!(seen.daily_stats_rows_not_ours, 1);
    assert_eq!(figures(&c, "daily_stats", day).await, sidecar_figures);
    assert_eq!(
        figures(&c, "daily_stats", not_ours).await,
        Some(cinevault_only),
        "a day the sidecar never computed is left alone"
    );
    assert_eq!(figures(&c, "sidecar_daily_stats", not_ours).await, None);
    assert_eq!(state.metrics.daily_stats_restored.get(), 1);
    assert_eq!(
        state_metric(&state, "cinevault_analytics_daily_stats_restored_total"),
        1.0
    );
    assert_eq!(state_metric(&state, &detected_series("rollup")), 1.0);

    // The next look has nothing to write back, and still reports what it did.
    let again = look_once(&state).await.expect("look");
    assert_eq!(again.days_restored, vec![day]);
    assert!(again.rollup.detected);
    assert_eq!(state.metrics.daily_stats_restored.get(), 1);
    let trends = get_json(
        &app,
        &format!("/api/v1/analytics/trends?from={not_ours}&to={day}"),
    )
    .await;
    assert_eq!(
        trends["days"],
        json!([serde_json::to_value(&ours).expect("json")])
    );
    app.stop().await;
}

#[tokio::test]
async fn cinevaults_evaluator_is_detected_and_the_log_tells_who_sent_what() {
    let db = TestDb::cinevault().await;
    let c = db.client().await;
    let args = cv_args(&["--webhook-allow-loopback"]);
    let app = TestApp::spawn(test_config(&db.url, &args)).await;
    let rx = Receiver::start().await;
    let ch = channel(&app, "generic", &rx.url("/alerts")).await;
    let errors_rule = rule(
        &app,
        json!({"name": "Playback errors", "condition_type": "stream_error", "threshold": 0,
               "channel_id": ch}),
    )
    .await;
    let other_rule = rule(
        &app,
        json!({"name": "Transcodes failing", "condition_type": "transcode_failure",
               "threshold": 0, "channel_id": ch}),
    )
    .await;
    let state = sidecar_state(&db, &args);
    let quiet = sidecar_state(
        &db,
        &cv_args(&["--webhook-allow-loopback", "--evaluate-alerts", "false"]),
    );
    let seen = look_once(&state).await.expect("look");
    assert!(
        !seen.alert_evaluator.detected && !seen.duplicate_alerts,
        "{seen:?}"
    );

    // Either sign is enough: first a rule whose last_triggered_at CineVault moved.
    let n = c
        .execute(UPDATE_LAST_TRIGGERED, &[&other_rule])
        .await
        .expect("CineVault's UpdateLastTriggered");
    assert_eq!(n, 1);
    let moved = last_triggered(&c, other_rule).await.expect("moved");
    let seen = look_once(&state).await.expect("look");
    assert_eq!(
        (
            seen.alert_evaluator.detected,
            seen.alert_evaluator.running,
            seen.alert_evaluator.last_seen
        ),
        (true, true, Some(moved))
    );
    assert!(seen.duplicate_alerts);

    // Then it fires the other rule: its LogAlert (sent_by left to its default), and
    // UpdateLastTriggered.
    let logged = Uuid::new_v4();
    c.execute(
        LOG_ALERT,
        &[
            &logged,
            &Some(errors_rule),
            &Some(ch),
            &"High stream error rate: 1 errors in the last hour (threshold: 0)",
            &true,
            &None::<&str>,
        ],
    )
    .await
    .expect("CineVault's LogAlert");
    c.execute(UPDATE_LAST_TRIGGERED, &[&errors_rule])
        .await
        .expect("CineVault's UpdateLastTriggered");
    let row = c
        .query_one(
            "SELECT sent_by::text, sent_at FROM alert_log WHERE id = $1",
            &[&logged],
        )
        .await
        .expect("CineVault's row");
    assert_eq!(row.get::<_, String>(0), "cinevault");
    let sent_at: DateTime<Utc> = row.get(1);
    let triggered = last_triggered(&c, errors_rule).await.expect("moved");
    let latest = sent_at.max(triggered).max(moved);
    let seen = look_once(&state).await.expect("look");
    assert!(seen.alert_evaluator.detected && seen.alert_evaluator.running);
    assert_eq!(seen.alert_evaluator.last_seen, Some(latest));
    assert!(seen.duplicate_alerts);
    assert!(seen.alert_evaluator.note.contains("twice"), "{seen:?}");
    assert_eq!(
        state_metric(&state, &detected_series("alert_evaluator")),
        1.0
    );
    let gauge = state_metric(&state, &last_seen_series("alert_evaluator"));
    assert!(same_second(gauge, latest), "{gauge} for {latest}");

    // Leaving the alerts to CineVault: it is seen, and nothing is sent twice.
    let seen = look_once(&quiet).await.expect("look");
    assert!(seen.alert_evaluator.detected);
    assert!(!seen.duplicate_alerts);
    assert!(
        seen.alert_evaluator
            .note
            .contains("--evaluate-alerts false"),
        "{seen:?}"
    );

    // A message the sidecar sends: the channel's test.
    let out = ok_json(api(&app, Method::POST, &format!("/channels/{ch}/test"), None).await).await;
    assert_eq!(out["delivered"], true, "{out}");
    rx.wait_for(1, Duration::from_secs(5), |_| true).await;
    let log = ok_json(api(&app, Method::GET, "/log", None).await).await;
    let entries = log.as_array().expect("entries");
    assert_eq!(entries.len(), 2, "{log}");
    let theirs = entries
        .iter()
        .find(|e| e["id"] == logged.to_string())
        .expect("CineVault's entry");
    assert_eq!(theirs["sent_by"], "cinevault", "{theirs}");
    assert_eq!(theirs["kind"], "alert");
    assert_eq!(theirs["rule_name"], "Playback errors");
    let ours = entries
        .iter()
        .find(|e| e["id"] != logged.to_string())
        .expect("the sidecar's entry");
    assert_eq!(ours["sent_by"], "sidecar", "{ours}");
    assert_eq!(ours["kind"], "test");
    assert_eq!(ours["channel_id"], ch.to_string());
    app.stop().await;
}

#[tokio::test]
async fn with_evaluate_alerts_false_the_sidecar_sends_nothing_for_a_firing_rule() {
    let db = TestDb::cinevault().await;
    let c = db.client().await;
    let on = cv_args(&["--webhook-allow-loopback", "--alert-interval", "1s"]);
    let mut off = on.clone();
    off.extend_from_slice(&["--evaluate-alerts", "false"]);
    let app = TestApp::spawn(test_config(&db.url, &off)).await;
    let status = get_json(&app, "/api/v1/status").await;
    assert_eq!(status["settings"]["evaluate_alerts"], false, "{status}");
    let rx = Receiver::start().await;
    let ch = channel(&app, "generic", &rx.url("/errors")).await;
    let errors_rule = rule(
        &app,
        json!({"name": "Playback errors", "condition_type": "stream_error", "threshold": 0,
               "channel_id": ch}),
    )
    .await;
    stream_errors(&c, 1, 0).await;

    // Several evaluation intervals: nothing arrives, nothing is logged or moved.
    let until = Instant::now() + Duration::from_secs(4);
    while Instant::now() < until {
        assert!(
            rx.hits().is_empty(),
            "{:?}",
            rx.hits().iter().map(|h| h.text()).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(log_of(&c, errors_rule).await.is_empty());
    assert_eq!(last_triggered(&c, errors_rule).await, None);
    assert_eq!(evaluations(&app, "evaluated").await, 0.0);
    app.stop().await;

    // With the sidecar's evaluator on, the same rule fires at once: it was firing.
    let app = TestApp::spawn(test_config(&db.url, &on)).await;
    rx.wait_for(1, Duration::from_secs(20), |_| true).await;
    let log = wait_for_log(&c, errors_rule, 1).await;
    assert_eq!((log[0].0, log[0].3.as_str()), (true, "alert"));
    let sent_by: Vec<String> = c
        .query(
            "SELECT sent_by::text FROM alert_log WHERE rule_id = $1",
            &[&errors_rule],
        )
        .await
        .expect("log")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(sent_by, ["sidecar"]);
    app.stop().await;

    // The sidecar's own alert is not taken for CineVault's evaluator, not even once the
    // rule's condition changed (which forgets the rule's evaluator state).
    let state = sidecar_state(&db, &on);
    let seen = look_once(&state).await.expect("look");
    assert!(!seen.alert_evaluator.detected, "{seen:?}");
    assert!(!seen.duplicate_alerts);
    let app = TestApp::spawn(test_config(&db.url, &off)).await;
    ok_json(
        api(
            &app,
            Method::PUT,
            &format!("/alerts/{errors_rule}"),
            Some(json!({"condition_type": "transcode_failure"})),
        )
        .await,
    )
    .await;
    app.stop().await;
    assert!(last_triggered(&c, errors_rule).await.is_some());
    let seen = look_once(&state).await.expect("look");
    assert!(!seen.alert_evaluator.detected, "{seen:?}");
    assert!(!seen.duplicate_alerts);
}

#[tokio::test]
async fn status_reports_cinevaults_workers_on_its_database_only() {
    let db = TestDb::cinevault().await;
    let app = TestApp::spawn(test_config(&db.url, &cv_args(&[]))).await;
    let workers = first_look(&app).await;
    let status = get_json(&app, "/api/v1/status").await;
    assert_eq!(status["database"]["mode"], "cinevault", "{status}");
    let obj = workers.as_object().expect("an object");
    for key in [
        "checked_at",
        "collector",
        "rollup",
        "alert_evaluator",
        "days_restored",
        "daily_stats_rows_not_ours",
        "duplicate_alerts",
    ] {
        assert!(obj.contains_key(key), "{key} in {workers}");
    }
    for worker in ["collector", "rollup", "alert_evaluator"] {
        let w = &workers[worker];
        assert_eq!(
            (&w["detected"], &w["running"], &w["last_seen"]),
            (&json!(false), &json!(false), &Value::Null),
            "{worker}: {workers}"
        );
        assert!(w["note"].as_str().is_some_and(|n| !n.is_empty()));
    }
    assert_eq!(workers["days_restored"], json!([]));
    assert_eq!(workers["daily_stats_rows_not_ours"], 0);
    assert_eq!(workers["duplicate_alerts"], false);
    app.stop().await;

    let db = TestDb::migrated().await;
    let app = TestApp::spawn(test_config(&db.url, &[])).await;
    let status = get_json(&app, "/api/v1/status").await;
    assert_eq!(status["database"]["mode"], "standalone", "{status}");
    assert_eq!(status["cinevault_workers"], Value::Null, "{status}");
    let text = app.metrics_text().await;
    assert!(
        !text.contains("cinevault_analytics_cinevault_worker_detected{"),
        "no worker series on a standalone database"
    );
    app.stop().await;
}
