//! Ingest throughput: acknowledged events per second through the sidecar, beside two
//! baselines measured in the same run on the same database:
//! - one INSERT per event (what in-process instrumentation does), same concurrency;
//! - COPY of the same rows (the practical ceiling).
//!
//! Run with `scripts/bench-ingest` (it starts PostgreSQL and sets the URL). Each figure is
//! the median of several rounds; ratios are what to compare (the machine is shared).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use cinevault_analytics::config::{Cli, Command};
use cinevault_analytics::db;
use clap::Parser;
use futures_util::future::join_all;
use serde_json::json;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use uuid::Uuid;

const INGEST_TOKEN: &str = "bench-ingest-token-1";
const SINGLE_EVENTS: usize = 20_000;
const SINGLE_CLIENTS: usize = 64;
const BATCH_EVENTS: usize = 200_000;
const BATCH_SIZE: usize = 1_000;
const BATCH_CLIENTS: usize = 4;
const ROUNDS: usize = 3;

fn rounds() -> usize {
    std::env::var("CINEVAULT_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ROUNDS)
}

struct Catalogue {
    users: Vec<Uuid>,
    items: Vec<Uuid>,
}

impl Catalogue {
    fn pick(&self, i: usize) -> (Uuid, Uuid) {
        (
            self.users[i % self.users.len()],
            self.items[(i * 7) % self.items.len()],
        )
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let admin_url = std::env::var("CINEVAULT_BENCH_DATABASE_URL")
        .context("set CINEVAULT_BENCH_DATABASE_URL (scripts/bench-ingest does)")?;
    let name = format!("cvbench_{}", std::process::id());
    let admin = db::connect_one(&admin_url, Duration::from_secs(10)).await?;
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await?;
    let url = match admin_url.rsplit_once('/') {
        Some((prefix, _)) => format!("{prefix}/{name}"),
        None => anyhow::bail!("database URL needs a database name"),
    };
    let result = bench(&url).await;
    drop(admin);
    let admin = db::connect_one(&admin_url, Duration::from_secs(10)).await?;
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await?;
    result
}

async fn bench(url: &str) -> anyhow::Result<()> {
    let mut client = db::connect_one(url, Duration::from_secs(10)).await?;
    let options = db::schema::Options {
        mode: cinevault_analytics::config::DatabaseMode::Standalone,
        db_time_zone: chrono_tz::Tz::UTC,
    };
    match db::schema::prepare(&mut client, options).await? {
        db::schema::Outcome::Ready(_) => {}
        db::schema::Outcome::NotReady(why) => anyhow::bail!("schema not ready: {why}"),
    }
    let cat = seed(&client).await?;

    let cli = Cli::try_parse_from([
        "cinevault-analytics",
        "serve",
        "--database-url",
        url,
        "--ingest-token",
        INGEST_TOKEN,
        "--listen",
        "127.0.0.1:0",
        "--database-mode",
        "standalone",
        "--log-level",
        "warn",
        "--collect-interval",
        "1h",
    ])?;
    let Command::Serve(config) = cli.command else {
        anyhow::bail!("serve config")
    };
    cinevault_analytics::logging::init(config.log_format, &config.log_level)?;
    let pool = db::connect_pool(
        url,
        usize::from(config.db_pool_size),
        Duration::from_secs(10),
        chrono_tz::Tz::UTC,
    )?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(cinevault_analytics::run(config, listener, shutdown.clone()));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(SINGLE_CLIENTS)
        .build()?;
    wait_ready(&http, &base).await?;
    let cat = Arc::new(cat);

    // Warm-up: plans, caches and connections, not measured.
    insert_per_event(&pool, &cat, 2_000).await?;
    http_single(&http, &base, &cat, 2_000).await?;
    http_batched(&http, &base, &cat, 20_000).await?;
    copy_rows(url, &cat, 20_000, 1).await?;

    let rounds = rounds();
    if std::env::var("CINEVAULT_BENCH_ONLY").as_deref() == Ok("single") {
        // Quick loop for tuning: single events only, with the writers' group sizes.
        for _ in 0..rounds {
            let rate = http_single(&http, &base, &cat, SINGLE_EVENTS).await?;
            let m = http
                .get(format!("{base}/metrics"))
                .send()
                .await?
                .text()
                .await?;
            println!(
                "single: {rate:.0} events/s; mean group {:.1} events",
                mean_group(&m)
            );
        }
        shutdown.cancel();
        let _ = server.await;
        return Ok(());
    }
    let mut figures: [Vec<f64>; 6] = Default::default();
    for round in 1..=rounds {
        figures[0].push(insert_per_event(&pool, &cat, SINGLE_EVENTS).await?);
        figures[1].push(http_single(&http, &base, &cat, SINGLE_EVENTS).await?);
        figures[2].push(http_batched(&http, &base, &cat, BATCH_EVENTS).await?);
        figures[3].push(copy_rows(url, &cat, BATCH_EVENTS, 1).await?);
        figures[4].push(copy_rows(url, &cat, BATCH_EVENTS, BATCH_CLIENTS).await?);
        figures[5].push(http_healthz(&http, &base, SINGLE_EVENTS).await?);
        eprintln!("round {round}/{rounds} done");
    }
    let [insert, single, batched, copy1, copy4, healthz] = figures.map(median);
    let copy = copy1.max(copy4);
    let report = format!(
        "| measurement | events/s (median of {rounds}) |\n|---|---|\n\
         | one INSERT per event, {SINGLE_CLIENTS} concurrent clients (baseline) | {insert:.0} |\n\
         | sidecar, single events over HTTP, {SINGLE_CLIENTS} concurrent clients | {single:.0} |\n\
         | sidecar, batches of {BATCH_SIZE} over HTTP, {BATCH_CLIENTS} concurrent clients | {batched:.0} |\n\
         | COPY, 1 stream (ceiling) | {copy1:.0} |\n\
         | COPY, {BATCH_CLIENTS} streams (ceiling) | {copy4:.0} |\n\
         | reference: `GET /healthz` round trips, {SINGLE_CLIENTS} concurrent clients (no database) | {healthz:.0} |\n\n\
         single events vs one INSERT per event: {:.2}x (goal: 4x or more)\n\n\
         batched vs the better COPY: {:.0}% (goal: 70% or more)\n",
        single / insert,
        batched / copy * 100.0,
    );
    println!("{report}");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/ingest-results.md");
    let header = format!(
        "# Ingest benchmark\n\nProduced by `scripts/bench-ingest` on {} ({} CPUs), {}.\n\
         Client, sidecar and PostgreSQL share the machine. Every event is a session start\n\
         acknowledged only after its commit.\n\n",
        Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .unwrap_or_default()
            .trim(),
    );
    std::fs::write(path, format!("{header}{report}"))?;
    eprintln!("written to {path}");
    shutdown.cancel();
    let _ = server.await;
    Ok(())
}

/// Mean events per group-commit transaction since start, from /metrics.
fn mean_group(metrics: &str) -> f64 {
    let value = |name: &str| {
        metrics
            .lines()
            .find_map(|l| {
                l.strip_prefix(name)
                    .and_then(|v| v.trim().parse::<f64>().ok())
            })
            .unwrap_or(0.0)
    };
    value("cinevault_analytics_ingest_batch_events_sum ")
        / value("cinevault_analytics_ingest_batch_events_count ").max(1.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

async fn seed(client: &tokio_postgres::Client) -> anyhow::Result<Catalogue> {
    let users: Vec<Uuid> = (0..50).map(|_| Uuid::new_v4()).collect();
    let items: Vec<Uuid> = (0..200).map(|_| Uuid::new_v4()).collect();
    client
        .execute(
            "INSERT INTO users (id, username) SELECT id, 'bench-' || id FROM UNNEST($1::uuid[]) id",
            &[&users],
        )
        .await?;
    client
        .execute(
            "INSERT INTO media_items (id, title, media_type)
             SELECT id, 'Title ' || id, 'movies' FROM UNNEST($1::uuid[]) id",
            &[&items],
        )
        .await?;
    Ok(Catalogue { users, items })
}

async fn wait_ready(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..300 {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the sidecar never became ready")
}

/// Runs `clients` workers that take event numbers until `total` are done; returns events/s.
async fn drive<F, Fut>(total: usize, per_call: usize, clients: usize, f: F) -> anyhow::Result<f64>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks = (0..clients).map(|_| {
        let (next, f) = (next.clone(), f.clone());
        tokio::spawn(async move {
            loop {
                let i = next.fetch_add(per_call, Ordering::Relaxed);
                if i >= total {
                    return anyhow::Ok(());
                }
                f(i).await?;
            }
        })
    });
    for r in join_all(tasks).await {
        r??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

async fn insert_per_event(
    pool: &deadpool_postgres::Pool,
    cat: &Arc<Catalogue>,
    total: usize,
) -> anyhow::Result<f64> {
    let (pool, cat) = (pool.clone(), cat.clone());
    drive(total, 1, SINGLE_CLIENTS, move |i| {
        let (pool, cat) = (pool.clone(), cat.clone());
        async move {
            let client = pool.get().await?;
            let stmt = client
                .prepare_cached(
                    "INSERT INTO stream_sessions (id, user_id, media_item_id, playback_type, started_at, last_reported_at)
                     VALUES ($1, $2, $3, 'direct_play', now(), now())",
                )
                .await?;
            let (u, m) = cat.pick(i);
            client.execute(&stmt, &[&Uuid::new_v4(), &u, &m]).await?;
            Ok(())
        }
    })
    .await
}

fn start_event(cat: &Catalogue, i: usize) -> serde_json::Value {
    let (u, m) = cat.pick(i);
    json!({"id": Uuid::new_v4(), "user_id": u, "media_item_id": m, "playback_type": "direct_play"})
}

async fn http_single(
    http: &reqwest::Client,
    base: &str,
    cat: &Arc<Catalogue>,
    total: usize,
) -> anyhow::Result<f64> {
    let (http, url, cat) = (
        http.clone(),
        format!("{base}/api/v1/ingest/sessions"),
        cat.clone(),
    );
    drive(total, 1, SINGLE_CLIENTS, move |i| {
        let (http, url, cat) = (http.clone(), url.clone(), cat.clone());
        async move {
            let r = http
                .post(&url)
                .bearer_auth(INGEST_TOKEN)
                .json(&start_event(&cat, i))
                .send()
                .await?;
            anyhow::ensure!(
                r.status().is_success(),
                "single ingest answered {}",
                r.status()
            );
            Ok(())
        }
    })
    .await
}

async fn http_batched(
    http: &reqwest::Client,
    base: &str,
    cat: &Arc<Catalogue>,
    total: usize,
) -> anyhow::Result<f64> {
    let (http, url, cat) = (
        http.clone(),
        format!("{base}/api/v1/ingest/batch"),
        cat.clone(),
    );
    drive(total, BATCH_SIZE, BATCH_CLIENTS, move |i| {
        let (http, url, cat) = (http.clone(), url.clone(), cat.clone());
        async move {
            let events: Vec<_> = (i..i + BATCH_SIZE)
                .map(|n| {
                    let mut e = start_event(&cat, n);
                    e["type"] = json!("session_start");
                    e
                })
                .collect();
            let r = http
                .post(&url)
                .bearer_auth(INGEST_TOKEN)
                .json(&json!({"events": events}))
                .send()
                .await?;
            anyhow::ensure!(
                r.status().is_success(),
                "batch ingest answered {}",
                r.status()
            );
            Ok(())
        }
    })
    .await
}

/// The HTTP round-trip ceiling of this machine with the client on it: no database at all.
async fn http_healthz(http: &reqwest::Client, base: &str, total: usize) -> anyhow::Result<f64> {
    let (http, url) = (http.clone(), format!("{base}/healthz"));
    drive(total, 1, SINGLE_CLIENTS, move |_| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let r = http.get(&url).send().await?;
            anyhow::ensure!(r.status().is_success(), "healthz answered {}", r.status());
            Ok(())
        }
    })
    .await
}

/// COPY of the same rows in `streams` parallel streams.
async fn copy_rows(
    url: &str,
    cat: &Arc<Catalogue>,
    total: usize,
    streams: usize,
) -> anyhow::Result<f64> {
    let per_stream = total / streams;
    let started = Instant::now();
    let tasks = (0..streams).map(|s| {
        let (url, cat) = (url.to_owned(), cat.clone());
        tokio::spawn(async move {
            let client = db::connect_one(&url, Duration::from_secs(10)).await?;
            let sink = client
                .copy_in(
                    "COPY stream_sessions (id, user_id, media_item_id, playback_type, started_at, last_reported_at)
                     FROM STDIN BINARY",
                )
                .await?;
            let types = [Type::UUID, Type::UUID, Type::UUID, Type::VARCHAR, Type::TIMESTAMPTZ, Type::TIMESTAMPTZ];
            let writer = BinaryCopyInWriter::new(sink, &types);
            futures_util::pin_mut!(writer);
            let now = Utc::now();
            for i in 0..per_stream {
                let (u, m) = cat.pick(s * per_stream + i);
                writer.as_mut().write(&[&Uuid::new_v4(), &u, &m, &"direct_play", &now, &now]).await?;
            }
            writer.finish().await?;
            anyhow::Ok(())
        })
    });
    for r in join_all(tasks).await {
        r??;
    }
    Ok((per_stream * streams) as f64 / started.elapsed().as_secs_f64())
}
