//! The schema steps, in order, embedded in the binary. Each is written to be safe to run on a
//! database that already has some of what it creates (CineVault's own 025 tables, or a
//! database made by the sidecar's first release), and is recorded once applied.

use super::Kind;

pub struct Step {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
    /// `Some(kind)`: only on that kind of database (the standalone core tables are never
    /// created in CineVault's database).
    pub only: Option<Kind>,
}

macro_rules! step {
    ($version:expr, $name:literal, $only:expr) => {
        Step {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../../../migrations/", $name, ".sql")),
            only: $only,
        }
    };
}

pub const STEPS: &[Step] = &[
    step!(1, "001_standalone_core", Some(Kind::Standalone)),
    step!(2, "002_standalone_rename", Some(Kind::Standalone)),
    step!(25, "025_server_analytics", None),
    step!(26, "026_delete_rules", None),
    step!(27, "027_sidecar_additions", None),
    step!(28, "028_alerting", None),
    step!(29, "029_plays", None),
    step!(30, "030_activity_summaries", None),
];

/// The steps a database of `kind` needs.
pub fn for_kind(kind: Kind) -> impl Iterator<Item = &'static Step> {
    STEPS
        .iter()
        .filter(move |s| s.only.map_or(true, |k| k == kind))
}

/// FNV-1a of the step's text: a changed step is noticed (and logged) on the next start.
pub fn checksum(sql: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in sql.bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_ascend_and_cinevault_databases_skip_the_core_tables() {
        let versions: Vec<i32> = STEPS.iter().map(|s| s.version).collect();
        let mut sorted = versions.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(versions, sorted);
        let cinevault: Vec<&str> = for_kind(Kind::Cinevault).map(|s| s.name).collect();
        assert!(!cinevault.iter().any(|n| n.contains("standalone")));
        assert_eq!(for_kind(Kind::Standalone).count(), STEPS.len());
    }

    #[test]
    fn no_step_creates_a_trigger_or_core_table_outside_standalone() {
        for step in for_kind(Kind::Cinevault) {
            let sql = step.sql.to_lowercase();
            assert!(!sql.contains("create trigger"), "{}", step.name);
            for core in ["users", "libraries", "media_items", "tags", "media_tags"] {
                assert!(
                    !sql.contains(&format!("create table if not exists {core} "))
                        && !sql.contains(&format!("create table {core} ")),
                    "{} creates {core}",
                    step.name
                );
            }
        }
    }
}
