//! The system-metrics collector (spec: `analytics.Collector`): every `--collect-interval`,
//! one `system_metrics` row for this host, the Prometheus gauges refreshed from the same
//! readings, and rows past `--metrics-retention` purged in bounded batches.
//!
//! A reading that fails is logged when it starts failing and when it recovers, counted in
//! `collector_errors_total{reading}`, and left out; the rest of the row is still written.

pub mod readers;
mod store;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::metrics::{GpuLabels, MountLabel, ReadingLabel};
use crate::state::AppState;
use readers::{CpuSampler, Disk, GpuReading, Gpus, Memory};

/// A blocking reading (statfs on a hung network mount, an NVML call) may take no longer.
const READING_TIMEOUT: Duration = Duration::from_secs(5);

/// What one run read; `None` where a reading failed.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub cpu_percent: Option<f64>,
    pub memory: Option<Memory>,
    pub disk: Option<Disk>,
    pub gpus: Option<Vec<GpuReading>>,
}

pub async fn run(state: AppState, cancel: CancellationToken) -> anyhow::Result<()> {
    state
        .metrics
        .collector_interval
        .set(state.config.collect_interval.as_secs_f64());
    let gpus = if state.config.gpu_enabled() {
        Arc::new(tokio::task::spawn_blocking(Gpus::detect).await?)
    } else {
        tracing::info!("GPU metrics are off by configuration (--gpu off)");
        Arc::new(Gpus::disabled())
    };
    state.metrics.gpus_detected.set(match gpus.read() {
        Ok(list) => i64::try_from(list.len()).unwrap_or(0),
        Err(_) => 0,
    });
    let mut collector = Collector {
        cpu: CpuSampler::new(state.config.proc_root.clone()),
        gpus,
        failing: HashMap::new(),
    };
    // CPU % is a delta: take the first reading now, the first row a moment later.
    let _ = collector.cpu.sample();
    let first = Duration::from_secs(1).min(state.config.collect_interval);
    let mut ticker = tokio::time::interval_at(
        tokio::time::Instant::now() + first,
        state.config.collect_interval,
    );
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = ticker.tick() => collector.collect_once(&state).await,
        }
    }
}

struct Collector {
    cpu: CpuSampler,
    gpus: Arc<Gpus>,
    /// Readings failing right now, so a failure is logged once, not every run.
    failing: HashMap<&'static str, bool>,
}

impl Collector {
    async fn collect_once(&mut self, state: &AppState) {
        let m = &state.metrics;
        m.collector_runs.inc();
        let proc_root = state.config.proc_root.clone();
        let media_path = state.config.media_path.clone();
        let gpus = self.gpus.clone();
        let cpu = self.cpu.sample();
        let snapshot = Snapshot {
            cpu_percent: self.outcome(state, "cpu", cpu).flatten(),
            memory: {
                let r = blocking(move || readers::read_memory(&proc_root)).await;
                self.outcome(state, "memory", r)
            },
            disk: {
                let r = blocking(move || readers::read_disk(&media_path)).await;
                self.outcome(state, "disk", r)
            },
            gpus: if gpus.available() {
                let r = blocking(move || gpus.read()).await;
                self.outcome(state, "gpu", r)
            } else {
                None
            },
        };
        self.publish(state, &snapshot);
        let stored = store::insert(state, &snapshot).await;
        let stored = self.outcome(state, "database", stored).is_some();
        m.collector_last_success.set(i64::from(stored));
        if stored {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            m.collector_last_success_timestamp.set(now.as_secs_f64());
        }
        if let Err(err) = store::purge(state).await {
            self.outcome::<()>(state, "database", Err(err));
        }
    }

    /// Logs a reading's failure once when it starts and once when it recovers; counts each.
    fn outcome<T>(
        &mut self,
        state: &AppState,
        reading: &'static str,
        r: anyhow::Result<T>,
    ) -> Option<T> {
        let was_failing = self.failing.get(reading).copied().unwrap_or(false);
        match r {
            Ok(v) => {
                if was_failing {
                    tracing::info!(reading, "collector reading recovered");
                    self.failing.insert(reading, false);
                }
                Some(v)
            }
            Err(err) => {
                state
                    .metrics
                    .collector_errors
                    .get_or_create(&ReadingLabel { reading })
                    .inc();
                if !was_failing {
                    tracing::warn!(
                        reading,
                        error = format!("{err:#}"),
                        "collector reading failed; the rest of the row is still written"
                    );
                    self.failing.insert(reading, true);
                }
                None
            }
        }
    }

    fn publish(&self, state: &AppState, s: &Snapshot) {
        let m = &state.metrics;
        if let Some(cpu) = s.cpu_percent {
            m.cpu_usage.set(cpu / 100.0);
        }
        if let Some(mem) = &s.memory {
            m.memory_total.set(to_i64(mem.total_bytes));
            m.memory_available.set(to_i64(mem.available_bytes));
            m.memory_used.set(to_i64(mem.used_bytes()));
        }
        if let Some(disk) = &s.disk {
            let mount = MountLabel {
                mount: state.config.media_path.display().to_string(),
            };
            m.disk_total
                .get_or_create(&mount)
                .set(to_i64(disk.total_bytes));
            m.disk_free
                .get_or_create(&mount)
                .set(to_i64(disk.free_bytes));
            m.disk_available
                .get_or_create(&mount)
                .set(to_i64(disk.available_bytes));
        }
        for g in s.gpus.iter().flatten() {
            let labels = GpuLabels {
                gpu: g.index.to_string(),
                name: g.name.clone(),
            };
            if let Some(v) = g.encoder_percent {
                m.gpu_encoder.get_or_create(&labels).set(v / 100.0);
            }
            if let Some(v) = g.memory_used_bytes {
                m.gpu_memory_used.get_or_create(&labels).set(to_i64(v));
            }
            if let Some(v) = g.memory_total_bytes {
                m.gpu_memory_total.get_or_create(&labels).set(to_i64(v));
            }
            if let Some(v) = g.temperature_celsius {
                m.gpu_temperature.get_or_create(&labels).set(v);
            }
        }
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Runs a blocking reading off the async threads, bounded by `READING_TIMEOUT`.
async fn blocking<T, F>(f: F) -> anyhow::Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> anyhow::Result<T> + Send + 'static,
{
    match tokio::time::timeout(READING_TIMEOUT, tokio::task::spawn_blocking(f)).await {
        Ok(Ok(r)) => r,
        Ok(Err(join)) => Err(anyhow::anyhow!("reading panicked: {join}")),
        Err(_) => Err(anyhow::anyhow!(
            "reading took longer than {READING_TIMEOUT:?}"
        )),
    }
}
