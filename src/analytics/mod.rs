//! The analytics read side (spec "API Endpoints → Analytics", issue 5): one file per resource,
//! each with its answer model and its queries as plain async functions over a client.
//!
//! Every "today", "this week" and date filter is a day of the configured time zone
//! (decisions.md §3), turned into UTC bounds by [`crate::rollup::day_bounds`], so DST days
//! have their 23 or 25 hours. Functions take `now` so tests can pin the clock.

pub mod library_health;
pub mod overview;
pub mod period;
pub mod plays;
pub mod storage;
pub mod streams;
pub mod system;
pub mod transcodes;
pub mod trends;
pub mod users;
pub mod watch;

use serde::Serialize;

pub use crate::rollup::DailyStat;
pub use library_health::{LibraryHealth, LibraryHealthReport};
pub use overview::AnalyticsOverview;
pub use storage::{StorageInfo, StorageSummary};
pub use streams::{StreamList, StreamSession, StreamTypeBreakdown};
pub use system::{SystemHistory, SystemMetric, SystemSnapshots};
pub use transcodes::TranscodeStats;
pub use trends::Trends;
pub use users::{UserActivityList, UserActivitySummary};
pub use watch::{WatchActivityEntry, WatchActivityPage};

/// What every query here fails with; the HTTP layer maps it (503 when the database is away,
/// 503 on a statement timeout, 500 otherwise).
pub type DbResult<T> = Result<T, tokio_postgres::Error>;

/// A label and how often it occurs (codecs, resolutions, accelerators, ...).
#[derive(Serialize, utoipa::ToSchema, Debug, Clone, PartialEq, Eq)]
pub struct NameCount {
    pub name: String,
    pub count: i64,
}

impl NameCount {
    pub fn new(name: impl Into<String>, count: i64) -> Self {
        Self {
            name: name.into(),
            count,
        }
    }
}

/// `part` as a percentage of `whole`, rounded to two decimals; 0 when `whole` is 0.
pub fn percent(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        return 0.0;
    }
    round2(part as f64 * 100.0 / whole as f64)
}

/// Rounded to two decimals (answers stay short; readings are not more precise than that).
pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Largest first, then by name, so equal counts always come in the same order.
pub fn sort_by_count(list: &mut [NameCount]) {
    list.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_rounded_and_safe_on_zero() {
        assert_eq!(percent(1, 3), 33.33);
        assert_eq!(percent(2, 3), 66.67);
        assert_eq!(percent(5, 5), 100.0);
        assert_eq!(percent(3, 0), 0.0);
        assert_eq!(round2(12.345_6), 12.35);
    }

    #[test]
    fn counts_sort_largest_first_then_by_name() {
        let mut v = vec![
            NameCount::new("b", 2),
            NameCount::new("c", 5),
            NameCount::new("a", 2),
        ];
        sort_by_count(&mut v);
        let names: Vec<_> = v.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["c", "a", "b"]);
    }
}
