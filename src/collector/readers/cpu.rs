//! CPU busy percent over all cores, from the aggregate `cpu` line of `<proc_root>/stat`.
//!
//! The kernel only exposes cumulative jiffies since boot, so a percentage needs two readings;
//! [`CpuSampler`] keeps the previous one between collector ticks.
//!
//! Parsing goes through procfs's `KernelStats`, read from an arbitrary file with its
//! `FromReadSI::from_file`: that only needs a `SystemInfo` for tick-to-time conversions we never
//! use (we stay in raw jiffies), so a fixed `ExplicitSystemInfo` is enough and the same code
//! reads the live `/proc` and the fixtures.

use std::path::{Path, PathBuf};

use anyhow::Context;
use procfs::{ExplicitSystemInfo, FromReadSI, KernelStats};

/// Cumulative jiffies of the aggregate `cpu` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTimes {
    /// user + nice + system + irq + softirq + steal. Guest time is already counted inside
    /// user/nice by the kernel, so adding guest/guest_nice would count it twice.
    pub busy: u64,
    /// busy + idle + iowait.
    pub total: u64,
}

/// Only `ticks_per_second` is consulted while parsing, and only to store it; the values are
/// placeholders that never reach our numbers.
const SYSTEM_INFO: ExplicitSystemInfo = ExplicitSystemInfo {
    boot_time_secs: 0,
    ticks_per_second: 100,
    page_size: 4096,
    is_little_endian: cfg!(target_endian = "little"),
};

/// Reads the aggregate CPU times from `<proc_root>/stat`.
pub fn read_cpu_times(proc_root: &Path) -> anyhow::Result<CpuTimes> {
    let path = proc_root.join("stat");
    let stats = KernelStats::from_file(&path, &SYSTEM_INFO)
        .with_context(|| format!("reading CPU times from {}", path.display()))?;
    let t = &stats.total;
    // Fields a very old kernel lacks count as zero rather than failing the reading.
    let busy = t.user
        + t.nice
        + t.system
        + t.irq.unwrap_or(0)
        + t.softirq.unwrap_or(0)
        + t.steal.unwrap_or(0);
    let idle = t.idle + t.iowait.unwrap_or(0);
    Ok(CpuTimes {
        busy,
        total: busy + idle,
    })
}

/// Percent busy between two readings, 0..=100; None when total did not advance.
///
/// Also None when a counter went backwards (a reboot, or a restored container between
/// readings): there is no meaningful delta then, and the next reading starts afresh.
pub fn cpu_percent(prev: &CpuTimes, now: &CpuTimes) -> Option<f64> {
    let total = now.total.checked_sub(prev.total).filter(|&d| d > 0)?;
    let busy = now.busy.checked_sub(prev.busy)?;
    // iowait may decrease (see proc(5)), which can leave busy ahead of total: clamp.
    Some((busy as f64 / total as f64 * 100.0).clamp(0.0, 100.0))
}

/// Turns successive readings of one `/proc` root into percentages.
#[derive(Debug)]
pub struct CpuSampler {
    proc_root: PathBuf,
    prev: Option<CpuTimes>,
}

impl CpuSampler {
    pub fn new(proc_root: PathBuf) -> Self {
        Self {
            proc_root,
            prev: None,
        }
    }

    /// Reads now; returns the percent since the previous successful reading (None on the first call).
    ///
    /// A failed reading keeps the previous one, so the next success still yields a percent.
    pub fn sample(&mut self) -> anyhow::Result<Option<f64>> {
        let now = read_cpu_times(&self.proc_root)?;
        let percent = self.prev.and_then(|prev| cpu_percent(&prev, &now));
        self.prev = Some(now);
        Ok(percent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::readers::fixture_root;

    #[test]
    fn fixture_snapshots_give_hand_computed_times_and_percent() {
        let a = read_cpu_times(&fixture_root("a")).expect("fixture a");
        let b = read_cpu_times(&fixture_root("b")).expect("fixture b");
        // a: busy 1000+50+400+0+30+20 = 1500, idle 8000+200 = 8200 (guest 50 not added).
        assert_eq!(
            a,
            CpuTimes {
                busy: 1500,
                total: 9700
            }
        );
        // b: busy 1300+50+550+10+40+50 = 2000, idle 9200+500 = 9700 (guest 250 not added).
        assert_eq!(
            b,
            CpuTimes {
                busy: 2000,
                total: 11700
            }
        );
        // 500 busy jiffies out of 2000: 25 %. Counting guest would give 700/2200 = 31.8 %.
        assert_eq!(cpu_percent(&a, &b), Some(25.0));
    }

    #[test]
    fn counter_going_backwards_gives_none() {
        let a = read_cpu_times(&fixture_root("a")).expect("fixture a");
        let b = read_cpu_times(&fixture_root("b")).expect("fixture b");
        assert_eq!(cpu_percent(&b, &a), None);
        assert_eq!(cpu_percent(&a, &a), None, "total did not advance");
        // Total advanced but busy went back: still no meaningful delta.
        let odd = CpuTimes {
            busy: 1000,
            total: 20_000,
        };
        assert_eq!(cpu_percent(&a, &odd), None);
    }

    #[test]
    fn percent_is_clamped_to_100() {
        let prev = CpuTimes {
            busy: 100,
            total: 1000,
        };
        let now = CpuTimes {
            busy: 300,
            total: 1100,
        };
        assert_eq!(cpu_percent(&prev, &now), Some(100.0));
    }

    #[test]
    fn sampler_over_live_proc_gives_none_then_a_percent() {
        let mut sampler = CpuSampler::new(PathBuf::from("/proc"));
        assert_eq!(sampler.sample().expect("first sample"), None);
        // Jiffies advance every 1-10 ms; wait long enough that total surely moved.
        std::thread::sleep(std::time::Duration::from_millis(100));
        let v = sampler
            .sample()
            .expect("second sample")
            .expect("a percent after the first reading");
        assert!((0.0..=100.0).contains(&v), "{v}");
    }

    #[test]
    fn missing_file_error_names_the_path() {
        let root = fixture_root("does-not-exist");
        let err = read_cpu_times(&root).expect_err("no such file");
        let msg = format!("{err:#}");
        assert!(
            msg.contains(&root.join("stat").display().to_string()),
            "{msg}"
        );
        let mut sampler = CpuSampler::new(root);
        assert!(sampler.sample().is_err());
    }
}
