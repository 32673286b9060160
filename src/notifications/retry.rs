//! When to retry a webhook and how long to wait (decisions.md §5). Pure.
//!
//! Timeouts, connection failures, 408, 429 and 5xx are retried with exponential backoff, or
//! after the delay the receiver asked for (`Retry-After`, Discord's JSON `retry_after`); any
//! other answer is final. Every delivery has a deadline: a receiver that is down, or asks
//! us to come back later than that, leaves the alert pending for the next evaluation rather
//! than holding up the evaluator.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The time limits of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// One request, from connecting to the last byte of the answer.
    pub attempt_timeout: Duration,
    /// The whole delivery, retries and waits included.
    pub deadline: Duration,
    pub max_attempts: u32,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
}

impl Timing {
    /// Scaled to the evaluation interval, so a delivery always ends well before the next
    /// evaluation: 10 s per attempt and 2 minutes in all at the default 5 minutes; 1 s and
    /// 3 s at a 1-second interval.
    pub fn for_interval(alert_interval: Duration) -> Self {
        let attempt_timeout =
            (alert_interval / 30).clamp(Duration::from_secs(1), Duration::from_secs(10));
        let deadline = (alert_interval / 2).clamp(attempt_timeout * 3, Duration::from_secs(120));
        Self {
            attempt_timeout,
            deadline,
            max_attempts: 5,
            base_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
        }
    }

    /// The test endpoint answers the admin within the HTTP request limit (30 s).
    pub fn for_test_endpoint(self) -> Self {
        Self {
            deadline: self.deadline.min(Duration::from_secs(20)),
            ..self
        }
    }

    /// Wait before attempt `attempt + 1` (attempt counts from 1); `jitter` in [0, 1)
    /// spreads retries of many alerts over ±20%.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = self
            .base_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(self.max_backoff);
        capped.mul_f64(0.8 + 0.4 * jitter.clamp(0.0, 1.0))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// Worth another attempt, after the receiver's requested delay if it gave one.
    Retry,
    Final,
}

pub fn judge_status(status: u16) -> Verdict {
    match status {
        200..=299 => Verdict::Delivered,
        408 | 429 | 500..=599 => Verdict::Retry,
        _ => Verdict::Final,
    }
}

/// The delay a receiver asked for: Discord's JSON `retry_after` (seconds, fractional) wins
/// over a `Retry-After` header (seconds or an HTTP date).
pub fn requested_delay(
    retry_after_header: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Option<Duration> {
    let from_body = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("retry_after").and_then(serde_json::Value::as_f64))
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(86_400.0)));
    if from_body.is_some() {
        return from_body;
    }
    let h = retry_after_header?.trim();
    if let Ok(secs) = h.parse::<u64>() {
        return Some(Duration::from_secs(secs.min(86_400)));
    }
    let at = DateTime::parse_from_rfc2822(h).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_scales_with_the_interval() {
        let t = Timing::for_interval(Duration::from_secs(300));
        assert_eq!(t.attempt_timeout, Duration::from_secs(10));
        assert_eq!(t.deadline, Duration::from_secs(120));
        let t = Timing::for_interval(Duration::from_secs(1));
        assert_eq!(t.attempt_timeout, Duration::from_secs(1));
        assert_eq!(t.deadline, Duration::from_secs(3));
        let t = Timing::for_interval(Duration::from_secs(3600)).for_test_endpoint();
        assert_eq!(t.deadline, Duration::from_secs(20));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let t = Timing::for_interval(Duration::from_secs(300));
        assert_eq!(t.backoff(1, 0.5), Duration::from_millis(250));
        assert_eq!(t.backoff(2, 0.5), Duration::from_millis(500));
        assert_eq!(t.backoff(3, 0.0), Duration::from_millis(800));
        assert_eq!(t.backoff(30, 0.5), Duration::from_secs(10));
    }

    #[test]
    fn statuses_are_judged() {
        assert_eq!(judge_status(200), Verdict::Delivered);
        assert_eq!(judge_status(204), Verdict::Delivered);
        for s in [408, 429, 500, 502, 503] {
            assert_eq!(judge_status(s), Verdict::Retry, "{s}");
        }
        for s in [301, 400, 401, 403, 404, 413] {
            assert_eq!(judge_status(s), Verdict::Final, "{s}");
        }
    }

    #[test]
    fn requested_delays_are_read_from_discord_bodies_and_headers() {
        let now: DateTime<Utc> = "2026-03-01T12:00:00Z".parse().expect("now");
        let discord =
            br#"{"message": "You are being rate limited.", "retry_after": 0.75, "global": false}"#;
        assert_eq!(
            requested_delay(Some("5"), discord, now),
            Some(Duration::from_millis(750))
        );
        assert_eq!(
            requested_delay(Some("2"), b"slow down", now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            requested_delay(Some("Sun, 01 Mar 2026 12:00:30 GMT"), b"", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            requested_delay(Some("Sun, 01 Mar 2026 11:00:00 GMT"), b"", now),
            Some(Duration::ZERO)
        );
        assert_eq!(requested_delay(Some("soon"), b"", now), None);
        assert_eq!(requested_delay(None, b"", now), None);
    }
}
