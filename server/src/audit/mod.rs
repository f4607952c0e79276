//! The audit trail: one structured event for every destructive or privileged action
//! (deletes, trigger calls, upload hook deliveries, presigned URLs, dev tokens, janitor
//! aborts), saying who (token `sub`, client address), what, the outcome and the correlation
//! id.
//!
//! Events go to sinks, plugged in like trigger kinds: each sink kind is one module with a
//! `pub const SINK: SinkKind` (its name and a `build` from `[audit]`), listed in [`SINKS`].
//! `log` writes every event on the tracing target `hoist::audit`; `bucket` also writes them
//! as NDJSON objects to `[audit] bucket` so they outlive the log pipeline.

mod bucket;
mod error;
mod log;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use futures_util::future::{BoxFuture, join_all};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::auth::Claims;
use crate::config::{AuditSettings, BucketRoute, ConfigProblem};
use crate::context::{correlation, peer};
use crate::metrics::Metrics;
use crate::storage::delete::KeyList;
use crate::storage::model::DeleteOutcome;
use crate::storage::{Buckets, StorageError};

pub use bucket::{PREFIX, read_recent};
pub use error::AuditReadError;

/// Every audit sink kind.
pub const SINKS: &[SinkKind] = &[log::SINK, bucket::SINK];

/// A sink kind: what `[audit]` may switch on.
#[derive(Debug)]
pub struct SinkKind {
    pub name: &'static str,
    /// The sink for these settings, `None` when they do not ask for it.
    pub build: fn(&Setup<'_>) -> Built,
}

/// A built sink, `None` when the settings do not ask for it, or why it could not be built.
pub type Built = Result<Option<Box<dyn Sink>>, String>;

/// What building a sink may use.
#[derive(Debug)]
pub struct Setup<'a> {
    pub settings: &'a AuditSettings,
    pub buckets: &'a Buckets,
    pub metrics: &'a Arc<Metrics>,
    /// This process's name in object keys.
    pub replica: &'a str,
}

/// Where audit events go.
pub trait Sink: Send + Sync + std::fmt::Debug {
    /// Takes one event; must not block (sinks that write somewhere slow batch in memory).
    fn record(&self, event: &AuditEvent);
    /// Writes what is batched (a clean shutdown, the end of `janitor --once`).
    fn flush(&self) -> BoxFuture<'_, ()>;
}

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Delete,
    Trigger,
    Hook,
    Presign,
    DevToken,
    JanitorAbort,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Delete => "delete",
            Action::Trigger => "trigger",
            Action::Hook => "hook",
            Action::Presign => "presign",
            Action::DevToken => "dev-token",
            Action::JanitorAbort => "janitor-abort",
        }
    }
}

/// Who did it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Who {
    /// The token's `sub`; `None` for anonymous callers.
    pub sub: Option<String>,
    /// The client's IP address; `None` outside a request (janitor, hook retries).
    pub client: Option<String>,
}

impl Who {
    pub fn new(sub: Option<String>, client: Option<String>) -> Self {
        Self { sub, client }
    }

    /// The caller of the current request: the token's `sub` and the client address.
    pub fn caller(claims: Option<&Claims>) -> Self {
        Self {
            sub: claims.and_then(|claims| claims.sub.clone()),
            client: peer::current(),
        }
    }

    /// Hoist itself (the janitor).
    pub fn system(name: &str) -> Self {
        Self {
            sub: Some(name.to_owned()),
            client: None,
        }
    }
}

/// One audit event, as logged and as one NDJSON line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// RFC 3339, milliseconds, UTC.
    pub at: String,
    pub action: Action,
    pub sub: Option<String>,
    pub client: Option<String>,
    /// `ok`, or how it failed (`failed`, `partial`, a trigger outcome ...).
    pub outcome: String,
    pub correlation_id: String,
    /// What it was done to: keys, trigger, method and expiry ...
    pub details: Map<String, Value>,
}

impl AuditEvent {
    /// An event of the current request (its correlation id), now.
    pub fn new(action: Action, who: Who, outcome: impl Into<String>) -> Self {
        Self {
            at: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            action,
            sub: who.sub,
            client: who.client,
            outcome: outcome.into(),
            correlation_id: correlation::current(),
            details: Map::new(),
        }
    }

    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// Whether `filter` (case-insensitive) occurs in the event's JSON.
    pub fn matches(&self, filter: &str) -> bool {
        let filter = filter.to_lowercase();
        serde_json::to_string(self)
            .map(|line| line.to_lowercase().contains(&filter))
            .unwrap_or(false)
    }
}

/// The audit trail: every sink `[audit]` switched on.
#[derive(Debug)]
pub struct Audit {
    sinks: Vec<Box<dyn Sink>>,
    metrics: Arc<Metrics>,
    /// The alias audit objects are written to, when any.
    alias: Option<String>,
}

impl Audit {
    /// Builds the sinks. Needs a runtime: batching sinks start their flush task here.
    pub fn build(
        settings: &AuditSettings,
        buckets: &Buckets,
        metrics: Arc<Metrics>,
    ) -> Result<Self, String> {
        let replica = settings.replica.clone().unwrap_or_else(default_replica);
        let setup = Setup {
            settings,
            buckets,
            metrics: &metrics,
            replica: &replica,
        };
        let mut sinks = Vec::new();
        for kind in SINKS {
            if let Some(sink) = (kind.build)(&setup)
                .map_err(|error| format!("audit sink {}: {error}", kind.name))?
            {
                sinks.push(sink);
            }
        }
        Ok(Self {
            sinks,
            metrics,
            alias: settings.bucket.clone(),
        })
    }

    /// Records one event in every sink.
    pub fn record(&self, event: AuditEvent) {
        self.metrics
            .lifecycle
            .audit_events
            .with_label_values(&[event.action.as_str()])
            .inc();
        for sink in &self.sinks {
            sink.record(&event);
        }
    }

    /// Writes every batched event now.
    pub async fn flush(&self) {
        join_all(self.sinks.iter().map(|sink| sink.flush())).await;
    }

    /// The alias audit objects go to (`[audit] bucket`).
    pub fn alias(&self) -> Option<&str> {
        self.alias.as_deref()
    }

    /// A batch delete: the keys deleted and those that failed, or the whole call's failure.
    pub fn deleted(
        &self,
        who: Who,
        alias: &str,
        keys: &KeyList,
        result: &Result<DeleteOutcome, StorageError>,
    ) {
        let event = match result {
            Ok(outcome) => {
                let failed: Vec<&str> = outcome.errors.iter().map(|e| e.key.as_str()).collect();
                let verdict = match (outcome.deleted.is_empty(), failed.is_empty()) {
                    (_, true) => "ok",
                    (true, false) => "failed",
                    (false, false) => "partial",
                };
                AuditEvent::new(Action::Delete, who, verdict)
                    .detail("deleted", outcome.deleted.clone())
                    .detail("failed", failed)
            }
            Err(_) => AuditEvent::new(Action::Delete, who, "failed")
                .detail("requested", keys.as_slice().to_vec()),
        };
        self.record(event.detail("bucket", alias));
    }

    /// A presigned URL was issued (or refused): for the presign route.
    pub fn presign(
        &self,
        who: Who,
        outcome: &str,
        alias: &str,
        key: &str,
        method: &str,
        expires_in_secs: u64,
    ) {
        self.record(
            AuditEvent::new(Action::Presign, who, outcome)
                .detail("bucket", alias)
                .detail("key", key)
                .detail("method", method)
                .detail("expiresIn", expires_in_secs),
        );
    }
}

/// The host name plus a random suffix per start, so that a restarted replica never writes
/// over the objects of its previous run.
fn default_replica() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "hoist".into());
    let host: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(40)
        .collect();
    format!("{host}-{}", &uuid::Uuid::new_v4().simple().to_string()[..6])
}

/// Problems of `[audit]`: the bucket must be a declared alias, the limits usable.
pub fn check(audit: &AuditSettings, buckets: &BTreeMap<String, BucketRoute>) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    if let Some(alias) = &audit.bucket
        && !buckets.contains_key(alias)
    {
        problems.push(ConfigProblem::new(
            "audit.bucket",
            format!("`{alias}` is not a declared bucket alias"),
        ));
    }
    if audit.batch == 0 {
        problems.push(ConfigProblem::new("audit.batch", "must be at least 1"));
    }
    if audit.flush.is_zero() {
        problems.push(ConfigProblem::new("audit.flush", "must be above zero"));
    }
    if let Some(replica) = &audit.replica
        && (replica.is_empty()
            || replica.len() > 64
            || !replica
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        problems.push(ConfigProblem::new(
            "audit.replica",
            "1 to 64 letters, digits, `-` and `_`",
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_one_json_line_with_who_what_and_outcome() {
        let event = AuditEvent::new(
            Action::Delete,
            Who::new(Some("me".into()), Some("127.0.0.1".into())),
            "ok",
        )
        .detail("keys", vec!["a", "b"]);
        let line = serde_json::to_string(&event).unwrap();
        assert!(!line.contains('\n'));
        let back: AuditEvent = serde_json::from_str(&line).unwrap();
        assert_eq!(back, event);
        let json: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(json["action"], "delete");
        assert_eq!(json["sub"], "me");
        assert_eq!(json["client"], "127.0.0.1");
        assert_eq!(json["details"]["keys"][1], "b");
        assert!(event.matches("DELETE"));
        assert!(!event.matches("presign"));
    }

    #[test]
    fn the_default_replica_is_a_safe_key_segment() {
        let replica = default_replica();
        assert!(
            replica
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{replica}"
        );
        assert_ne!(default_replica(), replica, "a fresh suffix per start");
    }
}
