//! NVIDIA GPU readings through NVML (nvml-wrapper).
//!
//! `Nvml::init` loads `libnvidia-ml.so` at run time, so the sidecar builds and runs on hosts
//! without the driver; [`Gpus::detect`] tries once at start-up and, when that fails, GPU metrics
//! are simply off (one info line says why) instead of failing on every collector tick.

use std::fmt;

use anyhow::Context;
use nvml_wrapper::enum_wrappers::device::TemperatureSensor;
use nvml_wrapper::Nvml;

/// One GPU at one moment. A field NVML refused for this device is None, so one unsupported
/// query (encoder stats on a consumer card, say) does not hide the others.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuReading {
    pub index: u32,
    pub name: String,
    /// `encoder_utilization().utilization`: the NVENC load, what transcoding uses.
    pub encoder_percent: Option<f64>,
    pub memory_used_bytes: Option<u64>,
    pub memory_total_bytes: Option<u64>,
    /// `TemperatureSensor::Gpu`.
    pub temperature_celsius: Option<f64>,
}

impl GpuReading {
    /// used / total * 100; None when either is unknown or total is 0.
    pub fn memory_percent(&self) -> Option<f64> {
        let used = self.memory_used_bytes?;
        let total = self.memory_total_bytes.filter(|&t| t > 0)?;
        Some(used as f64 / total as f64 * 100.0)
    }
}

/// The GPUs of this host, or none when NVML is missing or switched off.
pub struct Gpus {
    nvml: Option<Nvml>,
}

impl fmt::Debug for Gpus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gpus")
            .field("available", &self.available())
            .finish()
    }
}

impl Gpus {
    /// Tries to load NVML once. On a host without the NVIDIA driver this returns a Gpus with no
    /// NVML and logs ONE info line saying GPU metrics are off and why; never panics.
    pub fn detect() -> Self {
        match Nvml::init() {
            Ok(nvml) => {
                tracing::info!("NVML loaded; GPU metrics are on");
                Self { nvml: Some(nvml) }
            }
            Err(err) => {
                tracing::info!(reason = %err, "NVML unavailable; GPU metrics are off");
                Self::disabled()
            }
        }
    }

    /// No GPUs: for tests and hosts where GPU metrics are switched off.
    pub fn disabled() -> Self {
        Self { nvml: None }
    }

    pub fn available(&self) -> bool {
        self.nvml.is_some()
    }

    /// One reading per device; a field NVML refuses for one device is None (counted by the
    /// caller), the rest still read. A device whose handle cannot be obtained still yields a
    /// reading, with every field None, so the caller sees and counts it.
    /// Returns Err only when the device list itself cannot be read.
    pub fn read(&self) -> anyhow::Result<Vec<GpuReading>> {
        let Some(nvml) = &self.nvml else {
            return Ok(Vec::new());
        };
        let count = nvml.device_count().context("counting NVIDIA GPUs")?;
        Ok((0..count).map(|index| read_one(nvml, index)).collect())
    }
}

/// Logs a refused query at debug level (the caller counts the None; logging each tick at a
/// higher level would flood the log on cards that never support the query).
fn field<T, E: fmt::Display>(index: u32, what: &str, res: Result<T, E>) -> Option<T> {
    res.map_err(|err| tracing::debug!(gpu = index, error = %err, "NVML refused {what}"))
        .ok()
}

fn read_one(nvml: &Nvml, index: u32) -> GpuReading {
    // Without a handle every field is None, so the caller still sees and counts the device.
    let device = field(index, "the device handle", nvml.device_by_index(index));
    let device = device.as_ref();
    let name = device.and_then(|d| field(index, "the name", d.name()));
    let encoder = device.and_then(|d| field(index, "encoder use", d.encoder_utilization()));
    let memory = device.and_then(|d| field(index, "memory info", d.memory_info()));
    let temperature =
        device.and_then(|d| field(index, "temperature", d.temperature(TemperatureSensor::Gpu)));
    GpuReading {
        index,
        name: name.unwrap_or_else(|| format!("GPU {index}")),
        encoder_percent: encoder.map(|u| f64::from(u.utilization)),
        memory_used_bytes: memory.as_ref().map(|m| m.used),
        memory_total_bytes: memory.as_ref().map(|m| m.total),
        temperature_celsius: temperature.map(f64::from),
    }
}

/// What goes into the single system_metrics row: the highest encoder %, memory % and
/// temperature over all GPUs (the busiest or hottest card is the one that needs attention).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GpuSummary {
    pub encoder_percent: Option<f64>,
    pub memory_percent: Option<f64>,
    pub temperature_celsius: Option<f64>,
}

/// Max per field over all readings, skipping Nones; None when no reading has the field.
pub fn summarize(readings: &[GpuReading]) -> GpuSummary {
    fn max(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
        values.flatten().reduce(f64::max)
    }
    GpuSummary {
        encoder_percent: max(readings.iter().map(|r| r.encoder_percent)),
        memory_percent: max(readings.iter().map(GpuReading::memory_percent)),
        temperature_celsius: max(readings.iter().map(|r| r.temperature_celsius)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(
        index: u32,
        encoder: Option<f64>,
        memory: Option<(u64, u64)>,
        temp: Option<f64>,
    ) -> GpuReading {
        GpuReading {
            index,
            name: format!("Test GPU {index}"),
            encoder_percent: encoder,
            memory_used_bytes: memory.map(|m| m.0),
            memory_total_bytes: memory.map(|m| m.1),
            temperature_celsius: temp,
        }
    }

    #[test]
    fn detect_without_driver_does_not_panic() {
        let gpus = Gpus::detect();
        // With a driver present this reads real devices; without, it is an empty list.
        let readings = gpus.read();
        if !gpus.available() {
            assert!(readings.expect("disabled read").is_empty());
        }
    }

    #[test]
    fn gpus_can_move_into_a_tokio_task() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Gpus>();
    }

    #[test]
    fn disabled_reads_nothing() {
        let gpus = Gpus::disabled();
        assert!(!gpus.available());
        assert_eq!(gpus.read().expect("disabled read"), Vec::new());
        assert_eq!(format!("{gpus:?}"), "Gpus { available: false }");
    }

    #[test]
    fn memory_percent() {
        let r = reading(0, None, Some((2_000, 8_000)), None);
        assert_eq!(r.memory_percent(), Some(25.0));
        assert_eq!(reading(0, None, Some((1, 0)), None).memory_percent(), None);
        assert_eq!(reading(0, None, None, None).memory_percent(), None);
        let half = GpuReading {
            memory_total_bytes: None,
            ..reading(0, None, Some((1, 2)), None)
        };
        assert_eq!(half.memory_percent(), None);
    }

    #[test]
    fn summarize_takes_max_per_field_and_skips_none() {
        let readings = [
            reading(0, Some(10.0), Some((6_000, 8_000)), Some(55.0)),
            reading(1, Some(80.0), None, Some(71.0)),
            reading(2, None, Some((1_000, 8_000)), None),
        ];
        assert_eq!(
            summarize(&readings),
            GpuSummary {
                encoder_percent: Some(80.0),     // GPU 1
                memory_percent: Some(75.0),      // GPU 0: 6000/8000
                temperature_celsius: Some(71.0), // GPU 1
            }
        );
    }

    #[test]
    fn summarize_all_none_or_empty_gives_none() {
        let none = GpuSummary::default();
        assert_eq!(summarize(&[]), none);
        assert_eq!(
            summarize(&[reading(0, None, None, None), reading(1, None, None, None)]),
            none
        );
    }
}
