//! The dispatcher of queued hook deliveries: at most `[hooks] concurrency` trigger calls at
//! once, each failure retried after a backoff that doubles per attempt, until
//! `[hooks] max_attempts` or `[hooks] max_age`; a delivery that finally fails is logged with
//! its event, counted and audited.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;
use tracing::Instrument;

use super::MAX_BACKOFF;
use super::queue::{Delivery, Queue};
use crate::audit::{Action, Audit, AuditEvent, Who};
use crate::config::HookSettings;
use crate::context::correlation;
use crate::metrics::Metrics;
use crate::triggers::{Call, Outcome, TriggerError, Triggers, outcome_label};

/// Drains the queue; see the module docs.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    queue: Arc<Queue>,
    triggers: Arc<Triggers>,
    metrics: Arc<Metrics>,
    settings: HookSettings,
    audit: Arc<Audit>,
}

impl Dispatcher {
    pub(super) fn new(
        queue: Arc<Queue>,
        triggers: Arc<Triggers>,
        metrics: Arc<Metrics>,
        settings: HookSettings,
        audit: Arc<Audit>,
    ) -> Self {
        Self {
            queue,
            triggers,
            metrics,
            settings,
            audit,
        }
    }

    /// Delivers until the queue is closed.
    pub async fn run(self) {
        let slots = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
        loop {
            // A slot first: while every slot is busy, deliveries stay in the (bounded) queue.
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let Some(delivery) = self.queue.next().await else {
                return;
            };
            self.metrics
                .lifecycle
                .hook_queue_depth
                .set(self.queue.len() as i64);
            let this = self.clone();
            let span = tracing::info_span!(
                "hook",
                correlation_id = %delivery.correlation_id,
                trigger = %delivery.trigger,
            );
            tokio::spawn(
                correlation::scope(delivery.correlation_id.clone(), async move {
                    this.deliver(delivery).await;
                    drop(slot);
                })
                .instrument(span),
            );
        }
    }

    async fn deliver(&self, mut delivery: Delivery) {
        delivery.attempts += 1;
        let result = self.attempt(&delivery).await;
        let trigger = delivery.trigger.as_str();
        let succeeded = result.as_ref().is_ok_and(Outcome::success);
        if succeeded {
            self.count(trigger, "ok");
            self.audit(&delivery, "ok");
            return;
        }
        let outcome = outcome_label(&result);
        let refused = matches!(&result, Err(error) if error.is_refusal());
        let delay = backoff(self.settings.backoff, delivery.attempts);
        let out_of_attempts = delivery.attempts >= self.settings.max_attempts;
        let too_old = delivery.created.elapsed() + delay > self.settings.max_age;
        if refused || out_of_attempts || too_old {
            self.count(trigger, "failed");
            tracing::error!(
                trigger,
                outcome,
                attempts = delivery.attempts,
                event = %serde_json::Value::Object((*delivery.event).clone()),
                "upload hook delivery failed for good"
            );
            self.audit(&delivery, outcome);
            return;
        }
        self.count(trigger, "retried");
        tracing::warn!(
            trigger,
            outcome,
            attempts = delivery.attempts,
            retry_in_ms = delay.as_millis() as u64,
            "upload hook delivery failed; retrying"
        );
        if let Some(dropped) = self.queue.retry_at(delivery, Instant::now() + delay) {
            count_dropped(&self.metrics, &dropped);
        }
        self.metrics
            .lifecycle
            .hook_queue_depth
            .set(self.queue.len() as i64);
    }

    async fn attempt(&self, delivery: &Delivery) -> Result<Outcome, TriggerError> {
        let entry = self.triggers.get(&delivery.trigger)?;
        let call = Call::new(
            (*delivery.event).clone(),
            Some(delivery.idempotency_key.clone()),
        )?;
        self.triggers.call(entry, call).await
    }

    fn count(&self, trigger: &str, outcome: &str) {
        self.metrics
            .lifecycle
            .hook_deliveries
            .with_label_values(&[trigger, outcome])
            .inc();
    }

    fn audit(&self, delivery: &Delivery, outcome: &str) {
        let uploaded_by = delivery.event.get("uploadedBy").and_then(|v| v.as_str());
        self.audit.record(
            AuditEvent::new(
                Action::Hook,
                Who::new(uploaded_by.map(str::to_owned), None),
                outcome,
            )
            .detail("trigger", delivery.trigger.as_str())
            .detail("attempts", delivery.attempts)
            .detail("bucket", delivery.event.get("bucket").cloned())
            .detail("key", delivery.event.get("key").cloned()),
        );
    }
}

/// Counts and logs a delivery the full queue pushed out.
pub(super) fn count_dropped(metrics: &Metrics, dropped: &Delivery) {
    metrics
        .lifecycle
        .hook_deliveries
        .with_label_values(&[dropped.trigger.as_str(), "dropped"])
        .inc();
    tracing::error!(
        trigger = %dropped.trigger,
        attempts = dropped.attempts,
        event = %serde_json::Value::Object((*dropped.event).clone()),
        "the upload hook queue is full; dropped its oldest delivery"
    );
}

/// The wait after `attempts` failed attempts: `base`, doubled each time, at most 5 minutes.
fn backoff(base: Duration, attempts: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
    base.saturating_mul(factor).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        let base = Duration::from_secs(1);
        assert_eq!(backoff(base, 1), Duration::from_secs(1));
        assert_eq!(backoff(base, 2), Duration::from_secs(2));
        assert_eq!(backoff(base, 4), Duration::from_secs(8));
        assert_eq!(backoff(base, 40), MAX_BACKOFF);
    }
}
