//! The delivery worker: claims due deliveries from the outbox, hands each to the
//! transport (SMTP, or `.eml` files in the all-in-one default), and records the
//! outcome: delivered, retry later (backoff with jitter) or dead-lettered.
//!
//! Sending is at least once. A worker killed between the server's acceptance and
//! the recorded outcome leaves the delivery SENDING; when its lease expires another
//! worker (or the restarted one) sends it again with the same Message-ID.
//!
//! A worker told to stop (SIGTERM) claims nothing more, lets the sends in progress
//! finish within `mail.stop_grace_ms`, and hands every claim it has not completed back
//! due at once, so that another replica or the next start sends it without waiting
//! out the lease.

mod sender;
mod transport;

use std::{sync::Arc, time::Duration};

use service_kit::{Shutdown, clock::Clock, config::MailConfig, secrets};
use tokio::{sync::Notify, task::JoinSet};

pub use sender::SenderAddress;
pub use transport::Transport;

use crate::{
    domain::delivery::{AfterFailure, RetryPolicy, jitter},
    storage::{Claimed, Outcome, Store},
};

/// One worker per process.
#[derive(Clone)]
pub struct Worker {
    store: Store,
    transport: Arc<Transport>,
    sender: Arc<SenderAddress>,
    clock: Clock,
    policy: RetryPolicy,
    batch_size: i64,
    concurrency: usize,
    poll_interval: Duration,
    lease_ms: i64,
    stop_grace: Duration,
}

impl Worker {
    pub fn new(store: Store, transport: Transport, sender: SenderAddress, clock: Clock, config: &MailConfig) -> Self {
        Self {
            store,
            transport: Arc::new(transport),
            sender: Arc::new(sender),
            clock,
            policy: RetryPolicy {
                initial_ms: config.retry_initial_seconds as i64 * 1000,
                max_ms: config.retry_max_seconds as i64 * 1000,
                give_up_after_ms: config.give_up_after_seconds as i64 * 1000,
            },
            batch_size: config.batch_size as i64,
            concurrency: config.concurrency as usize,
            poll_interval: Duration::from_millis(config.poll_interval_ms),
            lease_ms: config.lease_seconds as i64 * 1000,
            stop_grace: Duration::from_millis(config.stop_grace_ms),
        }
    }

    /// Delivers until `shutdown` is triggered; the sends in progress then finish (or are
    /// handed back after the grace) and the rest of the batch is handed back.
    pub async fn run(self, queued: Arc<Notify>, shutdown: Shutdown) {
        tracing::info!(transport = self.transport.describe(), "delivery worker started");
        let mut failures = 0u32;
        while !shutdown.is_triggered() {
            let idle = match self.drain_once(&shutdown).await {
                Ok(0) => {
                    failures = 0;
                    self.poll_interval
                }
                Ok(_) => {
                    failures = 0;
                    continue;
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(%error, "outbox unavailable; trying again");
                    self.poll_interval * failures.min(10)
                }
            };
            tokio::select! {
                _ = shutdown.stopped() => break,
                _ = queued.notified() => {}
                _ = tokio::time::sleep(idle) => {}
            }
        }
        tracing::info!("delivery worker stopped");
    }

    /// Claims one batch and sends it, until `shutdown`; returns how many were claimed.
    pub async fn drain_once(&self, shutdown: &Shutdown) -> Result<usize, crate::domain::NotifyError> {
        let now = self.clock.now();
        let token = secrets::new_id();
        let claimed = self.store.claim(&token, now, now + self.lease_ms, self.batch_size).await?;
        let count = claimed.len();
        if count == 0 {
            return Ok(0);
        }
        let from = self.sender.current().await;
        let mut tasks = JoinSet::new();
        let mut pending = claimed.into_iter();
        loop {
            while tasks.len() < self.concurrency && !shutdown.is_triggered() {
                let Some(claim) = pending.next() else { break };
                let worker = self.clone();
                let from = from.clone();
                let shutdown = shutdown.clone();
                tasks.spawn(async move { worker.attempt(claim, &from, &shutdown).await });
            }
            if tasks.join_next().await.is_none() {
                break;
            }
        }
        for claim in pending {
            self.release(&claim).await;
        }
        Ok(count)
    }

    /// Hands back a claim this worker will not complete.
    async fn release(&self, claim: &Claimed) {
        match self.store.release(claim, self.clock.now()).await {
            Ok(true) => tracing::info!(delivery_id = %claim.id, "stopping: handed back unsent"),
            Ok(false) => {}
            // The lease still covers it: another worker sends it once the lease expires.
            Err(error) => tracing::warn!(delivery_id = %claim.id, %error, "handing back failed; the lease will expire"),
        }
    }

    /// One attempt at one claimed delivery; abandoned and handed back when the worker
    /// is told to stop and the send outlasts the grace.
    async fn attempt(&self, claim: Claimed, from: &str, shutdown: &Shutdown) {
        // The send is bounded well inside the lease, so a claim is never taken over
        // while its attempt is still running.
        let limit = Duration::from_millis((self.lease_ms / 2).max(1) as u64);
        let grace_over = async {
            shutdown.stopped().await;
            tokio::time::sleep(self.stop_grace).await;
        };
        let sent = tokio::select! {
            sent = tokio::time::timeout(limit, self.transport.send(&claim, from)) => sent,
            _ = grace_over => {
                self.release(&claim).await;
                return;
            }
        };
        let result = match sent {
            Ok(result) => result,
            Err(_) => Err(crate::domain::delivery::Failure::Temporary {
                code: 0,
                reason: "the send took longer than half the lease".into(),
            }),
        };
        let now = self.clock.now();
        let outcome = match result {
            Ok(()) => Outcome::Delivered,
            Err(failure) => {
                let code = failure.code();
                match self.policy.after(&failure, claim.attempts as i32, claim.window_start, now, jitter()) {
                    AfterFailure::RetryAt(at) => {
                        tracing::info!(delivery_id = %claim.id, attempts = claim.attempts, error = failure.reason(), "temporary failure; will retry");
                        Outcome::RetryAt { at, error: failure.reason().to_owned(), code }
                    }
                    AfterFailure::DeadLetter(reason) => {
                        tracing::warn!(delivery_id = %claim.id, attempts = claim.attempts, %reason, "dead-lettered");
                        Outcome::DeadLettered { error: reason, code }
                    }
                }
            }
        };
        // The outcome must be recorded: retry a few times while the database is away
        // (the lease covers it; after that another worker sends again, at least once).
        for attempt in 0..5u32 {
            match self.store.record(&claim, from, &outcome, now).await {
                Ok(true) => return,
                Ok(false) => {
                    tracing::warn!(delivery_id = %claim.id, "claim was taken over before the outcome was recorded");
                    return;
                }
                Err(error) => {
                    tracing::warn!(delivery_id = %claim.id, %error, "recording the outcome failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt))).await;
                }
            }
        }
    }
}
