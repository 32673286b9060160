//! Disk space of the filesystem holding a path (the media library), from `statvfs(3)`.
//!
//! Sizes use the fragment size (`f_frsize`), the unit `f_blocks`/`f_bfree`/`f_bavail` are counted
//! in, which is also what `df` multiplies by.

use std::path::Path;

use anyhow::Context;
use nix::sys::statvfs::statvfs;

const GB: f64 = 1e9;

/// Filesystem sizes in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disk {
    pub total_bytes: u64,
    /// Free blocks, including those reserved for root.
    pub free_bytes: u64,
    /// Free blocks an unprivileged user (the media server) can actually write.
    pub available_bytes: u64,
}

impl Disk {
    /// total - free: what `df` shows as Used (root-reserved blocks are not "used").
    pub fn used_bytes(&self) -> u64 {
        self.total_bytes.saturating_sub(self.free_bytes)
    }

    /// Decimal GB, as disk vendors and dashboards count.
    pub fn total_gb(&self) -> f64 {
        self.total_bytes as f64 / GB
    }

    pub fn used_gb(&self) -> f64 {
        self.used_bytes() as f64 / GB
    }

    /// Space available to unprivileged users, so "free" means room for new media.
    pub fn free_gb(&self) -> f64 {
        self.available_bytes as f64 / GB
    }
}

/// `statvfs` of `path`; the error names the path.
pub fn read_disk(path: &Path) -> anyhow::Result<Disk> {
    let st = statvfs(path).with_context(|| format!("statvfs of {}", path.display()))?;
    // The libc field types differ between targets (u32 or u64), hence the casts; they never
    // exceed u64. Saturate the products: a corrupt answer must not panic the collector.
    let (frsize, blocks, bfree, bavail) = (
        st.fragment_size() as u64,
        st.blocks() as u64,
        st.blocks_free() as u64,
        st.blocks_available() as u64,
    );
    Ok(Disk {
        total_bytes: blocks.saturating_mul(frsize),
        free_bytes: bfree.saturating_mul(frsize),
        available_bytes: bavail.saturating_mul(frsize),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn root_agrees_with_df() {
        let disk = read_disk(Path::new("/")).expect("statvfs /");
        let out = Command::new("df")
            .args(["-B1", "--output=size,avail", "/"])
            .output()
            .expect("run df");
        assert!(out.status.success(), "df failed: {out:?}");
        let text = String::from_utf8(out.stdout).expect("df output is UTF-8");
        let nums: Vec<u64> = text
            .lines()
            .nth(1)
            .expect("a data line after the header")
            .split_whitespace()
            .map(|n| n.parse().expect("a number"))
            .collect();
        let (size, avail) = (nums[0], nums[1]);
        assert_eq!(disk.total_bytes, size);
        // Other processes write between the two calls: allow 1 % of the size.
        let diff = disk.available_bytes.abs_diff(avail);
        assert!(
            diff <= size / 100,
            "statvfs {} vs df {avail}",
            disk.available_bytes
        );
        assert!(disk.free_bytes >= disk.available_bytes);
        assert!(disk.used_bytes() <= disk.total_bytes);
    }

    #[test]
    fn gb_are_decimal() {
        let d = Disk {
            total_bytes: 4_000_000_000,
            free_bytes: 1_500_000_000,
            available_bytes: 1_000_000_000,
        };
        assert_eq!(d.used_bytes(), 2_500_000_000);
        assert_eq!(d.total_gb(), 4.0);
        assert_eq!(d.used_gb(), 2.5);
        assert_eq!(d.free_gb(), 1.0);
    }

    #[test]
    fn missing_path_error_names_it() {
        let path = Path::new("/definitely/not/here/cinevault-media");
        let msg = format!("{:#}", read_disk(path).expect_err("no such path"));
        assert!(
            msg.contains("/definitely/not/here/cinevault-media"),
            "{msg}"
        );
    }
}
