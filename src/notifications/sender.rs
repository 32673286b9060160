//! Webhook delivery: one POST per attempt, retried per [`retry`](super::retry), every
//! target checked by the address policy, generic webhooks signed. The webhook URL carries
//! its secret, so it never appears in an error, a log line or a metric.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::Url;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::kinds::ChannelType;
use super::message::Alert;
use super::payload;
use super::policy::{AddressPolicy, PolicyError, PolicyResolver};
use super::retry::{judge_status, requested_delay, Timing, Verdict};
use super::signature;
use crate::metrics::{ChannelTypeLabel, DeliveryLabels, Metrics};
use crate::state::AppState;

const MAX_REDIRECTS: usize = 3;
/// How much of a receiver's answer is read (for Discord's `retry_after` and the log).
const MAX_ANSWER_BYTES: usize = 16 * 1024;
/// How much of an error detail `alert_log` keeps.
const MAX_DETAIL_CHARS: usize = 300;

/// Where one message goes.
#[derive(Clone)]
pub struct Target {
    pub channel_type: ChannelType,
    pub webhook_url: String,
    pub signing_secret: Option<String>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("channel_type", &self.channel_type)
            .field("webhook_url", &super::fields::mask_url(&self.webhook_url))
            .field("signed", &self.signing_secret.is_some())
            .finish()
    }
}

/// The final outcome of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub delivered: bool,
    /// The last answer's status; `None` when the last attempt got no answer.
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub attempts: u32,
    pub elapsed: Duration,
    /// Stopped by shutdown: not a final outcome, nothing to record.
    pub cancelled: bool,
}

impl Outcome {
    fn failed(attempts: u32, http_status: Option<u16>, error: String, elapsed: Duration) -> Self {
        Self {
            delivered: false,
            http_status,
            error: Some(super::payload::truncate(&error, MAX_DETAIL_CHARS)),
            attempts,
            elapsed,
            cancelled: false,
        }
    }
}

enum Attempt {
    Answered {
        status: u16,
        retry_after: Option<Duration>,
        snippet: String,
    },
    TimedOut,
    Failed {
        retryable: bool,
        message: String,
    },
}

#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    policy: AddressPolicy,
    timing: Timing,
    metrics: Metrics,
}

impl Sender {
    pub fn new(policy: AddressPolicy, timing: Timing, metrics: Metrics) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            // A proxy would resolve the target itself, past our resolver.
            .no_proxy()
            .dns_resolver(Arc::new(PolicyResolver { policy }))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= MAX_REDIRECTS {
                    let err = format!("more than {MAX_REDIRECTS} redirects");
                    return attempt.error(err);
                }
                match policy.check_url(attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(e) => attempt.error(e),
                }
            }))
            .connect_timeout(timing.attempt_timeout)
            .user_agent(concat!("cinevault-analytics/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            policy,
            timing,
            metrics,
        })
    }

    /// The evaluator's sender: policy from the configuration, timing from the interval.
    pub fn for_state(state: &AppState) -> anyhow::Result<Self> {
        Self::new(
            AddressPolicy::from_config(&state.config),
            Timing::for_interval(state.config.alert_interval),
            state.metrics.clone(),
        )
    }

    pub fn timing(&self) -> Timing {
        self.timing
    }

    pub fn with_timing(mut self, timing: Timing) -> Self {
        self.timing = timing;
        self
    }

    /// Delivers `alert` to `target`, retrying until delivered, refused for good, out of
    /// attempts or past the deadline, or `cancel` fires.
    pub async fn deliver(
        &self,
        target: &Target,
        alert: &Alert,
        cancel: &CancellationToken,
    ) -> Outcome {
        let started = Instant::now();
        let outcome = self.deliver_inner(target, alert, cancel, started).await;
        if !outcome.cancelled {
            let channel_type = target.channel_type.as_str();
            self.metrics
                .alert_deliveries
                .get_or_create(&DeliveryLabels {
                    channel_type,
                    outcome: if outcome.delivered {
                        "delivered"
                    } else {
                        "failed"
                    },
                })
                .inc();
            self.metrics
                .alert_delivery_duration
                .get_or_create(&ChannelTypeLabel { channel_type })
                .observe(outcome.elapsed.as_secs_f64());
        }
        outcome
    }

    async fn deliver_inner(
        &self,
        target: &Target,
        alert: &Alert,
        cancel: &CancellationToken,
        started: Instant,
    ) -> Outcome {
        let url = match request_url(target.channel_type, &target.webhook_url) {
            Ok(u) => u,
            Err(e) => return Outcome::failed(0, None, e, started.elapsed()),
        };
        if let Err(e) = self.policy.check_url(&url) {
            let detail = format!("refused by the address policy: {e}");
            return Outcome::failed(0, None, detail, started.elapsed());
        }
        let body = payload::build(target.channel_type, alert)
            .to_string()
            .into_bytes();
        // One id for every attempt, so a receiver can drop a retry it already has.
        let msg_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let deadline = started + self.timing.deadline;
        let cancelled = |attempts| Outcome {
            delivered: false,
            http_status: None,
            error: Some("stopped by shutdown".into()),
            attempts,
            elapsed: started.elapsed(),
            cancelled: true,
        };
        let mut attempts = 0;
        loop {
            attempts += 1;
            let limit = self
                .timing
                .attempt_timeout
                .min(deadline.saturating_duration_since(Instant::now()));
            let result = tokio::select! {
                _ = cancel.cancelled() => return cancelled(attempts),
                r = tokio::time::timeout(limit, self.attempt(&url, &body, target, &msg_id)) => r,
            };
            let (status, error, asked) = match result.unwrap_or(Attempt::TimedOut) {
                Attempt::Answered {
                    status,
                    retry_after,
                    snippet,
                } => match judge_status(status) {
                    Verdict::Delivered => {
                        return Outcome {
                            delivered: true,
                            http_status: Some(status),
                            error: None,
                            attempts,
                            elapsed: started.elapsed(),
                            cancelled: false,
                        }
                    }
                    verdict => {
                        let error = answer_error(status, &snippet);
                        if verdict == Verdict::Final {
                            return Outcome::failed(
                                attempts,
                                Some(status),
                                error,
                                started.elapsed(),
                            );
                        }
                        (Some(status), error, retry_after)
                    }
                },
                Attempt::TimedOut => (
                    None,
                    format!("no answer within {} ms", limit.as_millis()),
                    None,
                ),
                Attempt::Failed { retryable, message } => {
                    if !retryable {
                        return Outcome::failed(attempts, None, message, started.elapsed());
                    }
                    (None, message, None)
                }
            };
            if attempts >= self.timing.max_attempts {
                let error = format!("{error}; gave up after {attempts} attempts");
                return Outcome::failed(attempts, status, error, started.elapsed());
            }
            let wait = asked.unwrap_or_else(|| self.timing.backoff(attempts, rand::random()));
            if Instant::now() + wait >= deadline {
                let error = match asked {
                    Some(d) => format!(
                        "{error}; the receiver asked to retry after {:.1} s, past this delivery's deadline",
                        d.as_secs_f64()
                    ),
                    None => format!("{error}; gave up after {attempts} attempts (delivery deadline)"),
                };
                return Outcome::failed(attempts, status, error, started.elapsed());
            }
            tokio::select! {
                _ = cancel.cancelled() => return cancelled(attempts),
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn attempt(&self, url: &Url, body: &[u8], target: &Target, msg_id: &str) -> Attempt {
        let mut req = self
            .client
            .post(url.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        if let (ChannelType::Generic, Some(secret)) = (target.channel_type, &target.signing_secret)
        {
            let timestamp = Utc::now().timestamp();
            match signature::sign(secret, msg_id, timestamp, body) {
                Ok(sig) => {
                    req = req
                        .header(signature::ID_HEADER, msg_id)
                        .header(signature::TIMESTAMP_HEADER, timestamp.to_string())
                        .header(signature::SIGNATURE_HEADER, sig);
                }
                Err(e) => {
                    return Attempt::Failed {
                        retryable: false,
                        message: format!("cannot sign the message: {e}"),
                    }
                }
            }
        }
        let mut resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return classify_error(e),
        };
        let status = resp.status().as_u16();
        let retry_after_header = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut answer = Vec::new();
        while answer.len() < MAX_ANSWER_BYTES {
            match resp.chunk().await {
                Ok(Some(chunk)) => answer.extend_from_slice(&chunk),
                // The status is what counts; a body cut short does not change it.
                Ok(None) | Err(_) => break,
            }
        }
        answer.truncate(MAX_ANSWER_BYTES);
        Attempt::Answered {
            status,
            retry_after: requested_delay(retry_after_header.as_deref(), &answer, Utc::now()),
            snippet: snippet(&answer),
        }
    }
}

/// The URL a channel's messages are posted to: Discord with `wait=true`, so a message
/// Discord did not save is an error rather than a silent 204; Alertmanager's v2 alerts API
/// under the base URL the admin gave.
pub fn request_url(channel_type: ChannelType, webhook_url: &str) -> Result<Url, String> {
    let mut url = Url::parse(webhook_url)
        .map_err(|_| "the stored webhook URL is not a valid URL".to_owned())?;
    match channel_type {
        ChannelType::Discord => {
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| k != "wait")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            url.query_pairs_mut()
                .clear()
                .extend_pairs(kept)
                .append_pair("wait", "true");
        }
        ChannelType::Alertmanager => {
            const API: &str = "/api/v2/alerts";
            if !url.path().trim_end_matches('/').ends_with(API) {
                let path = format!("{}{API}", url.path().trim_end_matches('/'));
                url.set_path(&path);
            }
        }
        ChannelType::Slack | ChannelType::Generic => {}
    }
    Ok(url)
}

fn answer_error(status: u16, snippet: &str) -> String {
    if snippet.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {snippet}")
    }
}

/// The start of a receiver's answer, on one line.
fn snippet(answer: &[u8]) -> String {
    let text = String::from_utf8_lossy(&answer[..answer.len().min(400)]);
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    super::payload::truncate(one_line.trim(), 200)
}

fn classify_error(err: reqwest::Error) -> Attempt {
    let err = err.without_url();
    let mut source: Option<&(dyn StdError + 'static)> = Some(&err);
    while let Some(e) = source {
        if let Some(p) = e.downcast_ref::<PolicyError>() {
            return Attempt::Failed {
                retryable: false,
                message: format!("refused by the address policy: {p}"),
            };
        }
        source = e.source();
    }
    if err.is_timeout() {
        return Attempt::TimedOut;
    }
    Attempt::Failed {
        retryable: !err.is_redirect(),
        message: error_chain(&err),
    }
}

/// "error sending request: client error (Connect): tcp connect error: Connection refused",
/// without repeating a level that only restates the next.
fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = Some(err);
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discord_urls_wait_for_the_message() {
        let u = request_url(
            ChannelType::Discord,
            "https://discord.com/api/webhooks/1/tok?thread_id=9&wait=false",
        )
        .expect("url");
        assert_eq!(
            u.as_str(),
            "https://discord.com/api/webhooks/1/tok?thread_id=9&wait=true"
        );
    }

    #[test]
    fn alertmanager_urls_point_at_the_v2_api() {
        for (given, want) in [
            ("http://am:9093", "http://am:9093/api/v2/alerts"),
            ("http://am:9093/", "http://am:9093/api/v2/alerts"),
            ("http://h/prefix/", "http://h/prefix/api/v2/alerts"),
            (
                "http://am:9093/api/v2/alerts",
                "http://am:9093/api/v2/alerts",
            ),
        ] {
            assert_eq!(
                request_url(ChannelType::Alertmanager, given)
                    .expect("url")
                    .as_str(),
                want
            );
        }
        assert_eq!(
            request_url(ChannelType::Slack, "https://hooks.slack.com/services/T/B/x")
                .expect("url")
                .as_str(),
            "https://hooks.slack.com/services/T/B/x"
        );
    }

    #[test]
    fn targets_never_print_their_secrets() {
        let t = Target {
            channel_type: ChannelType::Generic,
            webhook_url: "https://hooks.example.com/services/T0/B0/SuperSecretToken".into(),
            signing_secret: Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()),
        };
        let printed = format!("{t:?}");
        assert!(
            !printed.contains("SuperSecret") && !printed.contains("MfKQ"),
            "{printed}"
        );
    }

    #[test]
    fn snippets_are_one_short_line() {
        assert_eq!(snippet(b"bad\r\nthing"), "bad  thing");
        assert!(snippet(&[b'x'; 5000]).chars().count() <= 200);
    }
}
