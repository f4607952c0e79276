//! The state of one tus upload, kept in its bucket beside the multipart upload as a small
//! JSON object under `.hoist/tus/<uuid>/`: what is being uploaded, how far it got, which
//! parts S3 holds, the tail of bytes too short to be a part yet, and which PATCH holds it.
//! Every change is a conditional write on the state object's ETag, so replicas that share the
//! bucket agree on one history, and a restart loses nothing.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The folder of a bucket that holds tus state (inside `keys::RESERVED_PREFIX`).
pub const TUS_STATE_PREFIX: &str = ".hoist/tus/";

/// The largest state object read back: many parts at ~100 bytes each.
pub const MAX_STATE_BYTES: u64 = 4 * 1024 * 1024;

/// Tail pieces kept before they are merged into one: bounds the state object and the reads
/// that assemble a part, whatever the PATCH sizes (a client sending one byte per PATCH).
pub const MAX_PIECES: usize = 32;

/// S3's highest part number.
pub const MAX_PARTS: u32 = 10_000;

/// One part S3 holds for the upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRecord {
    pub number: u32,
    pub etag: String,
    /// CRC32C of the part, base64.
    pub crc32c: String,
    pub size: u64,
}

/// Bytes received after the last part, kept as temporary objects (one per PATCH that ended
/// short of a part) until together with what follows they fill a part: each byte is written
/// and read back once, whatever the PATCH size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TailRecord {
    pub key: String,
    pub size: u64,
}

/// The PATCH appending right now, until `until` (seconds since the epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub holder: String,
    pub until: u64,
}

/// Everything Hoist knows about one tus upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TusState {
    pub key: String,
    pub upload_id: String,
    pub length: u64,
    /// Bytes received and kept (in parts and the tail).
    pub offset: u64,
    pub content_type: String,
    pub disposition: Option<String>,
    /// `Upload-Metadata`, decoded, to echo on HEAD.
    pub metadata: BTreeMap<String, String>,
    pub parts: Vec<PartRecord>,
    /// The pieces of the next part, in order.
    pub tails: Vec<TailRecord>,
    /// The next part number to use. Raised past every number a lost PATCH may still write
    /// when its lease is taken over, so that PATCH can never overwrite a part this one keeps.
    pub next_part: u32,
    pub lease: Option<Lease>,
    /// Seconds since the epoch.
    pub expires: u64,
    /// The `sub` of the token that created it.
    pub created_by: Option<String>,
}

impl TusState {
    /// The key of the state object of upload `uuid`.
    pub fn object_key(uuid: &str) -> String {
        format!("{TUS_STATE_PREFIX}{uuid}/state.json")
    }

    /// The folder of every object of upload `uuid`.
    pub fn folder(uuid: &str) -> String {
        format!("{TUS_STATE_PREFIX}{uuid}/")
    }

    /// The key of a tail that ends at `offset`: one key per offset, so a tail never replaces
    /// another a later state refers to.
    pub fn tail_key(uuid: &str, offset: u64) -> String {
        format!("{TUS_STATE_PREFIX}{uuid}/tail-{offset}")
    }

    /// Bytes held in parts.
    pub fn in_parts(&self) -> u64 {
        self.parts.iter().map(|part| part.size).sum()
    }

    /// Bytes held in tail pieces.
    pub fn in_tails(&self) -> u64 {
        self.tails.iter().map(|tail| tail.size).sum()
    }

    pub fn is_expired(&self, now: SystemTime) -> bool {
        epoch_secs(now) >= self.expires
    }

    pub fn expires_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.expires)
    }

    /// Whether a PATCH holds the upload at `now`.
    pub fn is_held(&self, now: SystemTime) -> bool {
        self.lease
            .as_ref()
            .is_some_and(|lease| lease.until > epoch_secs(now))
    }
}

pub fn epoch_secs(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// Whole seconds since the epoch, rounded up: an expiry is never earlier than asked.
pub fn epoch_secs_ceil(at: SystemTime) -> u64 {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    since.as_secs() + u64::from(since.subsec_nanos() > 0)
}
