//! Background workers are started from one place, held by name, and joined on shutdown
//! within a deadline. Each is `async fn(state, cancel) -> anyhow::Result<()>`.

pub mod coexistence;
pub mod reaper;
pub mod summaries;

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub struct Workers {
    tasks: JoinSet<(&'static str, anyhow::Result<()>)>,
    cancel: CancellationToken,
}

impl Workers {
    /// Workers stop when `cancel` fires (a child of the process's shutdown token).
    pub fn new(cancel: CancellationToken) -> Self {
        Self {
            tasks: JoinSet::new(),
            cancel,
        }
    }

    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    pub fn spawn<F>(&mut self, name: &'static str, work: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        tracing::info!(worker = name, "worker started");
        self.tasks.spawn(async move { (name, work.await) });
    }

    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Asks every worker to stop and waits up to `deadline`; returns how many had to be
    /// abandoned because they did not finish in time.
    pub async fn shutdown(mut self, deadline: Duration) -> usize {
        self.cancel.cancel();
        let joined = tokio::time::timeout(deadline, async {
            while let Some(res) = self.tasks.join_next().await {
                match res {
                    Ok((name, Ok(()))) => tracing::info!(worker = name, "worker stopped"),
                    Ok((name, Err(err))) => {
                        tracing::error!(
                            worker = name,
                            error = format!("{err:#}"),
                            "worker ended with an error"
                        )
                    }
                    Err(err) => tracing::error!(error = %err, "worker panicked"),
                }
            }
        })
        .await;
        if joined.is_err() {
            let left = self.tasks.len();
            tracing::warn!(
                workers = left,
                "workers did not stop in time; abandoning them"
            );
            self.tasks.abort_all();
            return left;
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn cooperative_workers_are_joined() {
        let mut w = Workers::new(CancellationToken::new());
        let c = w.cancel_token();
        w.spawn("polite", async move {
            c.cancelled().await;
            Ok(())
        });
        assert_eq!(w.len(), 1);
        assert_eq!(w.shutdown(Duration::from_secs(2)).await, 0);
    }

    #[tokio::test]
    async fn stuck_workers_are_abandoned_at_the_deadline() {
        let mut w = Workers::new(CancellationToken::new());
        w.spawn("stuck", async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        });
        let started = std::time::Instant::now();
        assert_eq!(w.shutdown(Duration::from_millis(200)).await, 1);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
