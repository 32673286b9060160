//! Days of the configured time zone (decisions.md §3): where a day starts and ends in UTC,
//! which day "yesterday" is, and when the nightly run is due. A DST day has 23 or 25 hours;
//! a local time that a transition skips resolves to the first instant after it that exists,
//! and one that a transition repeats resolves to its first occurrence.

use chrono::{
    DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;

/// The nightly run's local time of day.
pub const RUN_AT: NaiveTime = match NaiveTime::from_hms_opt(0, 5, 0) {
    Some(t) => t,
    None => panic!("00:05 is a time"),
};

/// `[start, end)` of local day `day` in UTC: from the first instant of `day` to the first
/// instant of the next day. Usually local midnight to local midnight; where a transition
/// skips midnight (America/Santiago in September) the day starts when the clocks land on it.
/// A day that a zone skipped entirely (Pacific/Apia, 2011-12-30) is empty: `start == end`.
pub fn day_bounds(tz: Tz, day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let next = day.succ_opt().unwrap_or(day);
    (day_start(tz, day), day_start(tz, next))
}

/// The first instant of local day `day`, in UTC.
pub fn day_start(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    resolve_local(tz, day.and_time(NaiveTime::MIN))
}

/// The local day before the one `now` falls on.
pub fn yesterday(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    let today = now.with_timezone(&tz).date_naive();
    today.pred_opt().unwrap_or(today)
}

/// The next 00:05 local time strictly after `now`. Where 00:05 does not exist that day the
/// run is at the first instant after it that does; where it occurs twice, at the first.
pub fn next_run_after(tz: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
    let today = now.with_timezone(&tz).date_naive();
    // Yesterday's 00:05 can lie after `now` only around folds that cross midnight; trying it
    // first costs nothing and keeps the answer the earliest one.
    let mut day = today.pred_opt().unwrap_or(today);
    loop {
        let at = resolve_local(tz, day.and_time(RUN_AT));
        if at > now {
            return at;
        }
        match day.checked_add_days(Days::new(1)) {
            Some(d) => day = d,
            None => return at,
        }
    }
}

/// The UTC instant of local time `local`: the earlier one when a fold repeats it, the first
/// instant whose local time is at or after it when a gap skips it.
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(earliest, _) => earliest.with_timezone(&Utc),
        LocalResult::None => first_at_or_after(tz, local),
    }
}

/// The first instant whose local time is at or after `local`, by bisection over whole
/// seconds (transitions fall on whole seconds). UTC offsets stay within ±26 hours, so the
/// answer lies within 30 hours of `local` read as UTC; local time only moves forward there
/// except at folds, which `resolve_local` handles before calling this.
fn first_at_or_after(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    const SPAN: i64 = 30 * 3600;
    let target = local.and_utc().timestamp();
    let local_at = |secs: i64| {
        DateTime::from_timestamp(secs, 0)
            .map(|t| t.with_timezone(&tz).naive_local())
            .unwrap_or(local)
    };
    let (mut lo, mut hi) = (target - SPAN, target + SPAN);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if local_at(mid) >= local {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    DateTime::from_timestamp(hi, 0).unwrap_or_else(|| local.and_utc())
}

/// Days from `from` to `to`, both included (empty when `from > to`).
pub fn days_between(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days().take_while(|d| *d <= to).collect()
}

/// A stable number for a date (days since 0001-01-01 CE); used for per-day lock keys.
pub fn day_number(day: NaiveDate) -> i64 {
    i64::from(day.num_days_from_ce())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("rfc3339")
            .with_timezone(&Utc)
    }

    fn hours(tz: Tz, day: &str) -> i64 {
        let (a, b) = day_bounds(tz, d(day));
        (b - a).num_seconds() / 3600
    }

    #[test]
    fn utc_days_are_24_hours() {
        let (a, b) = day_bounds(Tz::UTC, d("2026-03-29"));
        assert_eq!(a, utc("2026-03-29T00:00:00Z"));
        assert_eq!(b, utc("2026-03-30T00:00:00Z"));
        assert_eq!(
            yesterday(Tz::UTC, utc("2026-03-01T00:00:00Z")),
            d("2026-02-28")
        );
        assert_eq!(
            yesterday(Tz::UTC, utc("2026-02-28T23:59:59Z")),
            d("2026-02-27")
        );
        assert_eq!(
            next_run_after(Tz::UTC, utc("2026-03-29T00:04:59Z")),
            utc("2026-03-29T00:05:00Z")
        );
        // Strictly after: a run at 00:05 sharp schedules tomorrow's.
        assert_eq!(
            next_run_after(Tz::UTC, utc("2026-03-29T00:05:00Z")),
            utc("2026-03-30T00:05:00Z")
        );
        // New year.
        assert_eq!(
            next_run_after(Tz::UTC, utc("2026-12-31T12:00:00Z")),
            utc("2027-01-01T00:05:00Z")
        );
    }

    #[test]
    fn berlin_spring_forward_day_has_23_hours() {
        let tz = chrono_tz::Europe::Berlin;
        let (a, b) = day_bounds(tz, d("2026-03-29"));
        assert_eq!(a, utc("2026-03-28T23:00:00Z")); // 00:00 CET
        assert_eq!(b, utc("2026-03-29T22:00:00Z")); // 00:00 CEST
        assert_eq!(hours(tz, "2026-03-29"), 23);
        assert_eq!(hours(tz, "2026-03-28"), 24);
        assert_eq!(hours(tz, "2026-03-30"), 24);
        // 21:59:59Z on the 29th is 23:59:59 CEST, still the 29th; 22:00Z is the 30th.
        assert_eq!(yesterday(tz, utc("2026-03-29T22:00:00Z")), d("2026-03-29"));
        assert_eq!(yesterday(tz, utc("2026-03-29T21:59:59Z")), d("2026-03-28"));
        // The night of the change: 00:05 CET is before the jump (02:00 -> 03:00).
        assert_eq!(
            next_run_after(tz, utc("2026-03-28T12:00:00Z")),
            utc("2026-03-28T23:05:00Z")
        );
        assert_eq!(
            next_run_after(tz, utc("2026-03-28T23:05:00Z")),
            utc("2026-03-29T22:05:00Z")
        );
    }

    #[test]
    fn berlin_fall_back_day_has_25_hours() {
        let tz = chrono_tz::Europe::Berlin;
        let (a, b) = day_bounds(tz, d("2026-10-25"));
        assert_eq!(a, utc("2026-10-24T22:00:00Z")); // 00:00 CEST
        assert_eq!(b, utc("2026-10-25T23:00:00Z")); // 00:00 CET
        assert_eq!(hours(tz, "2026-10-25"), 25);
        assert_eq!(hours(tz, "2026-10-24"), 24);
        assert_eq!(hours(tz, "2026-10-26"), 24);
        // 02:30Z is 03:30 CET on the 25th; both 02:30s (00:30Z, 01:30Z) are the 25th too.
        for t in [
            "2026-10-25T00:30:00Z",
            "2026-10-25T01:30:00Z",
            "2026-10-25T02:30:00Z",
        ] {
            assert_eq!(yesterday(tz, utc(t)), d("2026-10-24"), "{t}");
        }
        assert_eq!(
            next_run_after(tz, utc("2026-10-24T22:05:00Z")),
            utc("2026-10-25T23:05:00Z")
        );
        assert_eq!(
            next_run_after(tz, utc("2026-10-25T12:00:00Z")),
            utc("2026-10-25T23:05:00Z")
        );
    }

    #[test]
    fn santiago_skips_midnight_in_spring() {
        let tz = chrono_tz::America::Santiago;
        // 2026-09-06: clocks go from 24:00 (-04) to 01:00 (-03); midnight does not exist.
        let (a, b) = day_bounds(tz, d("2026-09-06"));
        assert_eq!(a, utc("2026-09-06T04:00:00Z")); // 01:00 -03, the first instant of the day
        assert_eq!(b, utc("2026-09-07T03:00:00Z")); // 00:00 -03
        assert_eq!(hours(tz, "2026-09-06"), 23);
        // The day before ends where this one starts.
        assert_eq!(day_bounds(tz, d("2026-09-05")).1, a);
        assert_eq!(hours(tz, "2026-09-05"), 24);
        // 00:05 does not exist either: the run is at the first instant after it, 01:00.
        assert_eq!(
            next_run_after(tz, utc("2026-09-05T12:00:00Z")),
            utc("2026-09-06T04:00:00Z")
        );
        assert_eq!(
            next_run_after(tz, utc("2026-09-06T04:00:00Z")),
            utc("2026-09-07T03:05:00Z")
        );
        // 2026-04-05: 24:00 (-03) goes back to 23:00 (-04); Saturday the 4th has 25 hours.
        assert_eq!(hours(tz, "2026-04-04"), 25);
        assert_eq!(
            day_bounds(tz, d("2026-04-05")).0,
            utc("2026-04-05T04:00:00Z")
        );
    }

    #[test]
    fn a_repeated_midnight_starts_the_day_at_its_first_occurrence() {
        // Havana falls back from 01:00 to 00:00: midnight of 2026-11-01 happens twice.
        let tz = chrono_tz::America::Havana;
        let (a, b) = day_bounds(tz, d("2026-11-01"));
        assert_eq!(a, utc("2026-11-01T04:00:00Z")); // 00:00 -04
        assert_eq!(b, utc("2026-11-02T05:00:00Z")); // 00:00 -05
        assert_eq!(hours(tz, "2026-11-01"), 25);
        assert_eq!(hours(tz, "2026-10-31"), 24);
        // 00:05 repeats too; the run is at its first occurrence.
        assert_eq!(
            next_run_after(tz, utc("2026-10-31T12:00:00Z")),
            utc("2026-11-01T04:05:00Z")
        );
    }

    #[test]
    fn a_skipped_day_is_empty() {
        // Samoa moved across the date line: 2011-12-29 was followed by 2011-12-31.
        let tz = chrono_tz::Pacific::Apia;
        let (a, b) = day_bounds(tz, d("2011-12-30"));
        assert_eq!(a, b);
        assert_eq!(day_bounds(tz, d("2011-12-29")).1, a);
        assert_eq!(day_bounds(tz, d("2011-12-31")).0, a);
    }

    #[test]
    fn days_are_contiguous_through_a_whole_year() {
        for tz in [
            chrono_tz::Europe::Berlin,
            chrono_tz::America::Santiago,
            chrono_tz::America::New_York,
            chrono_tz::Australia::Lord_Howe,
            chrono_tz::Asia::Kolkata,
            Tz::UTC,
        ] {
            let mut day = d("2026-01-01");
            while day.year() == 2026 {
                let (a, b) = day_bounds(tz, day);
                let h = (b - a).num_minutes();
                assert!((22 * 60..=26 * 60).contains(&h), "{tz} {day}: {h} min");
                assert_eq!(b, day_bounds(tz, day.succ_opt().unwrap()).0);
                // Every instant of the day lies on it, and the run is inside the next day.
                assert_eq!(a.with_timezone(&tz).date_naive(), day, "{tz} {day}");
                assert_eq!(
                    (b - Duration::seconds(1)).with_timezone(&tz).date_naive(),
                    day
                );
                assert_eq!(yesterday(tz, b), day);
                // The nightly run falls on the day (at its start where 00:05 was skipped).
                let run = next_run_after(tz, a - Duration::seconds(1));
                assert!(run >= a && run < b, "{tz} {day}: run {run}");
                day = day.succ_opt().unwrap();
            }
        }
    }

    #[test]
    fn day_ranges_and_numbers() {
        assert_eq!(
            days_between(d("2026-02-27"), d("2026-03-01")),
            vec![d("2026-02-27"), d("2026-02-28"), d("2026-03-01")]
        );
        assert!(days_between(d("2026-03-02"), d("2026-03-01")).is_empty());
        assert_eq!(day_number(d("2026-03-02")) - day_number(d("2026-03-01")), 1);
    }
}
