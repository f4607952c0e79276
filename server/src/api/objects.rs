//! Response types shared by the upload operations (files and images).

use poem_openapi::Object;

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
        }
    }
}
