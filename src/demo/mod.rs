//! `cinevault-analytics demo`: seeds a realistic media server and serves the dashboard on it.
//!
//! - **Standalone** (the default): the sidecar's own database (`--database-mode
//!   standalone`), as a media server reporting through the ingest API would fill it:
//!   libraries, ~2,000 items, 25 users, 90 days of sessions, transcodes and stream errors,
//!   a week of system metrics.
//! - **CineVault** (`--cinevault`, [`cinevault`]): a database the way the real CineVault
//!   fills its own (its schema, one row per HTTP request, never-ended transcode rows,
//!   watch_history, its collector's and rollup's rows), with the sidecar beside it in
//!   cinevault mode.
//!
//! Neither writes into a database that holds other data unless told to (`--force`), and a
//! second run over its own demo data changes nothing.

pub mod cinevault;
mod cinevault_data;
mod generate;
mod insert;

use std::fmt;

use anyhow::Context;
use chrono::Utc;
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::config::{Config, DatabaseMode, DemoArgs};
use crate::{db, rollup};

pub use generate::{generate, DemoData};

/// Days of stream sessions the demo holds.
pub const HISTORY_DAYS: i64 = 90;

/// The demo's first user; its presence marks a database as seeded by `demo`.
pub fn marker_user_id() -> uuid::Uuid {
    generate::demo_id("user", 0)
}

#[derive(Debug)]
pub enum Outcome {
    Seeded(Counts),
    AlreadySeeded,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    pub libraries: usize,
    pub media_items: usize,
    pub users: usize,
    pub sessions: usize,
    pub transcodes: usize,
    pub stream_errors: usize,
    pub system_metrics: usize,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::AlreadySeeded => f.write_str("demo data already present; left as it is"),
            Outcome::Seeded(c) => write!(
                f,
                "demo data seeded: {} libraries, {} media items, {} users, {} stream sessions, {} transcodes, {} stream errors, {} system metric rows",
                c.libraries, c.media_items, c.users, c.sessions, c.transcodes, c.stream_errors, c.system_metrics
            ),
        }
    }
}

pub async fn seed(
    client: &mut tokio_postgres::Client,
    args: &DemoArgs,
    tz: Tz,
    host: &str,
) -> anyhow::Result<Outcome> {
    let already: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)",
            &[&marker_user_id()],
        )
        .await
        .context("checking for earlier demo data")?
        .get(0);
    if already {
        return Ok(Outcome::AlreadySeeded);
    }
    let has_data: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM media_items)
                 OR EXISTS (SELECT 1 FROM stream_sessions)",
            &[],
        )
        .await
        .context("checking whether the database is empty")?
        .get(0);
    if has_data && !args.force {
        anyhow::bail!(
            "this database already holds users, media items or sessions that are not demo data; \
             refusing to add demo data to it (use an empty database, or pass --force to add it anyway)"
        );
    }
    let mut rng = StdRng::seed_from_u64(args.seed);
    let data = generate(&mut rng, Utc::now(), tz, host);
    let counts = data.counts();
    let tx = client
        .transaction()
        .await
        .context("starting the demo transaction")?;
    insert::all(&tx, &data).await?;
    tx.commit().await.context("committing demo data")?;
    Ok(Outcome::Seeded(counts))
}

/// The kind of database the demo makes: CineVault's own with `--cinevault`, else the
/// sidecar's own (whatever `--database-mode` says).
pub fn database_mode(args: &DemoArgs) -> DatabaseMode {
    if args.cinevault {
        DatabaseMode::Cinevault
    } else {
        DatabaseMode::Standalone
    }
}

/// The demo command's work before serving: seeds (once) and computes the daily figures.
/// `config.database_mode` must be [`database_mode`]'s.
pub async fn prepare(config: &Config, args: &DemoArgs) -> anyhow::Result<()> {
    if args.cinevault {
        return cinevault::prepare(config, args).await;
    }
    db::prepare_schema(config).await?;
    let mut client = db::connect_one(config.database_url.expose(), config.db_timeout).await?;
    let outcome = seed(&mut client, args, config.time_zone(), &config.host()).await?;
    println!("{outcome}");
    drop(client);
    if matches!(outcome, Outcome::Seeded(_)) {
        // The whole demo history gets its daily_stats now, not only the catch-up window.
        let tz = config.time_zone();
        let yesterday = rollup::yesterday(tz, Utc::now());
        let first = yesterday - chrono::Duration::days(HISTORY_DAYS);
        let pool = db::connect_pool(
            config.database_url.expose(),
            2,
            config.db_timeout,
            config.db_timezone,
        )?;
        let days = rollup::rollup_range(&pool, tz, first, yesterday, |_, _, _| {}).await?;
        println!("daily_stats computed for {days} days");
    }
    Ok(())
}
