//! The `bucket` audit sink: events batched in memory and written to `[audit] bucket` as
//! NDJSON objects `audit/YYYY/MM/DD/HH/<replica>-<seq>.ndjson`, every `[audit] flush` or as
//! soon as `[audit] batch` events are waiting, and once more at a clean shutdown.
//!
//! Memory is bounded: when the store fails, batches wait for the next flush, up to ten
//! batches; beyond that the oldest events are dropped and counted.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::sync::Notify;

use super::{AuditEvent, Built, Setup, Sink, SinkKind};
use crate::metrics::Metrics;
use crate::storage::{Bucket, StorageError};

pub const SINK: SinkKind = SinkKind {
    name: "bucket",
    build,
};

/// Where audit objects live in the audit alias.
pub const PREFIX: &str = "audit/";

/// Batches held while the store fails, before the oldest events are dropped.
const MAX_BATCHES_HELD: usize = 10;

fn build(setup: &Setup<'_>) -> Built {
    let Some(alias) = &setup.settings.bucket else {
        return Ok(None);
    };
    let bucket = setup
        .buckets
        .get(alias)
        .ok_or_else(|| format!("`{alias}` is not a bucket alias"))?;
    let shared = Arc::new(Shared {
        store: bucket.clone(),
        replica: setup.replica.to_owned(),
        batch: setup.settings.batch.max(1),
        pending: Mutex::new(VecDeque::new()),
        seq: AtomicU64::new(0),
        full: Notify::new(),
        writing: tokio::sync::Mutex::new(()),
        metrics: setup.metrics.clone(),
    });
    let every = setup.settings.flush;
    let task = tokio::spawn(flush_loop(shared.clone(), every));
    Ok(Some(Box::new(BucketSink { shared, task })))
}

#[derive(Debug)]
struct Shared {
    store: Bucket,
    replica: String,
    batch: usize,
    /// Events not yet written, oldest first, as their `at` and NDJSON line.
    pending: Mutex<VecDeque<(String, String)>>,
    seq: AtomicU64,
    /// Woken when a batch is full.
    full: Notify,
    /// One write at a time, so sequence numbers follow the order of events.
    writing: tokio::sync::Mutex<()>,
    metrics: Arc<Metrics>,
}

#[derive(Debug)]
struct BucketSink {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for BucketSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sink for BucketSink {
    fn record(&self, event: &AuditEvent) {
        let Ok(line) = serde_json::to_string(event) else {
            return;
        };
        let full = {
            let mut pending = self.shared.lock();
            pending.push_back((event.at.clone(), line));
            let limit = self.shared.batch * MAX_BATCHES_HELD;
            let mut dropped = 0;
            while pending.len() > limit {
                pending.pop_front();
                dropped += 1;
            }
            if dropped > 0 {
                self.shared.metrics.lifecycle.audit_dropped.inc_by(dropped);
                tracing::error!(dropped, "audit events dropped: the audit bucket is failing");
            }
            pending.len() >= self.shared.batch
        };
        if full {
            self.shared.full.notify_one();
        }
    }

    fn flush(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            // Until everything pending is written, or a write fails (it is retried later).
            while !self.shared.lock().is_empty() {
                if self.shared.write_batch().await.is_err() {
                    break;
                }
            }
        })
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(String, String)>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes up to one batch as one object; on failure the events go back to the front.
    async fn write_batch(&self) -> Result<(), StorageError> {
        let _writing = self.writing.lock().await;
        let batch: Vec<(String, String)> = {
            let mut pending = self.lock();
            let n = pending.len().min(self.batch);
            pending.drain(..n).collect()
        };
        let Some((first_at, _)) = batch.first() else {
            return Ok(());
        };
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let key = object_key(first_at, &self.replica, seq);
        let mut body = String::new();
        for (_, line) in &batch {
            body.push_str(line);
            body.push('\n');
        }
        let result = self
            .store
            .put_small(&key, Bytes::from(body), "application/x-ndjson")
            .await;
        match &result {
            Ok(()) => {
                self.metrics
                    .lifecycle
                    .audit_writes
                    .with_label_values(&["ok"])
                    .inc();
                tracing::debug!(key, events = batch.len(), "audit batch written");
            }
            Err(error) => {
                self.metrics
                    .lifecycle
                    .audit_writes
                    .with_label_values(&["failed"])
                    .inc();
                tracing::error!(%error, key, events = batch.len(), "cannot write an audit batch; kept for the next flush");
                let mut pending = self.lock();
                for entry in batch.into_iter().rev() {
                    pending.push_front(entry);
                }
            }
        }
        result
    }
}

async fn flush_loop(shared: Arc<Shared>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = shared.full.notified() => {}
        }
        loop {
            let waiting = shared.lock().len();
            if waiting == 0 || shared.write_batch().await.is_err() {
                break;
            }
            // After a timed flush, write everything; after a full batch, only full batches.
            if shared.lock().len() < shared.batch {
                break;
            }
        }
    }
}

/// `audit/YYYY/MM/DD/HH/<replica>-<seq>.ndjson`, the hour being the first event's (UTC).
fn object_key(first_at: &str, replica: &str, seq: u64) -> String {
    // `at` is RFC 3339: `2026-12-02T03:04:05.678Z`.
    let hour = match (
        first_at.get(0..4),
        first_at.get(5..7),
        first_at.get(8..10),
        first_at.get(11..13),
    ) {
        (Some(y), Some(m), Some(d), Some(h)) => format!("{y}/{m}/{d}/{h}"),
        _ => "unknown".to_owned(),
    };
    format!("{PREFIX}{hour}/{replica}-{seq:08}.ndjson")
}

/// Hours looked back for recent events (one listing per hour).
const HOURS_BACK: u64 = 48;

/// The newest audit events of `store`, newest first: at most `limit` events that contain
/// `filter`, from the objects of the last 48 hours, at most `max_objects` of them read.
pub async fn read_recent(
    store: &Bucket,
    limit: usize,
    filter: Option<&str>,
    max_objects: usize,
) -> Result<Vec<AuditEvent>, StorageError> {
    let now = SystemTime::now();
    let mut events = Vec::new();
    let mut read = 0;
    for hours in 0..HOURS_BACK {
        let at = now - Duration::from_secs(hours * 3600);
        let at = humantime::format_rfc3339_millis(at).to_string();
        let prefix = object_key(&at, "", 0);
        let prefix = &prefix[..prefix.rfind('/').map_or(0, |i| i + 1)];
        let mut objects = store.objects_under(prefix).await?;
        // Within an hour, the last written first.
        objects.sort_by(|a, b| {
            b.last_modified
                .cmp(&a.last_modified)
                .then_with(|| b.key.cmp(&a.key))
        });
        for object in objects {
            if events.len() >= limit || read >= max_objects {
                break;
            }
            read += 1;
            let body = store.read_small(&object.key, MAX_OBJECT_BYTES).await?;
            let mut in_object: Vec<AuditEvent> = body
                .split(|b| *b == b'\n')
                .filter(|line| !line.is_empty())
                .filter_map(|line| serde_json::from_slice(line).ok())
                .filter(|event: &AuditEvent| filter.is_none_or(|f| event.matches(f)))
                .collect();
            in_object.reverse();
            events.extend(in_object);
        }
        if events.len() >= limit || read >= max_objects {
            break;
        }
    }
    // Several replicas write the same hour: order by time across them.
    events.sort_by(|a, b| b.at.cmp(&a.at));
    events.truncate(limit);
    Ok(events)
}

/// Largest audit object read back (a batch of 1,000 events is far below it).
const MAX_OBJECT_BYTES: u64 = 16 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_by_hour_replica_and_sequence() {
        assert_eq!(
            object_key("2026-12-02T03:04:05.678Z", "web-1", 7),
            "audit/2026/12/02/03/web-1-00000007.ndjson"
        );
        assert_eq!(object_key("?", "r", 1), "audit/unknown/r-00000001.ndjson");
    }
}
