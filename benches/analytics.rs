//! Analytics API latency on a large server (issue 5): the real sidecar, started in this
//! process against the data set of `scripts/gen-dataset` (10 million sessions over three
//! years, 1 million transcodes, 100,000 items, 2,000 users, 30 days of metrics), answers each
//! endpoint in turn; one client, sequential requests, keep-alive, so the figures are the
//! server's latency, database included. Median and p95 per request, against the goals.
//!
//! Run with `scripts/bench-analytics` (it creates the data set on first use and sets the URL).
//! `CINEVAULT_BENCH_SAMPLES` sets the samples per request (default 40; fewer for a request
//! that takes over 15 s in all); `CINEVAULT_BENCH_ONLY=text` measures only the requests whose
//! label contains that text.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{Days, Utc};
use cinevault_analytics::config::{Cli, Command};
use cinevault_analytics::db;
use clap::Parser;

const ADMIN_TOKEN: &str = "bench-analytics-admin-token";
const WARM_UP: usize = 3;
const SAMPLES: usize = 40;
const MIN_SAMPLES: usize = 10;
const BUDGET_PER_REQUEST: Duration = Duration::from_secs(15);

/// p95 goals from issue 5: 20 ms for the dashboard's hot paths, 100 ms for everything.
const FAST_MS: f64 = 20.0;
const SLOW_MS: f64 = 100.0;

struct Request {
    label: String,
    path: String,
    goal_ms: f64,
}

fn request(label: &str, path: String, goal_ms: f64) -> Request {
    Request {
        label: label.to_owned(),
        path,
        goal_ms,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("CINEVAULT_BENCH_DATABASE_URL")
        .context("set CINEVAULT_BENCH_DATABASE_URL (scripts/bench-analytics does)")?;
    let samples = std::env::var("CINEVAULT_BENCH_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SAMPLES)
        .max(1);
    let cli = Cli::try_parse_from([
        "cinevault-analytics",
        "serve",
        "--database-url",
        &url,
        "--database-mode",
        "standalone",
        "--admin-token",
        ADMIN_TOKEN,
        "--listen",
        "127.0.0.1:0",
        "--log-level",
        "warn",
        "--collect-interval",
        "1h",
        "--timezone",
        "UTC",
    ])?;
    let Command::Serve(config) = cli.command else {
        anyhow::bail!("serve config")
    };
    cinevault_analytics::logging::init(config.log_format, &config.log_level)?;
    let client = db::connect_one(&url, Duration::from_secs(10)).await?;
    let counts = client
        .query_one(
            "SELECT (SELECT count(*) FROM stream_sessions), (SELECT count(*) FROM transcode_history),
                    (SELECT count(*) FROM media_items), (SELECT count(*) FROM users),
                    (SELECT count(*) FROM system_metrics)",
            &[],
        )
        .await
        .context("counting the data set")?;
    let counts: Vec<i64> = (0..5).map(|i| counts.get(i)).collect();
    // A user with a typical history, for the filtered activity page.
    let user: uuid::Uuid = client
        .query_one(
            "SELECT user_id FROM stream_sessions
             WHERE started_at > now() - interval '1 day' LIMIT 1",
            &[],
        )
        .await
        .context("picking a user")?
        .get(0);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(cinevault_analytics::run(config, listener, shutdown.clone()));
    let http = reqwest::Client::new();
    wait_for(&http, &base, "/readyz", |_| true).await?;
    // The start-up rollup catch-up reads the same tables: let it finish first.
    wait_for(&http, &base, "/metrics", rollup_done).await?;

    let today = Utc::now().date_naive();
    let month_ago = today.checked_sub_days(Days::new(30)).unwrap_or(today);
    let year_ago = today.checked_sub_days(Days::new(365)).unwrap_or(today);
    let a = "/api/v1/analytics";
    let first_page: serde_json::Value = get(&http, &base, &format!("{a}/watch-activity")).await?.1;
    let cursor = first_page["next_cursor"].as_str().unwrap_or("").to_owned();
    let requests = vec![
        request("overview", format!("{a}/overview"), FAST_MS),
        request("streams", format!("{a}/streams"), FAST_MS),
        request(
            "streams/breakdown (30 days)",
            format!("{a}/streams/breakdown"),
            SLOW_MS,
        ),
        request(
            "watch-activity (first page, 100)",
            format!("{a}/watch-activity"),
            SLOW_MS,
        ),
        request(
            "watch-activity (next page, cursor)",
            format!("{a}/watch-activity?cursor={cursor}"),
            SLOW_MS,
        ),
        request(
            "watch-activity (filtered: user, 30 days, 50)",
            format!("{a}/watch-activity?user_id={user}&from={month_ago}&to={today}&limit=50"),
            FAST_MS,
        ),
        request(
            "watch-activity (media_type=episode)",
            format!("{a}/watch-activity?media_type=episode"),
            SLOW_MS,
        ),
        request("users/activity", format!("{a}/users/activity"), SLOW_MS),
        request("transcodes (30 days)", format!("{a}/transcodes"), SLOW_MS),
        request("system", format!("{a}/system"), FAST_MS),
        request(
            "system/history (24 h)",
            format!("{a}/system/history"),
            SLOW_MS,
        ),
        request(
            "system/history (168 h)",
            format!("{a}/system/history?hours=168"),
            SLOW_MS,
        ),
        request("storage", format!("{a}/storage"), SLOW_MS),
        request("library-health", format!("{a}/library-health"), SLOW_MS),
        request("trends (30 days)", format!("{a}/trends"), FAST_MS),
        request(
            "trends (a year)",
            format!("{a}/trends?from={year_ago}&to={today}"),
            FAST_MS,
        ),
    ];

    let only = std::env::var("CINEVAULT_BENCH_ONLY").unwrap_or_default();
    let mut rows = String::new();
    let mut missed = Vec::new();
    for r in requests.iter().filter(|r| r.label.contains(&only)) {
        for _ in 0..WARM_UP {
            get(&http, &base, &r.path).await?;
        }
        let mut times = Vec::with_capacity(samples);
        let started = Instant::now();
        while times.len() < samples
            && (times.len() < MIN_SAMPLES || started.elapsed() < BUDGET_PER_REQUEST)
        {
            times.push(get(&http, &base, &r.path).await?.0);
        }
        times.sort_by(f64::total_cmp);
        let (median, p95, max) = (
            percentile(&times, 50.0),
            percentile(&times, 95.0),
            times.last().copied().unwrap_or(0.0),
        );
        let met = p95 < r.goal_ms;
        if !met {
            missed.push(r.label.clone());
        }
        let line = format!(
            "| {} | {median:.1} | {p95:.1} | {max:.1} | {} | < {:.0} | {} |\n",
            r.label,
            times.len(),
            r.goal_ms,
            if met { "yes" } else { "**no**" }
        );
        eprint!("{line}");
        rows.push_str(&line);
    }
    shutdown.cancel();
    let _ = server.await;

    let report = format!(
        "# Analytics API latency\n\n\
         Produced by `scripts/bench-analytics` on {} ({} CPUs; client, sidecar and PostgreSQL\n\
         share the machine). Data set (`scripts/gen-dataset`): {} stream sessions, {} transcodes,\n\
         {} media items, {} users, {} system_metrics rows. One client, sequential requests over\n\
         keep-alive, {WARM_UP} warm-up requests each; times in ms, measured at the client.\n\n\
         | request | median | p95 | max | samples | p95 goal | met |\n|---|---|---|---|---|---|---|\n\
         {rows}\n{}\n",
        Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        counts[4],
        if missed.is_empty() {
            "Every request met its goal.".to_owned()
        } else {
            format!("Missed: {}.", missed.join(", "))
        }
    );
    println!("{report}");
    if only.is_empty() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/analytics-results.md");
        std::fs::write(path, report)?;
        eprintln!("written to {path}");
    }
    Ok(())
}

/// One request: its latency in ms and its JSON answer (a non-200 answer is an error).
async fn get(
    http: &reqwest::Client,
    base: &str,
    path: &str,
) -> anyhow::Result<(f64, serde_json::Value)> {
    let start = Instant::now();
    let resp = http
        .get(format!("{base}{path}"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .with_context(|| format!("GET {path}"))?;
    let status = resp.status();
    let body = resp.bytes().await?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(
        status == 200,
        "GET {path}: {status} {}",
        String::from_utf8_lossy(&body)
    );
    Ok((ms, serde_json::from_slice(&body)?))
}

/// Polls `path` until it answers 200 and `done` holds for its body (at most 10 minutes:
/// the first start on a fresh data set builds indexes).
async fn wait_for(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    done: fn(&str) -> bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if let Ok(r) = http.get(format!("{base}{path}")).send().await {
            if r.status() == 200 && done(&r.text().await.unwrap_or_default()) {
                return Ok(());
            }
        }
        anyhow::ensure!(Instant::now() < deadline, "{path} not ready in time");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn rollup_done(metrics: &str) -> bool {
    metrics.lines().any(|l| {
        l.starts_with("cinevault_analytics_rollup_last_success_timestamp")
            && l.rsplit(' ')
                .next()
                .and_then(|v| v.parse::<f64>().ok())
                .is_some_and(|v| v > 0.0)
    })
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
