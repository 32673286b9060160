//! The pure host-reading layer of the system-metrics collector.
//!
//! Each reader takes the place to read from (a `/proc` root, a mount path) as an argument, so
//! the tests can point it at fixture files under `tests/fixtures/proc/` and get hand-checkable
//! numbers, and nothing here keeps state beyond what a delta needs ([`CpuSampler`]) or what is
//! costly to set up once ([`Gpus`]). Scheduling, storage and error counting belong to the caller.

pub mod cpu;
pub mod disk;
pub mod gpu;
pub mod memory;

pub use cpu::{cpu_percent, read_cpu_times, CpuSampler, CpuTimes};
pub use disk::{read_disk, Disk};
pub use gpu::{summarize, GpuReading, GpuSummary, Gpus};
pub use memory::{read_memory, Memory};

/// A fixture `/proc` root under `tests/fixtures/proc/`, found from the crate root so the tests
/// pass whatever directory `cargo test` runs them from.
#[cfg(test)]
pub(crate) fn fixture_root(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/proc")
        .join(name)
}
