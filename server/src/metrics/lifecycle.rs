//! Metrics of the upload lifecycle: hook deliveries, the audit trail and the janitor.

use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// The lifecycle's metrics, registered in the application's registry.
#[derive(Debug, Clone)]
pub struct LifecycleMetrics {
    /// Hook deliveries by trigger and outcome (`ok`, `retried`, `failed`, `dropped`,
    /// `abandoned`).
    pub hook_deliveries: IntCounterVec,
    /// Hook deliveries waiting in the queue, new or for a retry.
    pub hook_queue_depth: IntGauge,
    /// Audit events recorded, by action.
    pub audit_events: IntCounterVec,
    /// Audit objects written to the audit alias, by outcome (`ok`, `failed`).
    pub audit_writes: IntCounterVec,
    /// Audit events dropped because the audit alias kept failing.
    pub audit_dropped: IntCounter,
    /// Incomplete multipart uploads the janitor aborted, by alias.
    pub janitor_aborted: IntCounterVec,
    /// Janitor listings and aborts that failed, by alias.
    pub janitor_errors: IntCounterVec,
    /// When the last janitor pass ended, in seconds since the Unix epoch.
    pub janitor_last_run: IntGauge,
}

fn counter_vec(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help), labels).expect("static metric definition")
}

impl LifecycleMetrics {
    pub fn register(registry: &Registry) -> Self {
        let metrics = Self {
            hook_deliveries: counter_vec(
                "hook_deliveries_total",
                "Upload hook deliveries by trigger and outcome",
                &["trigger", "outcome"],
            ),
            hook_queue_depth: IntGauge::new(
                "hook_queue_depth",
                "Upload hook deliveries waiting in the queue",
            )
            .expect("static metric definition"),
            audit_events: counter_vec(
                "audit_events_total",
                "Audit events recorded, by action",
                &["action"],
            ),
            audit_writes: counter_vec(
                "audit_writes_total",
                "Audit objects written to the audit alias, by outcome",
                &["outcome"],
            ),
            audit_dropped: IntCounter::new(
                "audit_dropped_total",
                "Audit events dropped because the audit alias kept failing",
            )
            .expect("static metric definition"),
            janitor_aborted: counter_vec(
                "janitor_aborted_total",
                "Incomplete multipart uploads the janitor aborted, by alias",
                &["alias"],
            ),
            janitor_errors: counter_vec(
                "janitor_errors_total",
                "Janitor listings and aborts that failed, by alias",
                &["alias"],
            ),
            janitor_last_run: IntGauge::new(
                "janitor_last_run_timestamp_seconds",
                "When the last janitor pass ended (Unix time)",
            )
            .expect("static metric definition"),
        };
        for collector in [
            Box::new(metrics.hook_deliveries.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(metrics.hook_queue_depth.clone()),
            Box::new(metrics.audit_events.clone()),
            Box::new(metrics.audit_writes.clone()),
            Box::new(metrics.audit_dropped.clone()),
            Box::new(metrics.janitor_aborted.clone()),
            Box::new(metrics.janitor_errors.clone()),
            Box::new(metrics.janitor_last_run.clone()),
        ] {
            registry
                .register(collector)
                .expect("each metric is registered once");
        }
        metrics
    }
}
