//! The analytics endpoints' query parameters, checked at the edge: a refusal is a 400 naming
//! the parameter. Counts above their ceiling are clamped, not refused; below 1 is refused.
//! Unknown parameters are ignored (a dashboard may add a cache-buster).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use uuid::Uuid;

use crate::analytics::period::{self, DEFAULT_DAYS, DEFAULT_HOURS, MAX_DAYS, MAX_HOURS};
use crate::analytics::watch::{Cursor, WatchFilter, DEFAULT_LIMIT, MAX_LIMIT};
use crate::error::{AppError, AppResult};
use crate::http::extract::Date;
use crate::ingest::events::MediaType;

/// A whole number of at least 1, `default` when absent, at most `max` (clamped).
pub fn count_param(field: &str, value: Option<i64>, default: i64, max: i64) -> AppResult<i64> {
    match value {
        None => Ok(default),
        Some(v) if v < 1 => Err(AppError::bad_request(
            field,
            format!("must be at least 1 (got {v})"),
        )),
        Some(v) => Ok(v.min(max)),
    }
}

fn small(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// A free-text parameter; empty or blank counts as absent.
fn text(value: Option<String>) -> Option<String> {
    value.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn check_order(from: Option<NaiveDate>, to: Option<NaiveDate>, to_note: &str) -> AppResult<()> {
    match (from, to) {
        (Some(f), Some(t)) if f > t => Err(AppError::bad_request(
            "from",
            format!("from ({f}) is after to ({t}{to_note})"),
        )),
        _ => Ok(()),
    }
}

/// `?days=` (default 30, at most 3660).
#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DaysParams {
    pub days: Option<i64>,
}

impl DaysParams {
    pub fn days(&self) -> AppResult<u32> {
        count_param(
            "days",
            self.days,
            i64::from(DEFAULT_DAYS),
            i64::from(MAX_DAYS),
        )
        .map(small)
    }
}

/// `?host=`.
#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HostParams {
    pub host: Option<String>,
}

impl HostParams {
    pub fn host(self) -> Option<String> {
        text(self.host)
    }
}

/// `?hours=` (default 24, at most 168) and `?host=`.
#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    pub hours: Option<i64>,
    pub host: Option<String>,
}

impl HistoryParams {
    pub fn check(self) -> AppResult<(u32, Option<String>)> {
        let hours = count_param(
            "hours",
            self.hours,
            i64::from(DEFAULT_HOURS),
            i64::from(MAX_HOURS),
        )?;
        Ok((small(hours), text(self.host)))
    }
}

/// `?from=&to=` for `trends`: inclusive local dates, default the 30 days ending today.
#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendParams {
    pub from: Option<Date>,
    pub to: Option<Date>,
}

impl TrendParams {
    pub fn range(&self, tz: Tz, now: DateTime<Utc>) -> AppResult<(NaiveDate, NaiveDate)> {
        let (from, to) = (self.from.map(|d| d.0), self.to.map(|d| d.0));
        let (f, t) = period::trend_range(tz, now, from, to);
        let note = if to.is_none() { ", today" } else { "" };
        check_order(Some(f), Some(t), note)?;
        Ok((f, t))
    }
}

/// `watch-activity`'s filters, limit and cursor.
#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WatchParams {
    pub user_id: Option<Uuid>,
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub media_type: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl WatchParams {
    pub fn filter(self, tz: Tz) -> AppResult<WatchFilter> {
        let limit = count_param("limit", self.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
        let (from_day, to_day) = (self.from.map(|d| d.0), self.to.map(|d| d.0));
        check_order(from_day, to_day, "")?;
        let after = match text(self.cursor) {
            None => None,
            Some(c) => Some(Cursor::decode(&c).ok_or_else(|| {
                AppError::bad_request(
                    "cursor",
                    "not a cursor this endpoint gave out; pass next_cursor unchanged",
                )
            })?),
        };
        let (from, to) = period::date_range(tz, from_day, to_day);
        let media_type = match text(self.media_type) {
            None => None,
            Some(t) => Some(media_type(&t)?.as_str().to_owned()),
        };
        Ok(WatchFilter {
            user_id: self.user_id,
            from,
            to,
            media_type,
            after,
            limit,
        })
    }
}

/// A media type by CineVault's name (movies, tv_shows, ...) or one of the names the ingest API
/// accepts for it (movie, episode, ...); anything else is refused, naming the choices.
fn media_type(s: &str) -> AppResult<MediaType> {
    serde_json::from_value(serde_json::Value::String(s.trim().to_owned())).map_err(|_| {
        let names: Vec<&str> = MediaType::ALL.iter().map(|t| t.as_str()).collect();
        AppError::bad_request(
            "media_type",
            format!("'{s}' is not a media type; one of {}", names.join(", ")),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::extract::parse_query;

    #[test]
    fn media_types_are_cinevaults_with_their_other_names() {
        let tz = chrono_tz::Europe::Berlin;
        for (q, want) in [
            ("media_type=tv_shows", "tv_shows"),
            ("media_type=episode", "tv_shows"),
            ("media_type=%20movie%20", "movies"),
        ] {
            let f = parse_query::<WatchParams>(q)
                .expect("parses")
                .filter(tz)
                .expect("filter");
            assert_eq!(f.media_type.as_deref(), Some(want), "{q}");
        }
        let bad = parse_query::<WatchParams>("media_type=podcasts")
            .expect("parses")
            .filter(tz);
        assert_eq!(field_of(bad).as_deref(), Some("media_type"));
    }

    fn field_of<T>(r: AppResult<T>) -> Option<String> {
        r.err().and_then(|e| e.field)
    }

    #[test]
    fn counts_default_clamp_and_refuse_below_one() {
        assert_eq!(count_param("days", None, 30, 3660).ok(), Some(30));
        assert_eq!(count_param("days", Some(7), 30, 3660).ok(), Some(7));
        assert_eq!(count_param("hours", Some(1000), 24, 168).ok(), Some(168));
        assert_eq!(
            field_of(count_param("hours", Some(0), 24, 168)).as_deref(),
            Some("hours")
        );
        assert_eq!(
            field_of(count_param("days", Some(-3), 30, 3660)).as_deref(),
            Some("days")
        );
    }

    #[test]
    fn bad_values_name_their_parameter() {
        let cases = [
            ("days=abc", "days"),
            ("days=1.5", "days"),
            ("days=", "days"),
        ];
        for (q, field) in cases {
            let r = parse_query::<DaysParams>(q);
            assert_eq!(field_of(r).as_deref(), Some(field), "{q}");
        }
        for (q, field) in [
            ("from=2026-13-01", "from"),
            ("to=yesterday", "to"),
            ("user_id=42", "user_id"),
            ("limit=ten", "limit"),
        ] {
            let r = parse_query::<WatchParams>(q);
            assert_eq!(field_of(r).as_deref(), Some(field), "{q}");
        }
        let tz = chrono_tz::Europe::Berlin;
        let p = parse_query::<WatchParams>("from=2026-02-10&to=2026-02-01").expect("parses");
        assert_eq!(field_of(p.filter(tz)).as_deref(), Some("from"));
        let p = parse_query::<WatchParams>("cursor=nope").expect("parses");
        assert_eq!(field_of(p.filter(tz)).as_deref(), Some("cursor"));
        let p = parse_query::<WatchParams>("limit=0").expect("parses");
        assert_eq!(field_of(p.filter(tz)).as_deref(), Some("limit"));
    }

    #[test]
    fn trends_refuse_a_start_after_today_by_default() {
        let tz = chrono_tz::Europe::Berlin;
        let now = Utc::now();
        let p = parse_query::<TrendParams>("from=2999-01-01").expect("parses");
        assert_eq!(field_of(p.range(tz, now)).as_deref(), Some("from"));
        let p = parse_query::<TrendParams>("from=2026-01-01&to=2026-01-31").expect("parses");
        assert_eq!(
            p.range(tz, now)
                .ok()
                .map(|(f, t)| (f.to_string(), t.to_string())),
            Some(("2026-01-01".into(), "2026-01-31".into()))
        );
    }

    #[test]
    fn blank_text_is_absent() {
        let p = parse_query::<WatchParams>("media_type=%20&cursor=").expect("parses");
        let f = p.filter(chrono_tz::Tz::UTC).expect("filter");
        assert_eq!(f.media_type, None);
        assert_eq!(f.after, None);
        assert_eq!(f.limit, DEFAULT_LIMIT);
    }
}
