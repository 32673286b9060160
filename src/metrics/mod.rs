//! The Prometheus registry. Names are `cinevault_analytics_<name>_<base unit>[_total]`;
//! labels stay bounded (no user, session, title or address labels). Values that are cheap
//! to read (pool usage, live sessions) are refreshed at scrape time; host readings come
//! from the collector's last run.

mod format;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

pub use format::{encode_text_004, OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE};

use crate::ingest::apply::Effect;
use crate::ingest::events::PlaybackType;

pub type FloatGauge = Gauge<f64, AtomicU64>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    pub state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    pub version: &'static str,
    pub host: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PlaybackLabel {
    pub playback_type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TranscodeLabels {
    pub result: &'static str,
    pub hw_accel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReadingLabel {
    pub reading: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MountLabel {
    pub mount: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GpuLabels {
    pub gpu: String,
    pub name: String,
}

/// One of CineVault's always-on workers (collector, rollup, alert_evaluator).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WorkerLabel {
    pub worker: &'static str,
}

// Alerting (issue 6): label sets of the alerting metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EvaluationLabel {
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    pub channel_type: &'static str,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ChannelTypeLabel {
    pub channel_type: &'static str,
}
// End of alerting labels.

/// Every reading the collector takes; each has its own error counter.
pub const READINGS: [&str; 5] = ["cpu", "memory", "disk", "gpu", "database"];

// Alerting (issue 6).
pub const ALERT_EVALUATION_RESULTS: [&str; 3] = ["evaluated", "skipped", "failed"];
pub const ALERT_CHANNEL_TYPES: [&str; 4] = ["discord", "slack", "generic", "alertmanager"];
// End of alerting.

#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_duration: Family<RouteLabels, Histogram>,
    pub db_pool_connections: Family<StateLabel, Gauge>,
    pub db_pool_max: Gauge,
    pub ready: Gauge,
    // Ingest.
    pub ingest_batches: Counter,
    pub ingest_batch_events: Histogram,
    pub ingest_batch_duration: Histogram,
    pub sessions_started: Family<PlaybackLabel, Counter>,
    pub bytes_served: Counter,
    pub watch_seconds: Counter,
    pub transcodes_completed: Family<TranscodeLabels, Counter>,
    pub stream_errors: Counter,
    // Live state, refreshed at scrape time.
    pub active_streams: Family<PlaybackLabel, Gauge>,
    pub active_transcodes: Gauge,
    // Reaper.
    pub sessions_reaped: Counter,
    pub transcodes_reaped: Counter,
    // Beside CineVault (src/plays, src/workers/coexistence.rs).
    pub cinevault_rows_closed: Counter,
    pub plays_pass_failures: Counter,
    pub cinevault_worker_detected: Family<WorkerLabel, Gauge>,
    pub cinevault_worker_last_seen: Family<WorkerLabel, FloatGauge>,
    pub daily_stats_restored: Counter,
    // Rollup.
    pub rollup_runs: Counter,
    pub rollup_failures: Counter,
    pub rollup_last_success_timestamp: FloatGauge,
    pub rollup_last_day_timestamp: FloatGauge,
    pub rollup_duration: FloatGauge,
    // Collector.
    pub collector_runs: Counter,
    pub collector_errors: Family<ReadingLabel, Counter>,
    pub collector_last_success: Gauge,
    pub collector_last_success_timestamp: FloatGauge,
    pub collector_interval: FloatGauge,
    pub cpu_usage: FloatGauge,
    pub memory_total: Gauge,
    pub memory_available: Gauge,
    pub memory_used: Gauge,
    pub disk_total: Family<MountLabel, Gauge>,
    pub disk_free: Family<MountLabel, Gauge>,
    pub disk_available: Family<MountLabel, Gauge>,
    pub gpus_detected: Gauge,
    pub gpu_encoder: Family<GpuLabels, FloatGauge>,
    pub gpu_memory_used: Family<GpuLabels, Gauge>,
    pub gpu_memory_total: Family<GpuLabels, Gauge>,
    pub gpu_temperature: Family<GpuLabels, FloatGauge>,
    // Alerting (issue 6).
    pub alert_evaluations: Family<EvaluationLabel, Counter>,
    pub alert_rules_firing: Gauge,
    pub alert_deliveries: Family<DeliveryLabels, Counter>,
    pub alert_delivery_duration: Family<ChannelTypeLabel, Histogram>,
    // End of alerting.
}

const COLLECTED: &str = " (from the collector's last run)";

impl Metrics {
    pub fn new(host: &str) -> Self {
        let mut r = Registry::with_prefix("cinevault_analytics");
        macro_rules! reg {
            ($name:expr, $help:expr, $metric:expr) => {{
                let m = $metric;
                r.register($name, $help, m.clone());
                m
            }};
            ($name:expr, $help:expr, $unit:expr, $metric:expr) => {{
                let m = $metric;
                r.register_with_unit($name, $help, $unit, m.clone());
                m
            }};
        }
        let latency = || Histogram::new(exponential_buckets(0.0005, 2.5, 12));

        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
                host: host.to_owned(),
            })
            .set(1);
        r.register("build_info", "The running build and host (always 1)", build);

        let m = Self {
            http_requests: reg!("http_requests", "HTTP requests answered, by route and status", Family::default()),
            http_duration: reg!(
                "http_request_duration",
                "Time to answer an HTTP request",
                Unit::Seconds,
                Family::<RouteLabels, Histogram>::new_with_constructor(latency)
            ),
            db_pool_connections: reg!("db_pool_connections", "PostgreSQL pool connections by state (idle, in_use)", Family::default()),
            db_pool_max: reg!("db_pool_max_connections", "PostgreSQL pool size limit", Gauge::default()),
            ready: reg!("ready", "1 when the last readiness check found the database reachable and migrated", Gauge::default()),
            ingest_batches: reg!("ingest_batches", "Group-commit transactions run by the ingest writers", Counter::default()),
            ingest_batch_events: reg!(
                "ingest_batch_events",
                "Events committed per group-commit transaction",
                Histogram::new(exponential_buckets(1.0, 4.0, 8))
            ),
            ingest_batch_duration: reg!("ingest_batch_duration", "Time to apply and commit one ingest group", Unit::Seconds, latency()),
            sessions_started: reg!("sessions_started", "Stream sessions started, by playback type", Family::default()),
            bytes_served: reg!("served", "Bytes served to clients, as reported by ingest", Unit::Bytes, Counter::default()),
            watch_seconds: reg!("watch", "Watch time reported by ingest", Unit::Seconds, Counter::default()),
            transcodes_completed: reg!("transcodes_completed", "Transcodes completed, by result and hardware accelerator", Family::default()),
            stream_errors: reg!("stream_errors", "Stream errors reported", Counter::default()),
            active_streams: reg!("active_streams", "Stream sessions active now, by playback type (read at scrape time)", Family::default()),
            active_transcodes: reg!("active_transcodes", "Transcodes started and not completed (read at scrape time)", Gauge::default()),
            sessions_reaped: reg!("sessions_reaped", "Sessions ended by the reaper after no report for the stale timeout", Counter::default()),
            transcodes_reaped: reg!("transcodes_reaped", "Transcodes closed as failed by the reaper after the stale timeout", Counter::default()),
            cinevault_rows_closed: reg!(
                "cinevault_rows_closed",
                "CineVault's own stream_sessions rows it never ends (HLS transcodes, requests left open), closed by the sidecar",
                Counter::default()
            ),
            plays_pass_failures: reg!("plays_pass_failures", "Passes grouping CineVault's rows into plays that failed (retried)", Counter::default()),
            cinevault_worker_detected: reg!(
                "cinevault_worker_detected",
                "1 when one of CineVault's always-on workers (collector, rollup, alert_evaluator) was seen writing the shared tables",
                Family::default()
            ),
            cinevault_worker_last_seen: reg!(
                "cinevault_worker_last_seen_timestamp",
                "Unix time of the last write seen from one of CineVault's always-on workers",
                Unit::Seconds,
                Family::default()
            ),
            daily_stats_restored: reg!(
                "daily_stats_restored",
                "daily_stats rows CineVault's rollup overwrote, written back with the sidecar's figures",
                Counter::default()
            ),
            rollup_runs: reg!("rollup_runs", "Daily rollup runs (start-up catch-up and nightly)", Counter::default()),
            rollup_failures: reg!("rollup_failures", "Daily rollup runs that failed (retried at the next run)", Counter::default()),
            rollup_last_success_timestamp: reg!(
                "rollup_last_success_timestamp",
                "Unix time of the last successful rollup run",
                Unit::Seconds,
                FloatGauge::default()
            ),
            rollup_last_day_timestamp: reg!(
                "rollup_last_day_timestamp",
                "Local midnight (as Unix time) of the last day the rollup computed",
                Unit::Seconds,
                FloatGauge::default()
            ),
            rollup_duration: reg!("rollup_last_duration", "How long the last rollup run took", Unit::Seconds, FloatGauge::default()),
            collector_runs: reg!("collector_runs", "System-metrics collection runs", Counter::default()),
            collector_errors: reg!("collector_errors", "Readings that failed during collection, by reading", Family::default()),
            collector_last_success: reg!("collector_last_collect_success", "1 when the last collection stored its row", Gauge::default()),
            collector_last_success_timestamp: reg!(
                "collector_last_collect_success_timestamp",
                "Unix time of the last collection that stored its row",
                Unit::Seconds,
                FloatGauge::default()
            ),
            collector_interval: reg!(
                "collector_interval",
                "The configured --collect-interval, so alerts can tell a late collection from a slow schedule",
                Unit::Seconds,
                FloatGauge::default()
            ),
            cpu_usage: reg!("host_cpu_usage_ratio", &format!("CPU busy share over all cores since the previous run, 0-1{COLLECTED}"), FloatGauge::default()),
            memory_total: reg!("host_memory_total", &format!("MemTotal{COLLECTED}"), Unit::Bytes, Gauge::default()),
            memory_available: reg!("host_memory_available", &format!("MemAvailable{COLLECTED}"), Unit::Bytes, Gauge::default()),
            memory_used: reg!("host_memory_used", &format!("MemTotal - MemAvailable{COLLECTED}"), Unit::Bytes, Gauge::default()),
            disk_total: reg!("host_disk_total", &format!("Size of the media path's filesystem{COLLECTED}"), Unit::Bytes, Family::default()),
            disk_free: reg!("host_disk_free", &format!("Free space on the media path's filesystem{COLLECTED}"), Unit::Bytes, Family::default()),
            disk_available: reg!(
                "host_disk_available",
                &format!("Space available to unprivileged users on the media path's filesystem{COLLECTED}"),
                Unit::Bytes,
                Family::default()
            ),
            gpus_detected: reg!("gpus_detected", "NVIDIA GPUs found through NVML at start-up (0 without a driver)", Gauge::default()),
            gpu_encoder: reg!("gpu_encoder_utilization_ratio", &format!("NVENC encoder utilisation, 0-1{COLLECTED}"), Family::default()),
            gpu_memory_used: reg!("gpu_memory_used", &format!("GPU memory in use{COLLECTED}"), Unit::Bytes, Family::default()),
            gpu_memory_total: reg!("gpu_memory_total", &format!("GPU memory size{COLLECTED}"), Unit::Bytes, Family::default()),
            gpu_temperature: reg!("gpu_temperature", &format!("GPU die temperature{COLLECTED}"), Unit::Other("celsius".into()), Family::default()),
            // Alerting (issue 6).
            alert_evaluations: reg!(
                "alert_evaluations",
                "Alert evaluation runs, by result (evaluated; skipped while another replica held the lock; failed)",
                Family::default()
            ),
            alert_rules_firing: reg!(
                "alert_rules_firing",
                "Enabled rules whose condition held at the last evaluation on this replica, counted per host",
                Gauge::default()
            ),
            alert_deliveries: reg!(
                "alert_deliveries",
                "Alert, resolved and test messages by channel type and final outcome (after retries)",
                Family::default()
            ),
            alert_delivery_duration: reg!(
                "alert_delivery_duration",
                "Time from the first attempt to a delivery's final outcome, retries included",
                Unit::Seconds,
                Family::<ChannelTypeLabel, Histogram>::new_with_constructor(|| {
                    Histogram::new(exponential_buckets(0.01, 2.5, 12))
                })
            ),
            // End of alerting.
            registry: Arc::new(Registry::default()),
        };
        // Counters with bounded label sets start at zero so increase() sees the first event.
        for t in PlaybackType::ALL {
            let _ = m.sessions_started.get_or_create(&PlaybackLabel {
                playback_type: t.as_str(),
            });
            let _ = m.active_streams.get_or_create(&PlaybackLabel {
                playback_type: t.as_str(),
            });
        }
        for reading in READINGS {
            let _ = m.collector_errors.get_or_create(&ReadingLabel { reading });
        }
        for result in ["success", "failure"] {
            let _ = m.transcodes_completed.get_or_create(&TranscodeLabels {
                result,
                hw_accel: "none".into(),
            });
        }
        // Alerting (issue 6): bounded label sets start at zero.
        for result in ALERT_EVALUATION_RESULTS {
            let _ = m
                .alert_evaluations
                .get_or_create(&EvaluationLabel { result });
        }
        for channel_type in ALERT_CHANNEL_TYPES {
            for outcome in ["delivered", "failed"] {
                let _ = m.alert_deliveries.get_or_create(&DeliveryLabels {
                    channel_type,
                    outcome,
                });
            }
            let _ = m
                .alert_delivery_duration
                .get_or_create(&ChannelTypeLabel { channel_type });
        }
        // End of alerting.
        Self {
            registry: Arc::new(r),
            ..m
        }
    }

    /// OpenMetrics text.
    pub fn encode_openmetrics(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(16 * 1024);
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }

    /// Counts what committed ingest events changed.
    pub fn record_ingest(&self, effects: &[Effect]) {
        for e in effects {
            if let Some(t) = e.session_started {
                self.sessions_started
                    .get_or_create(&PlaybackLabel {
                        playback_type: t.as_str(),
                    })
                    .inc();
            }
            if e.bytes_served > 0 {
                self.bytes_served.inc_by(e.bytes_served.unsigned_abs());
            }
            if e.watch_seconds > 0 {
                self.watch_seconds.inc_by(e.watch_seconds.unsigned_abs());
            }
            if let Some((success, hw)) = &e.transcode_completed {
                self.transcodes_completed
                    .get_or_create(&TranscodeLabels {
                        result: if *success { "success" } else { "failure" },
                        hw_accel: hw_accel_label(hw.as_deref()),
                    })
                    .inc();
            }
            if e.stream_error {
                self.stream_errors.inc();
            }
        }
    }
}

/// Accelerator names come from the client; only known ones become label values, so a
/// misbehaving client cannot grow the series without bound.
pub fn hw_accel_label(hw: Option<&str>) -> String {
    const KNOWN: &[&str] = &[
        "h264_nvenc",
        "hevc_nvenc",
        "av1_nvenc",
        "h264_vaapi",
        "hevc_vaapi",
        "av1_vaapi",
        "vp9_vaapi",
        "h264_qsv",
        "hevc_qsv",
        "av1_qsv",
        "vp9_qsv",
        "h264_videotoolbox",
        "hevc_videotoolbox",
        "h264_amf",
        "hevc_amf",
        "av1_amf",
        "h264_v4l2m2m",
        "h264_rkmpp",
        "hevc_rkmpp",
        "h264_mf",
        "hevc_mf",
        "libx264",
        "libx265",
        "libsvtav1",
    ];
    match hw.map(str::trim) {
        None | Some("") => "none".to_owned(),
        Some(h) => {
            let lower = h.to_ascii_lowercase();
            if KNOWN.contains(&lower.as_str()) {
                lower
            } else {
                "other".to_owned()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accelerator_labels_are_bounded() {
        assert_eq!(hw_accel_label(Some("h264_NVENC")), "h264_nvenc");
        assert_eq!(hw_accel_label(None), "none");
        assert_eq!(hw_accel_label(Some("'; DROP TABLE x; --")), "other");
    }

    #[test]
    fn zero_counters_are_present_before_any_event() {
        let text = Metrics::new("h").encode_openmetrics().expect("encode");
        assert!(
            text.contains(
                "cinevault_analytics_sessions_started_total{playback_type=\"transcode\"} 0"
            ),
            "{text}"
        );
        assert!(text.contains("cinevault_analytics_collector_errors_total{reading=\"disk\"} 0"));
        assert!(text.contains("cinevault_analytics_stream_errors_total 0"));
        assert!(text.contains("cinevault_analytics_build_info{version="));
    }
}
