//! Computing one day of `daily_stats` on a large database (issue 4: "well under a second at
//! 10 million sessions; an index range scan, not a table scan"). Run with
//! `scripts/bench-rollup`, which generates the data set once (scripts/gen-dataset).

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{Duration as Days, Utc};
use cinevault_analytics::{db, rollup};

const DAYS: i64 = 25;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("CINEVAULT_BENCH_DATABASE_URL")
        .context("set CINEVAULT_BENCH_DATABASE_URL (scripts/bench-rollup does)")?;
    let client = db::connect_one(&url, Duration::from_secs(10)).await?;
    let sessions: i64 = client
        .query_one("SELECT count(*) FROM stream_sessions", &[])
        .await?
        .get(0);
    let tz = chrono_tz::Europe::Berlin;
    let today = Utc::now().with_timezone(&tz).date_naive();

    // One day warm-up, then DAYS different days spread over the three years.
    rollup::compute_day(&client, tz, today - Days::days(10)).await?;
    let mut times = Vec::new();
    let mut plays = Vec::new();
    for i in 0..DAYS {
        let day = today - Days::days(1 + i * 40);
        let started = Instant::now();
        let stat = rollup::compute_day(&client, tz, day).await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        plays.push(stat.total_plays);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    let mean_plays = plays.iter().map(|p| f64::from(*p)).sum::<f64>() / plays.len() as f64;

    // The plan of the real statement for one day.
    let day = today - Days::days(400);
    let (from, to) = rollup::day_bounds(tz, day);
    let plan: serde_json::Value = client
        .query_one(
            &format!(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {}",
                rollup::COMPUTE_SQL.as_str()
            ),
            &[&from, &to],
        )
        .await?
        .get(0);
    let mut nodes = Vec::new();
    collect_nodes(&plan[0]["Plan"], &mut nodes);
    let seq_scan_sessions = nodes
        .iter()
        .any(|(kind, rel, _)| kind == "Seq Scan" && rel == "stream_sessions");
    let uses_index = nodes
        .iter()
        .any(|(_, _, index)| index == "idx_stream_sessions_started");
    let exec_ms = plan[0]["Execution Time"].as_f64().unwrap_or(f64::NAN);

    let report = format!(
        "| figure | value |\n|---|---|\n\
         | stream_sessions rows | {sessions} |\n\
         | days computed | {DAYS} (spread over three years, about {mean_plays:.0} sessions each) |\n\
         | `compute_day` median | {:.1} ms |\n\
         | `compute_day` p95 | {:.1} ms |\n\
         | `compute_day` max | {:.1} ms |\n\
         | EXPLAIN ANALYZE execution time, one day | {exec_ms:.1} ms |\n\
         | plan uses idx_stream_sessions_started | {uses_index} |\n\
         | plan has a sequential scan of stream_sessions | {seq_scan_sessions} |\n",
        pct(0.5),
        pct(0.95),
        pct(1.0),
    );
    println!("{report}");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/rollup-results.md");
    std::fs::write(
        path,
        format!(
            "# Rollup benchmark\n\nProduced by `scripts/bench-rollup` on {} ({} CPUs): one day of\n\
             `daily_stats` computed by `rollup::compute_day` (the statement the nightly rollup and\n\
             `cinevault-analytics rollup` run), on the data set of `scripts/gen-dataset`.\n\n{report}",
            Utc::now().format("%Y-%m-%d %H:%M UTC"),
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        ),
    )?;
    eprintln!("written to {path}");
    anyhow::ensure!(
        uses_index && !seq_scan_sessions,
        "the day is not an index range scan"
    );
    Ok(())
}

/// (node type, relation, index) of every node of an EXPLAIN (FORMAT JSON) plan.
fn collect_nodes(node: &serde_json::Value, out: &mut Vec<(String, String, String)>) {
    let field = |k: &str| node[k].as_str().unwrap_or("").to_owned();
    out.push((
        field("Node Type"),
        field("Relation Name"),
        field("Index Name"),
    ));
    for child in node["Plans"].as_array().into_iter().flatten() {
        collect_nodes(child, out);
    }
}
