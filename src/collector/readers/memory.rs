//! Memory use from `<proc_root>/meminfo`, parsed by procfs's `Meminfo` (`FromRead::from_file`).
//!
//! "Used" is MemTotal - MemAvailable, the same as `free`'s "used" on current kernels: page cache
//! the kernel can drop is not counted, so a media server with a full cache does not look full.

use std::path::Path;

use anyhow::Context;
use procfs::{FromRead, Meminfo};

/// Sizes in bytes (procfs converts the file's `kB`, which are KiB, to bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    pub total_bytes: u64,
    pub available_bytes: u64,
}

impl Memory {
    /// total - available, saturating (available can exceed total briefly on some kernels).
    pub fn used_bytes(&self) -> u64 {
        self.total_bytes.saturating_sub(self.available_bytes)
    }

    /// (MemTotal - MemAvailable) / MemTotal * 100; 0 when total is 0 rather than NaN.
    pub fn used_percent(&self) -> f64 {
        if self.total_bytes == 0 {
            return 0.0;
        }
        self.used_bytes() as f64 / self.total_bytes as f64 * 100.0
    }

    /// used_bytes in MiB, saturating into i32 (the database column is an INTEGER).
    pub fn used_mib(&self) -> i32 {
        i32::try_from(self.used_bytes() / 1_048_576).unwrap_or(i32::MAX)
    }
}

/// Reads `<proc_root>/meminfo`.
pub fn read_memory(proc_root: &Path) -> anyhow::Result<Memory> {
    let path = proc_root.join("meminfo");
    let info = Meminfo::from_file(&path)
        .with_context(|| format!("reading memory from {}", path.display()))?;
    // MemAvailable appeared in Linux 3.14; before that, free + buffers + cache is the usual
    // estimate of what could be reclaimed.
    let available = info
        .mem_available
        .unwrap_or(info.mem_free + info.buffers + info.cached);
    Ok(Memory {
        total_bytes: info.mem_total,
        available_bytes: available,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::readers::fixture_root;

    #[test]
    fn fixture_gives_exact_numbers() {
        let m = read_memory(&fixture_root("a")).expect("fixture a");
        // MemTotal 16384000 kB, MemAvailable 4096000 kB.
        assert_eq!(m.total_bytes, 16_384_000 * 1024);
        assert_eq!(m.available_bytes, 4_096_000 * 1024);
        assert_eq!(m.used_bytes(), 12_288_000 * 1024);
        assert_eq!(m.used_percent(), 75.0);
        assert_eq!(m.used_mib(), 12_000); // 12288000 KiB / 1024
    }

    #[test]
    fn missing_memavailable_falls_back_to_free_buffers_cached() {
        let m = read_memory(&fixture_root("no_memavailable")).expect("fixture");
        // MemFree 1024000 + Buffers 102400 + Cached 921600 = 2048000 kB of 8192000 kB.
        assert_eq!(m.available_bytes, 2_048_000 * 1024);
        assert_eq!(m.used_percent(), 75.0);
        assert_eq!(m.used_mib(), 6_000);
    }

    #[test]
    fn used_saturates() {
        let m = Memory {
            total_bytes: 10,
            available_bytes: 20,
        };
        assert_eq!(m.used_bytes(), 0);
        assert_eq!(m.used_percent(), 0.0);
        let huge = Memory {
            total_bytes: u64::MAX,
            available_bytes: 0,
        };
        assert_eq!(huge.used_mib(), i32::MAX);
        assert_eq!(
            Memory {
                total_bytes: 0,
                available_bytes: 0
            }
            .used_percent(),
            0.0
        );
    }

    #[test]
    fn live_proc_matches_memtotal_line() {
        let m = read_memory(Path::new("/proc")).expect("live /proc/meminfo");
        let text = std::fs::read_to_string("/proc/meminfo").expect("read /proc/meminfo");
        let kb: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|n| n.trim().parse().ok())
            .expect("a MemTotal line in kB");
        assert_eq!(m.total_bytes, kb * 1024);
        let p = m.used_percent();
        assert!(p > 0.0 && p < 100.0, "{p}");
    }

    #[test]
    fn missing_file_error_names_the_path() {
        let root = fixture_root("does-not-exist");
        let msg = format!("{:#}", read_memory(&root).expect_err("no such file"));
        assert!(
            msg.contains(&root.join("meminfo").display().to_string()),
            "{msg}"
        );
    }
}
