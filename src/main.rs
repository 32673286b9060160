use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use cinevault_analytics::config::{Cli, Command, Config};
use cinevault_analytics::{db, demo, logging, run};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match &cli.command {
        Command::Serve(c) | Command::Migrate(c) => c,
        Command::Demo { config, .. } => config,
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
            let mut client =
                db::connect_one(config.database_url.expose(), config.db_timeout).await?;
            let applied = db::migrate::run(&mut client).await?;
            println!(
                "migrations applied: {applied:?}; schema at version {}",
                db::migrate::latest_version()
            );
            Ok(())
        }
        Command::Demo { config, demo: args } => {
            let mut client =
                db::connect_one(config.database_url.expose(), config.db_timeout).await?;
            db::migrate::run(&mut client).await?;
            let outcome =
                demo::seed(&mut client, &args, config.time_zone(), &config.host()).await?;
            println!("{outcome}");
            drop(client);
            if args.seed_only {
                return Ok(());
            }
            serve(config).await
        }
    }
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
