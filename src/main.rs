use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use cinevault_analytics::config::{Cli, Command, Config, RollupArgs};
use cinevault_analytics::{db, demo, logging, rollup, run};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match &cli.command {
        Command::Serve(c) | Command::Migrate(c) => c,
        Command::Demo { config, .. } | Command::Rollup { config, .. } => config,
    };
    if let Err(err) = logging::init(config.log_format, &config.log_level) {
        eprintln!("error: {err:#}");
        return ExitCode::FAILURE;
    }
    match dispatch(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "exiting");
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(config) => serve(config).await,
        Command::Migrate(config) => {
            let prepared = db::prepare_schema(&config).await?;
            for (change, object) in &prepared.changes {
                println!("{change}: {object}");
            }
            println!(
                "{} database ({}); schema steps applied now: {:?}",
                prepared.kind, prepared.decided_by, prepared.applied
            );
            Ok(())
        }
        Command::Rollup { config, range } => backfill(config, range).await,
        Command::Demo {
            mut config,
            demo: args,
        } => {
            // The demo makes its database: CineVault's own with --cinevault, else the
            // sidecar's own.
            config.database_mode = demo::database_mode(&args);
            demo::prepare(&config, &args).await?;
            if args.seed_only {
                return Ok(());
            }
            serve(config).await
        }
    }
}

/// `rollup --date D` / `--from A --to B`: recomputes the days, with a progress bar on a
/// terminal and a log line per day otherwise, and says how many days it wrote.
async fn backfill(config: Config, args: RollupArgs) -> anyhow::Result<()> {
    use std::io::{IsTerminal, Write};
    let (from, to) = args.range().map_err(anyhow::Error::msg)?;
    db::prepare_schema(&config).await?;
    let pool = db::connect_pool(
        config.database_url.expose(),
        2,
        config.db_timeout,
        config.db_timezone,
    )?;
    let tz = config.time_zone();
    let terminal = std::io::stderr().is_terminal();
    let written = rollup::rollup_range(&pool, tz, from, to, |day, done, total| {
        if terminal {
            let width = 30;
            let filled = done * width / total.max(1);
            eprint!(
                "\r[{}{}] {done}/{total} days ({day})",
                "#".repeat(filled),
                " ".repeat(width - filled)
            );
            let _ = std::io::stderr().flush();
        } else {
            tracing::info!(%day, done, total, "rollup day written");
        }
    })
    .await;
    if terminal {
        eprintln!();
    }
    let written = written?;
    println!("rollup: wrote {written} day(s) from {from} to {to} ({tz})");
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen).await.with_context(|| {
        format!(
            "--listen / CINEVAULT_LISTEN: cannot listen on {}",
            config.listen
        )
    })?;
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    run(config, listener, shutdown).await
}

/// SIGINT or SIGTERM starts a graceful shutdown.
async fn stop_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(err) => {
                    tracing::error!(error = %err, "cannot listen for SIGTERM");
                    let _ = ctrl_c.await;
                    shutdown.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => tracing::info!("SIGINT received"),
            _ = term.recv() => tracing::info!("SIGTERM received"),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    shutdown.cancel();
}
