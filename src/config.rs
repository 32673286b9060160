//! Command-line flags and their environment variables. Every setting is checked here, at
//! start-up, so a bad value stops the process with a message naming the setting.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono_tz::Tz;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::secret::{mask_database_url, Secret};

#[derive(Debug, Parser)]
#[command(
    name = "cinevault-analytics",
    version,
    about = "Analytics, monitoring and alerting sidecar for the CineVault media server"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply the database migrations, then serve the API, /metrics and the workers.
    Serve(Config),
    /// Apply the database migrations and exit.
    Migrate(Config),
    /// Recompute daily_stats for a day or a range of days (backfill), then exit.
    Rollup {
        #[command(flatten)]
        config: Config,
        #[command(flatten)]
        range: RollupArgs,
    },
    /// Seed a realistic demo CineVault into the database, then serve it.
    Demo {
        #[command(flatten)]
        config: Config,
        #[command(flatten)]
        demo: DemoArgs,
    },
}

#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = true)]
pub struct RollupArgs {
    /// One day to recompute (YYYY-MM-DD, in the configured time zone).
    #[arg(long, value_parser = parse_day, conflicts_with_all = ["from", "to"])]
    pub date: Option<chrono::NaiveDate>,
    /// First day of the range (YYYY-MM-DD), inclusive.
    #[arg(long, value_parser = parse_day, requires = "to")]
    pub from: Option<chrono::NaiveDate>,
    /// Last day of the range (YYYY-MM-DD), inclusive.
    #[arg(long, value_parser = parse_day, requires = "from")]
    pub to: Option<chrono::NaiveDate>,
}

impl RollupArgs {
    /// The inclusive range to compute.
    pub fn range(&self) -> Result<(chrono::NaiveDate, chrono::NaiveDate), String> {
        match (self.date, self.from, self.to) {
            (Some(d), _, _) => Ok((d, d)),
            (None, Some(f), Some(t)) if f <= t => Ok((f, t)),
            (None, Some(f), Some(t)) => Err(format!("--from {f} is after --to {t}")),
            _ => Err("give --date, or --from and --to".into()),
        }
    }
}

fn parse_day(s: &str) -> Result<chrono::NaiveDate, String> {
    crate::http::extract::parse_date(s.trim())
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Seed even though the database already holds data that is not demo data.
    #[arg(long, env = "CINEVAULT_DEMO_FORCE", action = ArgAction::SetTrue)]
    pub force: bool,
    /// Seed only, do not serve afterwards.
    #[arg(long, action = ArgAction::SetTrue)]
    pub seed_only: bool,
    /// Seed for the random generator, so two demo databases hold the same data.
    #[arg(long, default_value_t = 25)]
    pub seed: u64,
    /// Seed a database the way CineVault itself fills it (its schema on an empty database,
    /// one stream_sessions row per HTTP request, never-ended transcodes, watch_history, its
    /// collector's and rollup's rows) and serve in cinevault mode. Without it the demo is a
    /// standalone database fed through the ingest API.
    #[arg(long, env = "CINEVAULT_DEMO_CINEVAULT", action = ArgAction::SetTrue)]
    pub cinevault: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GpuMode {
    Auto,
    Off,
}

/// Which kind of database `DATABASE_URL` names (src/db/schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DatabaseMode {
    /// Decide from the database: what an earlier start recorded, CineVault's tables, or the
    /// sidecar's first release; an empty database is waited on, never guessed.
    Auto,
    /// CineVault's own database: never create its tables, wait for its schema.
    Cinevault,
    /// A database of the sidecar's own: create the core tables it reads.
    Standalone,
}

impl DatabaseMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DatabaseMode::Auto => "auto",
            DatabaseMode::Cinevault => "cinevault",
            DatabaseMode::Standalone => "standalone",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything the sidecar needs to run. Secrets are `Secret`, so `{:?}` of this struct is
/// safe to log.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// PostgreSQL connection URL, e.g. postgres://user:password@host:5432/cinevault.
    #[arg(long, env = "DATABASE_URL", value_name = "URL")]
    pub database_url: Secret,

    /// Which kind of database this is: cinevault (CineVault's own), standalone (the
    /// sidecar's own), or auto (decided from the database; an empty one is waited on).
    #[arg(long, env = "CINEVAULT_DATABASE_MODE", value_enum, default_value_t = DatabaseMode::Auto)]
    pub database_mode: DatabaseMode,

    /// Zone of the database's `timestamp without time zone` values (CineVault's added_at,
    /// last_watched_at, created_at): the zone its PostgreSQL server writes them in.
    #[arg(long, env = "CINEVAULT_DB_TIMEZONE", default_value = "UTC", value_parser = parse_timezone)]
    pub db_timezone: Tz,

    /// CineVault's request rows of one user and item less than this apart are one play.
    #[arg(long, env = "CINEVAULT_PLAY_GAP", default_value = "30m", value_parser = parse_interval)]
    pub play_gap: Duration,

    /// Evaluate the alert rules and send their alerts. False leaves every rule to
    /// CineVault's own evaluator, which always runs beside a CineVault.
    #[arg(long, env = "CINEVAULT_EVALUATE_ALERTS", default_value = "true",
          num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub evaluate_alerts: bool,

    /// Address the HTTP server listens on.
    #[arg(long, env = "CINEVAULT_LISTEN", default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,

    /// Static admin bearer token; repeat the flag or separate by commas for several.
    /// None set: admin routes refuse everyone (unless a JWT secret is set).
    #[arg(
        long = "admin-token",
        env = "CINEVAULT_ADMIN_TOKENS",
        value_delimiter = ',',
        value_name = "TOKEN",
        value_parser = parse_token
    )]
    pub admin_tokens: Vec<Secret>,

    /// Bearer token the media server uses for /api/v1/ingest. None set: ingest refuses everyone.
    #[arg(long, env = "CINEVAULT_INGEST_TOKEN", value_name = "TOKEN", value_parser = parse_token)]
    pub ingest_token: Option<Secret>,

    /// HS256 secret of CineVault-issued JWTs; tokens whose claims mark an admin are accepted
    /// on admin routes. Off when unset.
    #[arg(long, env = "CINEVAULT_JWT_SECRET", value_name = "SECRET", value_parser = parse_token)]
    pub jwt_secret: Option<Secret>,

    /// IANA time zone that defines days and weeks (e.g. Europe/Berlin). Default: the host's zone.
    #[arg(long, env = "CINEVAULT_TIMEZONE", value_name = "ZONE", value_parser = parse_timezone)]
    pub timezone: Option<Tz>,

    /// Filesystem path whose disk usage is collected (the primary media path).
    #[arg(long, env = "CINEVAULT_MEDIA_PATH", default_value = "/")]
    pub media_path: PathBuf,

    /// Where /proc is read from (in a container, mount the host's /proc and point here).
    #[arg(long, env = "CINEVAULT_PROC_ROOT", default_value = "/proc")]
    pub proc_root: PathBuf,

    /// NVIDIA GPU metrics through NVML: auto (on when the driver is present) or off.
    #[arg(long, env = "CINEVAULT_GPU", value_enum, default_value_t = GpuMode::Auto)]
    pub gpu: GpuMode,

    /// Name of this host in system_metrics and alerts. Default: the host name.
    #[arg(long, env = "CINEVAULT_HOST_NAME", value_name = "NAME", value_parser = parse_host_name)]
    pub host_name: Option<String>,

    /// How often system metrics are collected.
    #[arg(long, env = "CINEVAULT_COLLECT_INTERVAL", default_value = "60s", value_parser = parse_interval)]
    pub collect_interval: Duration,

    /// How long system_metrics rows are kept.
    #[arg(long, env = "CINEVAULT_METRICS_RETENTION", default_value = "30d", value_parser = parse_interval)]
    pub metrics_retention: Duration,

    /// How often alert rules are evaluated.
    #[arg(long, env = "CINEVAULT_ALERT_INTERVAL", default_value = "5m", value_parser = parse_interval)]
    pub alert_interval: Duration,

    /// A session with no report for this long is ended by the sidecar.
    #[arg(long, env = "CINEVAULT_STALE_SESSION_AFTER", default_value = "10m", value_parser = parse_interval)]
    pub stale_session_after: Duration,

    /// A transcode started and not completed for this long is closed as failed.
    #[arg(long, env = "CINEVAULT_STALE_TRANSCODE_AFTER", default_value = "6h", value_parser = parse_interval)]
    pub stale_transcode_after: Duration,

    /// How many missing days the start-up rollup fills in at most.
    #[arg(long, env = "CINEVAULT_ROLLUP_MAX_DAYS", default_value_t = 35, value_parser = clap::value_parser!(u32).range(1..=3660))]
    pub rollup_max_days: u32,

    /// Bearer token required on /metrics. Off when unset: /metrics is open.
    #[arg(long, env = "CINEVAULT_METRICS_TOKEN", value_name = "TOKEN", value_parser = parse_token)]
    pub metrics_token: Option<Secret>,

    /// Maximum number of PostgreSQL connections.
    #[arg(long, env = "CINEVAULT_DB_POOL_SIZE", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub db_pool_size: u16,

    /// How long a request waits for the database (connecting or getting a pooled connection)
    /// before it answers 503.
    #[arg(long, env = "CINEVAULT_DB_TIMEOUT", default_value = "5s", value_parser = parse_interval)]
    pub db_timeout: Duration,

    /// Largest request body accepted, in bytes (suffixes KiB and MiB allowed).
    #[arg(long, env = "CINEVAULT_BODY_LIMIT", default_value = "2MiB", value_parser = parse_size)]
    pub body_limit: usize,

    /// Longest a client may take to send a request's headers, and separately its body; a
    /// keep-alive connection left idle this long is closed. Slower clients are disconnected
    /// (a body too slow gets a 408), so they cannot hold connections forever.
    #[arg(long, env = "CINEVAULT_CLIENT_TIMEOUT", default_value = "20s", value_parser = parse_interval)]
    pub client_timeout: Duration,

    /// How long a graceful shutdown may take before the process exits anyway.
    #[arg(long, env = "CINEVAULT_SHUTDOWN_TIMEOUT", default_value = "10s", value_parser = parse_interval)]
    pub shutdown_timeout: Duration,

    /// Log format: human-readable text or one JSON object per line.
    #[arg(long, env = "CINEVAULT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Log filter in tracing's syntax, e.g. "info" or "info,cinevault_analytics=debug".
    #[arg(long, env = "CINEVAULT_LOG", default_value = "info")]
    pub log_level: String,

    /// Allow webhook targets in private ranges (10/8, 172.16/12, 192.168/16, fc00::/7).
    #[arg(long, env = "CINEVAULT_WEBHOOK_ALLOW_PRIVATE", default_value = "false",
          num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub webhook_allow_private: bool,

    /// Allow webhook targets on loopback addresses (127/8, ::1). Link-local and cloud
    /// metadata addresses are always refused.
    #[arg(long, env = "CINEVAULT_WEBHOOK_ALLOW_LOOPBACK", default_value = "false",
          num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub webhook_allow_loopback: bool,
}

impl Config {
    /// The configured zone, else the host's, else UTC.
    pub fn time_zone(&self) -> Tz {
        self.timezone.unwrap_or_else(host_time_zone)
    }

    pub fn gpu_enabled(&self) -> bool {
        self.gpu == GpuMode::Auto
    }

    /// The configured host name, else the machine's.
    pub fn host(&self) -> String {
        self.host_name.clone().unwrap_or_else(machine_host_name)
    }

    /// A one-line summary for the start-up log; secrets never appear in it.
    pub fn summary(&self) -> String {
        format!(
            "listen={} database={} database_mode={} db_timezone={} timezone={} host={} media_path={} admin_tokens={} ingest_token={} jwt={} metrics_token={} collect_interval={} alert_interval={} metrics_retention={} stale_session_after={} pool_size={}",
            self.listen,
            mask_database_url(self.database_url.expose()),
            self.database_mode.as_str(),
            self.db_timezone,
            self.time_zone(),
            self.host(),
            self.media_path.display(),
            self.admin_tokens.len(),
            set_or_off(self.ingest_token.is_some()),
            set_or_off(self.jwt_secret.is_some()),
            set_or_off(self.metrics_token.is_some()),
            humantime::format_duration(self.collect_interval),
            humantime::format_duration(self.alert_interval),
            humantime::format_duration(self.metrics_retention),
            humantime::format_duration(self.stale_session_after),
            self.db_pool_size,
        )
    }
}

fn set_or_off(set: bool) -> &'static str {
    if set {
        "set"
    } else {
        "off"
    }
}

fn parse_token(s: &str) -> Result<Secret, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("must not be empty".into());
    }
    if t.len() < 8 {
        return Err("must be at least 8 characters".into());
    }
    if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    Ok(Secret::new(t))
}

pub fn parse_interval(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("{e} (write durations like 60s, 5m, 6h, 30d)"))?;
    if d < Duration::from_secs(1) {
        return Err("must be at least 1s".into());
    }
    Ok(d)
}

fn parse_size(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let (num, mult) = if let Some(n) = s.strip_suffix("MiB") {
        (n, 1024 * 1024)
    } else if let Some(n) = s.strip_suffix("KiB") {
        (n, 1024)
    } else {
        (s, 1)
    };
    let n: usize = num
        .trim()
        .parse()
        .map_err(|_| "expected a byte count such as 1048576, 512KiB or 2MiB".to_string())?;
    let bytes = n.checked_mul(mult).ok_or_else(|| "too large".to_string())?;
    if bytes < 1024 {
        return Err("must be at least 1KiB".into());
    }
    Ok(bytes)
}

fn parse_timezone(s: &str) -> Result<Tz, String> {
    s.trim()
        .parse::<Tz>()
        .map_err(|_| format!("'{s}' is not an IANA time zone name such as Europe/Berlin or UTC"))
}

fn parse_host_name(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() || s.len() > 255 {
        return Err("must be 1 to 255 characters".into());
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(s.to_owned())
}

fn host_time_zone() -> Tz {
    iana_time_zone::get_timezone()
        .ok()
        .and_then(|name| name.parse::<Tz>().ok())
        .unwrap_or(Tz::UTC)
}

fn machine_host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        let mut v = vec![
            "cinevault-analytics",
            "serve",
            "--database-url",
            "postgres://u:pw@h/db",
        ];
        v.extend_from_slice(args);
        match Cli::try_parse_from(v)?.command {
            Command::Serve(c) => Ok(c),
            other => panic!("expected serve, got {other:?}"),
        }
    }

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_match_the_documented_table() {
        let c = parse(&[]).expect("defaults parse");
        assert_eq!(c.listen.to_string(), "127.0.0.1:8090");
        assert!(c.admin_tokens.is_empty());
        assert!(c.ingest_token.is_none() && c.jwt_secret.is_none() && c.metrics_token.is_none());
        assert_eq!(c.media_path, PathBuf::from("/"));
        assert_eq!(c.collect_interval, Duration::from_secs(60));
        assert_eq!(c.metrics_retention, Duration::from_secs(30 * 86400));
        assert_eq!(c.alert_interval, Duration::from_secs(300));
        assert_eq!(c.stale_session_after, Duration::from_secs(600));
        assert_eq!(c.body_limit, 2 * 1024 * 1024);
        assert_eq!(c.client_timeout, Duration::from_secs(20));
        assert!(!c.webhook_allow_private && !c.webhook_allow_loopback);
        assert_eq!(c.database_mode, DatabaseMode::Auto);
        assert_eq!(c.db_timezone, Tz::UTC);
        assert_eq!(c.play_gap, Duration::from_secs(1800));
        assert!(c.evaluate_alerts);
    }

    #[test]
    fn durations_and_tokens_parse() {
        let c = parse(&[
            "--collect-interval",
            "15s",
            "--metrics-retention",
            "7d",
            "--admin-token",
            "aaaaaaaaaa,bbbbbbbbbb",
            "--timezone",
            "Europe/Berlin",
            "--webhook-allow-loopback",
        ])
        .expect("parses");
        assert_eq!(c.collect_interval, Duration::from_secs(15));
        assert_eq!(c.metrics_retention, Duration::from_secs(7 * 86400));
        assert_eq!(c.admin_tokens.len(), 2);
        assert_eq!(c.time_zone(), chrono_tz::Europe::Berlin);
        assert!(c.webhook_allow_loopback);
    }

    #[test]
    fn bad_values_name_the_setting() {
        for (flag, value) in [
            ("--collect-interval", "soon"),
            ("--collect-interval", "0s"),
            ("--timezone", "Mars/Olympus"),
            ("--listen", "nowhere"),
            ("--db-pool-size", "0"),
            ("--admin-token", "short"),
        ] {
            let err = parse(&[flag, value]).expect_err(flag).to_string();
            assert!(err.contains(flag), "{flag}: {err}");
        }
    }

    #[test]
    fn summary_and_debug_never_show_secrets() {
        let c = parse(&[
            "--admin-token",
            "admin-secret-123",
            "--ingest-token",
            "ingest-secret-123",
            "--jwt-secret",
            "jwt-secret-123456",
        ])
        .expect("parses");
        for text in [c.summary(), format!("{c:?}")] {
            for secret in [
                "admin-secret-123",
                "ingest-secret-123",
                "jwt-secret-123456",
                ":pw@",
            ] {
                assert!(!text.contains(secret), "{secret} leaked in {text}");
            }
        }
    }

    #[test]
    fn subcommands_take_the_same_settings() {
        let cli = Cli::try_parse_from([
            "cinevault-analytics",
            "migrate",
            "--database-url",
            "postgres://localhost/x",
        ])
        .expect("parses");
        assert!(matches!(cli.command, Command::Migrate(_)));
    }
}
