//! Logs through tracing: human-readable by default, one JSON object per line with
//! `--log-format json`.

use anyhow::Context;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// tokio-postgres logs every statement's parameters at debug level under this target, and
/// those are webhook URLs, signing secrets and whatever the media server reported. A filter
/// such as `debug` would write them to the log; they stay out unless the filter names
/// tokio_postgres itself.
const STATEMENT_PARAMETERS: &str = "tokio_postgres::query=off";

pub fn init(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(effective_filter(filter)).with_context(|| {
        format!("--log-level / CINEVAULT_LOG: '{filter}' is not a valid filter")
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    // A second init (tests starting several servers) keeps the first subscriber.
    let _ = result;
    Ok(())
}

/// The filter as given, with statement parameters switched off unless it says otherwise.
pub fn effective_filter(filter: &str) -> String {
    if filter.contains("tokio_postgres") {
        filter.to_owned()
    } else if filter.trim().is_empty() {
        STATEMENT_PARAMETERS.to_owned()
    } else {
        format!("{filter},{STATEMENT_PARAMETERS}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_parameters_stay_out_of_debug_logs_unless_asked_for() {
        assert_eq!(effective_filter("debug"), "debug,tokio_postgres::query=off");
        assert_eq!(
            effective_filter("info,cinevault_analytics=debug"),
            "info,cinevault_analytics=debug,tokio_postgres::query=off"
        );
        assert_eq!(effective_filter(""), "tokio_postgres::query=off");
        assert_eq!(
            effective_filter("info,tokio_postgres=debug"),
            "info,tokio_postgres=debug"
        );
        for f in ["debug", "info", "trace,hyper=info"] {
            assert!(EnvFilter::try_new(effective_filter(f)).is_ok(), "{f}");
        }
    }
}
