//! Periods the endpoints ask about, as UTC bounds of days of the configured zone: today, this
//! ISO week, the last N days, an inclusive range of dates. Parameter limits live here too.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::rollup::{day_bounds, day_start};

/// `?days=` when absent (`streams/breakdown`, `transcodes`).
pub const DEFAULT_DAYS: u32 = 30;
/// `?days=` above this is treated as this (ten years; more would only scan further back).
pub const MAX_DAYS: u32 = 3660;
/// `system/history?hours=` when absent, and its ceiling (larger values are clamped).
pub const DEFAULT_HOURS: u32 = 24;
pub const MAX_HOURS: u32 = 168;
/// `trends` covers this many days, ending today, when `from` is absent.
pub const DEFAULT_TREND_DAYS: u64 = 30;

/// The local day `now` falls on.
pub fn today(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// The Monday of `day`'s ISO week.
pub fn week_monday(day: NaiveDate) -> NaiveDate {
    let back = u64::from(day.weekday().num_days_from_monday());
    day.checked_sub_days(Days::new(back)).unwrap_or(day)
}

/// `[start, end)` of today in UTC.
pub fn today_bounds(tz: Tz, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    day_bounds(tz, today(tz, now))
}

/// `[start, end)` of the ISO week (Monday first) `now` falls in, in UTC.
pub fn week_bounds(tz: Tz, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let monday = week_monday(today(tz, now));
    let next = monday.checked_add_days(Days::new(7)).unwrap_or(monday);
    (day_start(tz, monday), day_start(tz, next))
}

/// The start of "the last `days` days": today counts as the first, so `days = 1` is today
/// and `days = 30` starts at midnight 29 days ago.
pub fn last_days_start(tz: Tz, now: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    let back = u64::from(days.max(1) - 1);
    let first = today(tz, now)
        .checked_sub_days(Days::new(back))
        .unwrap_or(NaiveDate::MIN);
    day_start(tz, first)
}

/// UTC bounds `[start, end)` of inclusive local dates `from..=to`; either side may be open.
pub fn date_range(
    tz: Tz,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    (
        from.map(|d| day_start(tz, d)),
        to.map(|d| day_bounds(tz, d).1),
    )
}

/// `trends`' default range: the `DEFAULT_TREND_DAYS` days ending `to` (default today).
pub fn trend_range(
    tz: Tz,
    now: DateTime<Utc>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> (NaiveDate, NaiveDate) {
    let to = to.unwrap_or_else(|| today(tz, now));
    let from = from.unwrap_or_else(|| {
        to.checked_sub_days(Days::new(DEFAULT_TREND_DAYS - 1))
            .unwrap_or(NaiveDate::MIN)
    });
    (from, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BERLIN: Tz = chrono_tz::Europe::Berlin;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("rfc3339")
            .with_timezone(&Utc)
    }

    #[test]
    fn today_follows_the_zone_not_utc() {
        // 23:30Z on the 9th is 00:30 on the 10th in Berlin (CET, +1).
        let now = utc("2026-02-09T23:30:00Z");
        assert_eq!(today(BERLIN, now), d("2026-02-10"));
        assert_eq!(
            today_bounds(BERLIN, now),
            (utc("2026-02-09T23:00:00Z"), utc("2026-02-10T23:00:00Z"))
        );
    }

    #[test]
    fn weeks_start_on_monday() {
        assert_eq!(week_monday(d("2026-02-15")), d("2026-02-09")); // Sunday
        assert_eq!(week_monday(d("2026-02-09")), d("2026-02-09")); // Monday
                                                                   // The week holding the spring change has 167 hours.
        let (a, b) = week_bounds(BERLIN, utc("2026-03-29T12:00:00Z"));
        assert_eq!(a, utc("2026-03-22T23:00:00Z"));
        assert_eq!(b, utc("2026-03-29T22:00:00Z"));
        assert_eq!((b - a).num_hours(), 167);
    }

    #[test]
    fn last_days_count_today_as_the_first() {
        let now = utc("2026-02-10T12:00:00Z");
        assert_eq!(last_days_start(BERLIN, now, 1), utc("2026-02-09T23:00:00Z"));
        assert_eq!(last_days_start(BERLIN, now, 3), utc("2026-02-07T23:00:00Z"));
        assert_eq!(
            last_days_start(BERLIN, now, u32::MAX),
            day_start(BERLIN, NaiveDate::MIN)
        );
    }

    #[test]
    fn date_ranges_include_both_days() {
        let (a, b) = date_range(BERLIN, Some(d("2026-10-25")), Some(d("2026-10-25")));
        assert_eq!(a, Some(utc("2026-10-24T22:00:00Z")));
        assert_eq!(b, Some(utc("2026-10-25T23:00:00Z")));
        assert_eq!(date_range(BERLIN, None, None), (None, None));
    }

    #[test]
    fn trends_default_to_thirty_days_ending_today() {
        let now = utc("2026-02-10T12:00:00Z");
        assert_eq!(
            trend_range(BERLIN, now, None, None),
            (d("2026-01-12"), d("2026-02-10"))
        );
        assert_eq!(
            trend_range(BERLIN, now, None, Some(d("2026-01-31"))),
            (d("2026-01-02"), d("2026-01-31"))
        );
        assert_eq!(
            trend_range(BERLIN, now, Some(d("2025-12-01")), None),
            (d("2025-12-01"), d("2026-02-10"))
        );
    }
}
