//! Upload hooks: after Hoist stores an object in an alias that declares
//! `on_upload = ["trigger", ...]`, each named trigger is called with an upload event as its
//! `data`. Every route that stores objects ends in [`Hooks::object_stored`], the one hook
//! point (form and raw uploads, images, finished tus uploads).
//!
//! The targets are triggers, so every trigger kind is a hook kind, with the registry's
//! timeout, metrics and logs. How an event is delivered is the alias's `hook` mode:
//! `async` (the default) queues it in [`queue`] and answers the upload at once, and the
//! [`dispatch`]er retries failures with backoff; `sync` calls every trigger once, concurrently,
//! and reports the outcomes in the upload's response.
//!
//! Delivery is at least once per replica and not durable: the queue is memory, bounded by
//! `[hooks] queue` (full: the oldest delivery is dropped and counted), and lost on a crash.

mod dispatch;
pub mod queue;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::future::join_all;
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::audit::Audit;
use crate::config::{BucketRoute, ConfigProblem, HookMode, HookSettings, Settings, TriggerRoute};
use crate::context::correlation;
use crate::metrics::Metrics;
use crate::triggers::{Call, Triggers};
use queue::{Delivery, Queue};

pub use dispatch::Dispatcher;

/// An object Hoist just stored, as the route that stored it knows it.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// The bucket alias (never the real bucket name).
    pub alias: String,
    pub key: String,
    pub size: u64,
    pub content_type: String,
    /// CRC32C, base64.
    pub checksum: String,
    /// The uploader's token `sub`.
    pub uploaded_by: Option<String>,
}

/// The `data` every hook trigger receives.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UploadEvent<'a> {
    event: &'static str,
    bucket: &'a str,
    key: &'a str,
    size: u64,
    content_type: &'a str,
    checksum: &'a str,
    uploaded_by: Option<&'a str>,
    correlation_id: &'a str,
    /// RFC 3339, milliseconds, UTC.
    at: String,
}

/// How one hook call of a `sync` alias ended, as the upload's response reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookOutcome {
    pub trigger: String,
    /// The trigger did what was asked.
    pub success: bool,
    /// `ok`, `target-error`, `refused`, `timeout` or `failed`, as in the trigger metrics.
    pub outcome: &'static str,
    /// The webhook's HTTP status or Lambda's status code, when the target answered.
    pub status: Option<u16>,
}

/// The hooks of one alias.
#[derive(Debug, Clone)]
struct AliasHooks {
    triggers: Vec<String>,
    mode: HookMode,
}

/// Upload hooks of every alias, and the queue of their deliveries.
#[derive(Debug)]
pub struct Hooks {
    by_alias: BTreeMap<String, AliasHooks>,
    triggers: Arc<Triggers>,
    queue: Arc<Queue>,
    metrics: Arc<Metrics>,
    audit: Arc<Audit>,
}

impl Hooks {
    pub(crate) fn new(
        settings: &Settings,
        triggers: Arc<Triggers>,
        metrics: Arc<Metrics>,
        audit: Arc<Audit>,
    ) -> Self {
        let by_alias = settings
            .buckets
            .iter()
            .filter(|(_, route)| !route.on_upload.is_empty())
            .map(|(alias, route)| {
                (
                    alias.clone(),
                    AliasHooks {
                        triggers: route.on_upload.clone(),
                        mode: route.hook,
                    },
                )
            })
            .collect();
        Self {
            by_alias,
            triggers,
            queue: Arc::new(Queue::new(settings.hooks.queue)),
            metrics,
            audit,
        }
    }

    /// The dispatcher that drains the queue; spawn its `run` once per process.
    pub fn dispatcher(&self, settings: &HookSettings) -> Dispatcher {
        Dispatcher::new(
            self.queue.clone(),
            self.triggers.clone(),
            self.metrics.clone(),
            settings.clone(),
            self.audit.clone(),
        )
    }

    /// The hook point: called once for every object stored. `async` aliases queue one
    /// delivery per trigger and return `None` at once; `sync` aliases call each trigger once
    /// and return how each call ended. Aliases without hooks return `None`.
    pub async fn object_stored(&self, stored: &StoredEvent) -> Option<Vec<HookOutcome>> {
        let hooks = self.by_alias.get(&stored.alias)?;
        let correlation_id = correlation::current();
        let event = Arc::new(event_data(stored, &correlation_id));
        let event_id = uuid::Uuid::new_v4().simple().to_string();
        match hooks.mode {
            HookMode::Async => {
                for trigger in &hooks.triggers {
                    let delivery = Delivery {
                        trigger: trigger.clone(),
                        event: event.clone(),
                        correlation_id: correlation_id.clone(),
                        idempotency_key: format!("upload-{event_id}"),
                        attempts: 0,
                        created: Instant::now(),
                    };
                    if let Some(dropped) = self.queue.push(delivery) {
                        dispatch::count_dropped(&self.metrics, &dropped);
                    }
                }
                self.metrics
                    .lifecycle
                    .hook_queue_depth
                    .set(self.queue.len() as i64);
                None
            }
            HookMode::Sync => {
                let key = format!("upload-{event_id}");
                let calls = hooks
                    .triggers
                    .iter()
                    .map(|trigger| self.call_once(trigger, &event, &key));
                Some(join_all(calls).await)
            }
        }
    }

    /// One attempt of a `sync` hook, inside the upload's request.
    async fn call_once(
        &self,
        trigger: &str,
        event: &Map<String, Value>,
        idempotency_key: &str,
    ) -> HookOutcome {
        let result = match self.triggers.get(trigger) {
            Ok(entry) => match Call::new(event.clone(), Some(idempotency_key.to_owned())) {
                Ok(call) => self.triggers.call(entry, call).await,
                Err(error) => Err(error),
            },
            Err(error) => Err(error),
        };
        let outcome = crate::triggers::outcome_label(&result);
        let status = result
            .as_ref()
            .ok()
            .and_then(crate::triggers::Outcome::status);
        let success = result.as_ref().is_ok_and(crate::triggers::Outcome::success);
        let final_outcome = if success { "ok" } else { "failed" };
        self.metrics
            .lifecycle
            .hook_deliveries
            .with_label_values(&[trigger, final_outcome])
            .inc();
        HookOutcome {
            trigger: trigger.to_owned(),
            success,
            outcome,
            status,
        }
    }

    /// Deliveries waiting in the queue.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Stops accepting deliveries; logs and counts those still queued (shutdown: the queue
    /// is memory, see the module docs).
    pub fn close(&self) {
        let left = self.queue.close();
        if !left.is_empty() {
            tracing::warn!(
                abandoned = left.len(),
                "stopping with upload hook deliveries still queued; they are not delivered"
            );
        }
        for delivery in &left {
            self.metrics
                .lifecycle
                .hook_deliveries
                .with_label_values(&[delivery.trigger.as_str(), "abandoned"])
                .inc();
        }
        self.metrics.lifecycle.hook_queue_depth.set(0);
    }
}

fn event_data(stored: &StoredEvent, correlation_id: &str) -> Map<String, Value> {
    let event = UploadEvent {
        event: "upload",
        bucket: &stored.alias,
        key: &stored.key,
        size: stored.size,
        content_type: &stored.content_type,
        checksum: &stored.checksum,
        uploaded_by: stored.uploaded_by.as_deref(),
        correlation_id,
        at: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
    };
    match serde_json::to_value(event) {
        Ok(Value::Object(map)) => map,
        _ => unreachable!("a struct serializes to a JSON object"),
    }
}

/// Problems of the hook declarations: `on_upload` must name declared triggers, and the
/// `[hooks]` limits must be usable.
pub fn check(
    buckets: &BTreeMap<String, BucketRoute>,
    triggers: &BTreeMap<String, TriggerRoute>,
    hooks: &HookSettings,
) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    for (alias, route) in buckets {
        for trigger in &route.on_upload {
            if !triggers.contains_key(trigger) {
                problems.push(ConfigProblem::new(
                    format!("buckets.{alias}.on_upload"),
                    format!("`{trigger}` is not a declared trigger"),
                ));
            }
        }
    }
    let mut problem = |key: &str, message: &str| {
        problems.push(ConfigProblem::new(format!("hooks.{key}"), message));
    };
    if hooks.max_attempts == 0 {
        problem("max_attempts", "must be at least 1");
    }
    if hooks.queue == 0 {
        problem("queue", "must be at least 1");
    }
    if hooks.concurrency == 0 {
        problem("concurrency", "must be at least 1");
    }
    if hooks.max_age.is_zero() {
        problem("max_age", "must be above zero");
    }
    if hooks.backoff.is_zero() || hooks.backoff > MAX_BACKOFF {
        problem("backoff", "must be above zero and at most 5m");
    }
    problems
}

/// Longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_has_the_documented_fields() {
        let stored = StoredEvent {
            alias: "uploads".into(),
            key: "a/b.txt".into(),
            size: 3,
            content_type: "text/plain".into(),
            checksum: "AAAAAA==".into(),
            uploaded_by: Some("me".into()),
        };
        let data = event_data(&stored, "corr-1");
        let mut keys: Vec<&str> = data.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "at",
                "bucket",
                "checksum",
                "contentType",
                "correlationId",
                "event",
                "key",
                "size",
                "uploadedBy"
            ]
        );
        assert_eq!(data["event"], "upload");
        assert_eq!(data["bucket"], "uploads");
        assert_eq!(data["uploadedBy"], "me");
        assert!(data["at"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn on_upload_must_name_declared_triggers() {
        let mut settings = Settings::default();
        settings.buckets.insert(
            "uploads".into(),
            BucketRoute {
                on_upload: vec!["missing".into()],
                ..Default::default()
            },
        );
        let problems: Vec<String> = check(&settings.buckets, &settings.triggers, &settings.hooks)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("buckets.uploads.on_upload"),
            "{problems:?}"
        );
        assert!(problems[0].contains("`missing`"), "{problems:?}");
    }
}
