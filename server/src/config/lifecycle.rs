//! The upload-lifecycle sections: `[hooks]` (delivery of upload events to triggers),
//! `[janitor]` (aborting abandoned multipart uploads) and `[audit]` (the audit trail).
//! The per-alias keys (`on_upload`, `hook`) live in `BucketRoute`.

use std::time::Duration;

use serde::Deserialize;

/// `hook = "..."` of a bucket alias: whether the upload's response waits for its hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HookMode {
    /// Queue the deliveries and answer at once; failures are retried in the background.
    #[default]
    Async,
    /// Call every hook once before answering, and report the outcomes in `data.hooks`.
    Sync,
}

/// `[hooks]`: delivery of upload events to the triggers named by `on_upload`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct HookSettings {
    /// Attempts per delivery, the first included.
    pub max_attempts: u32,
    /// A delivery still failing this long after the upload is given up.
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
    /// Deliveries held in memory, new and waiting for a retry; when full, the oldest is
    /// dropped and counted.
    pub queue: usize,
    /// Wait before the first retry; doubled after every failed attempt, at most 5 minutes.
    #[serde(with = "humantime_serde")]
    pub backoff: Duration,
    /// Deliveries in flight at once.
    pub concurrency: usize,
}

impl Default for HookSettings {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            max_age: Duration::from_secs(3600),
            queue: 10_000,
            backoff: Duration::from_secs(1),
            concurrency: 8,
        }
    }
}

/// `[janitor]`: the periodic pass that aborts abandoned multipart uploads.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct JanitorSettings {
    /// Run a pass every `interval` while serving.
    pub enabled: bool,
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// Incomplete multipart uploads started longer ago than this are aborted.
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
}

impl Default for JanitorSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            interval: Duration::from_secs(3600),
            max_age: Duration::from_secs(24 * 3600),
        }
    }
}

/// `[audit]`: where audit events go besides the `hoist::audit` log target.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuditSettings {
    /// A bucket alias to write audit events to as NDJSON objects under `audit/`.
    pub bucket: Option<String>,
    /// Longest time an event waits in memory before it is written.
    #[serde(with = "humantime_serde")]
    pub flush: Duration,
    /// Events per object: a full batch is written at once.
    pub batch: usize,
    /// This replica's name in object keys; defaults to the host name plus a random suffix
    /// per start.
    pub replica: Option<String>,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            bucket: None,
            flush: Duration::from_secs(60),
            batch: 1000,
            replica: None,
        }
    }
}
