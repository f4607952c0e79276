//! Response types shared by the upload operations (files and images).

use poem_openapi::Object;

use crate::hooks::HookOutcome;
use crate::storage::upload::{Stored, Uploaded};

/// An object Hoist stored.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct StoredObject {
    /// URL of the object on its store's endpoint (not signed: reading it needs credentials).
    pub url: String,
    /// The file name: the key's last segment.
    pub name: String,
    /// The full object key.
    pub key: String,
    /// The bucket alias it was stored under.
    pub bucket: String,
    /// Size in bytes.
    pub size: u64,
    /// The stored `Content-Type`.
    pub content_type: String,
    /// CRC32C of the bytes, base64-encoded as in S3's `x-amz-checksum-crc32c`; S3 verified it.
    pub checksum: String,
    /// The upload hooks of an alias with `hook = "sync"`, each called once before this
    /// answer; absent for other aliases (their hooks, if any, are queued). The object is
    /// stored whatever they answered.
    #[oai(skip_serializing_if_is_none)]
    pub hooks: Option<Vec<HookReport>>,
}

/// How one upload hook call ended.
#[derive(Debug, Object)]
pub struct HookReport {
    /// The trigger called.
    pub trigger: String,
    /// The trigger did what was asked.
    pub success: bool,
    /// `ok`, `target-error` (the target answered with an error), `refused`, `timeout` or
    /// `failed` (unreachable or a downstream failure).
    pub outcome: String,
    /// The webhook's HTTP status or Lambda's status code, when the target answered.
    #[oai(skip_serializing_if_is_none)]
    pub status: Option<u16>,
}

impl From<HookOutcome> for HookReport {
    fn from(outcome: HookOutcome) -> Self {
        Self {
            trigger: outcome.trigger,
            success: outcome.success,
            outcome: outcome.outcome.to_owned(),
            status: outcome.status,
        }
    }
}

impl StoredObject {
    /// Adds the outcomes of synchronous hooks, when there were any.
    pub fn with_hooks(mut self, hooks: Option<Vec<HookOutcome>>) -> Self {
        self.hooks = hooks.map(|hooks| hooks.into_iter().map(HookReport::from).collect());
        self
    }
}

impl From<Stored<'_>> for StoredObject {
    fn from(Stored { bucket, object }: Stored<'_>) -> Self {
        let Uploaded {
            key,
            size,
            content_type,
            checksum,
        } = object;
        Self {
            url: bucket.object_url(&key),
            name: key.rsplit('/').next().unwrap_or(&key).to_owned(),
            key,
            bucket: bucket.alias.clone(),
            size,
            content_type,
            checksum,
            hooks: None,
        }
    }
}
