//! Every advisory lock key the sidecar takes, in one place so no two workers ever share one
//! by mistake. With several replicas on one database each of these jobs runs on one replica
//! at a time; the rollup's per-day keys are `rollup::day_lock_key`, in a range of their own.

/// Schema changes at start-up (session lock).
pub const SCHEMA: i64 = 0x0c1e_7a01_0000_0001;
/// The stale-session and stale-transcode reaper.
pub const REAPER: i64 = 0x0c1e_7a01_0000_0002;
/// The system_metrics retention purge.
pub const PURGE: i64 = 0x0c1e_7a01_0000_0003;
/// Folding and recomputing the per-user summaries.
pub const SUMMARIES: i64 = 0x0c1e_7a01_0000_0005;
/// The alert evaluator.
pub const EVALUATOR: i64 = 0x0c1e_7a01_0000_0006;
/// Writing back daily_stats rows CineVault's rollup overwrote.
pub const RESTORE: i64 = 0x0c1e_7a01_0000_0007;
/// Grouping CineVault's rows into plays.
pub const PLAYS: i64 = 0x0c1e_7a01_0000_0008;

pub const ALL: [i64; 7] = [SCHEMA, REAPER, PURGE, SUMMARIES, EVALUATOR, RESTORE, PLAYS];

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_is_distinct_and_apart_from_the_rollups_days() {
        let mut keys = super::ALL.to_vec();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), super::ALL.len());
        let first_day = crate::rollup::day_lock_key(chrono::NaiveDate::MIN);
        assert!(keys.iter().all(|k| *k < first_day));
    }
}
