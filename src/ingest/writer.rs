//! Group commit: concurrent ingest requests queue their events here; a few writer tasks
//! each take everything queued, apply it in one transaction and commit once, then answer
//! every request. An answer is sent only after the commit, so a 2xx means durable.
//!
//! Each request is all-or-nothing. Events of a group are pipelined optimistically; if one
//! is refused, the group is re-run with a savepoint per request so the others still commit.

use std::sync::Arc;
use std::time::Instant;

use deadpool_postgres::Pool;
use futures_util::future::join_all;
use tokio::sync::{mpsc, oneshot, Mutex};
use tokio_util::sync::CancellationToken;

use super::apply::{apply, apply_session_starts, Effect, Refusal};
use super::events::{Event, SessionStart};
use crate::error::AppError;
use crate::metrics::Metrics;

/// Most events one transaction takes; more wait for the next group.
const MAX_GROUP_EVENTS: usize = 5_000;
/// Requests that may wait for a writer before new ones are told to back off (503).
const QUEUE_DEPTH: usize = 4_096;

/// Why a request was not committed: the index of the refused event and why, or a
/// failure of the whole group.
pub enum Rejection {
    Event(usize, Refusal),
    Group(AppError),
}

type Reply = Result<Vec<Effect>, Rejection>;

struct Job {
    events: Vec<Event>,
    reply: oneshot::Sender<Reply>,
}

#[derive(Clone)]
pub struct IngestWriter {
    queue: mpsc::Sender<Job>,
}

impl IngestWriter {
    /// Starts `writers` writer tasks; they finish the queue and stop once `stop` fires.
    pub fn start(
        pool: Pool,
        metrics: Metrics,
        writers: usize,
        stop: CancellationToken,
    ) -> (Self, Vec<tokio::task::JoinHandle<()>>) {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let rx = Arc::new(Mutex::new(rx));
        let handles = (0..writers.max(1))
            .map(|_| {
                tokio::spawn(writer_loop(
                    pool.clone(),
                    metrics.clone(),
                    rx.clone(),
                    stop.clone(),
                ))
            })
            .collect();
        (Self { queue: tx }, handles)
    }

    /// Commits `events` as one unit; returns once they are durable, or why not.
    pub async fn submit(&self, events: Vec<Event>) -> Result<Vec<Effect>, Rejection> {
        let (reply, answer) = oneshot::channel();
        let job = Job { events, reply };
        self.queue.try_send(job).map_err(|e| {
            Rejection::Group(match e {
                mpsc::error::TrySendError::Full(_) => {
                    AppError::unavailable("ingest is saturated; retry shortly")
                }
                mpsc::error::TrySendError::Closed(_) => {
                    AppError::unavailable("the sidecar is shutting down")
                }
            })
        })?;
        answer.await.unwrap_or_else(|_| {
            Err(Rejection::Group(AppError::unavailable(
                "the ingest writer stopped",
            )))
        })
    }
}

async fn writer_loop(
    pool: Pool,
    metrics: Metrics,
    rx: Arc<Mutex<mpsc::Receiver<Job>>>,
    stop: CancellationToken,
) {
    loop {
        let jobs = {
            let mut rx = rx.lock().await;
            let first = tokio::select! {
                job = rx.recv() => job,
                _ = stop.cancelled() => rx.try_recv().ok(),
            };
            let Some(first) = first else { return };
            let mut count = first.events.len();
            let mut jobs = vec![first];
            while count < MAX_GROUP_EVENTS {
                match rx.try_recv() {
                    Ok(job) => {
                        count += job.events.len();
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
            jobs
        };
        let started = Instant::now();
        let events: usize = jobs.iter().map(|j| j.events.len()).sum();
        let replies = commit_group(&pool, &jobs).await;
        metrics.ingest_batches.inc();
        metrics.ingest_batch_events.observe(events as f64);
        metrics
            .ingest_batch_duration
            .observe(started.elapsed().as_secs_f64());
        for (job, reply) in jobs.into_iter().zip(replies) {
            if let Ok(effects) = &reply {
                metrics.record_ingest(effects);
            }
            let _ = job.reply.send(reply);
        }
    }
}

/// One reply per job, in order.
async fn commit_group(pool: &Pool, jobs: &[Job]) -> Vec<Reply> {
    match try_group(pool, jobs, false).await {
        Ok(replies) => replies,
        // Something was refused: run again, isolating each request in a savepoint.
        Err(None) => match try_group(pool, jobs, true).await {
            Ok(replies) => replies,
            Err(err) => fail_all(jobs, err),
        },
        Err(err) => fail_all(jobs, err),
    }
}

fn fail_all(jobs: &[Job], err: Option<AppError>) -> Vec<Reply> {
    jobs.iter()
        .map(|_| {
            Err(Rejection::Group(match &err {
                Some(e) => AppError::new(e.status, e.code, e.message.clone()),
                None => AppError::unavailable("ingest could not be committed; retry"),
            }))
        })
        .collect()
}

/// `Err(None)`: a request was refused in optimistic mode (retry with savepoints).
/// `Err(Some(_))`: the database failed; nothing of the group is committed.
async fn try_group(
    pool: &Pool,
    jobs: &[Job],
    isolate: bool,
) -> Result<Vec<Reply>, Option<AppError>> {
    let mut client = pool.get().await.map_err(|e| Some(AppError::from(e)))?;
    let tx = client
        .transaction()
        .await
        .map_err(|e| Some(AppError::from(e)))?;
    super::apply::prepare_all(&tx)
        .await
        .map_err(|e| Some(AppError::from(e)))?;
    let mut replies: Vec<Reply> = Vec::with_capacity(jobs.len());
    if isolate {
        for job in jobs {
            tx.batch_execute("SAVEPOINT ingest_job")
                .await
                .map_err(|e| Some(e.into()))?;
            let results = join_all(job.events.iter().map(|e| apply(&tx, e))).await;
            match first_refusal(results) {
                Ok(effects) => {
                    tx.batch_execute("RELEASE SAVEPOINT ingest_job")
                        .await
                        .map_err(|e| Some(e.into()))?;
                    replies.push(Ok(effects));
                }
                Err((_, Refusal::Database(e))) if crate::error::is_connection_error(&e) => {
                    return Err(Some(e.into()))
                }
                Err((i, refusal)) => {
                    tx.batch_execute("ROLLBACK TO SAVEPOINT ingest_job")
                        .await
                        .map_err(|e| Some(e.into()))?;
                    replies.push(Err(Rejection::Event(i, refusal)));
                }
            }
        }
    } else {
        let all = apply_in_runs(&tx, jobs.iter().flat_map(|j| j.events.iter()).collect()).await;
        let mut all = all.into_iter();
        for job in jobs {
            let results: Vec<_> = all.by_ref().take(job.events.len()).collect();
            match first_refusal(results) {
                Ok(effects) => replies.push(Ok(effects)),
                Err((_, Refusal::Database(e))) if crate::error::is_connection_error(&e) => {
                    return Err(Some(e.into()))
                }
                Err(_) => return Err(None),
            }
        }
    }
    tx.commit().await.map_err(|e| Some(e.into()))?;
    Ok(replies)
}

/// Applies events in order, pipelined; consecutive session starts go as one statement.
/// A refused run is reported against each of its events (the isolated re-run finds the
/// exact one).
async fn apply_in_runs(
    tx: &deadpool_postgres::Transaction<'_>,
    events: Vec<&Event>,
) -> Vec<Result<Effect, Refusal>> {
    enum Unit<'a> {
        One(&'a Event),
        Starts(Vec<&'a SessionStart>),
    }
    let mut units: Vec<Unit> = Vec::new();
    for e in events {
        match (e, units.last_mut()) {
            (Event::SessionStart(s), Some(Unit::Starts(run))) => run.push(s),
            (Event::SessionStart(s), _) => units.push(Unit::Starts(vec![s])),
            (other, _) => units.push(Unit::One(other)),
        }
    }
    let results = join_all(units.iter().map(|u| async move {
        match u {
            Unit::One(e) => vec![apply(tx, e).await],
            Unit::Starts(run) => match apply_session_starts(tx, run).await {
                Ok(effects) => effects.into_iter().map(Ok).collect(),
                Err(refusal) => {
                    let mut out = vec![Err(refusal)];
                    out.extend((1..run.len()).map(|_| {
                        Err(Refusal::Conflict {
                            message: "refused with its run".into(),
                        })
                    }));
                    out
                }
            },
        }
    }))
    .await;
    results.into_iter().flatten().collect()
}

/// The effects of every event, or the first refusal with its index. A statement that
/// failed only because an earlier one aborted the transaction is not the cause.
fn first_refusal(results: Vec<Result<Effect, Refusal>>) -> Result<Vec<Effect>, (usize, Refusal)> {
    let mut effects = Vec::with_capacity(results.len());
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(e) => effects.push(e),
            Err(refusal) => return Err((i, refusal)),
        }
    }
    Ok(effects)
}
