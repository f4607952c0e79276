//! The storage services of the upload lifecycle: the janitor's listing and abort of
//! incomplete multipart uploads, and the audit trail's small NDJSON objects.

use bytes::Bytes;

use super::model::{IncompleteUpload, ObjectSummary};
use super::{Bucket, StorageError};
use crate::storage::checksum::Crc32c;

/// Most incomplete uploads one listing returns; the next janitor pass sees the rest.
const MAX_INCOMPLETE: usize = 10_000;

/// Most objects one listing of an audit hour returns.
const MAX_LISTED: usize = 10_000;

impl Bucket {
    /// The incomplete multipart uploads of the bucket. Stores that do not implement
    /// ListMultipartUploads (s3s-fs) answer `Backend { code: "NotImplemented" }`.
    pub async fn incomplete_uploads(&self) -> Result<Vec<IncompleteUpload>, StorageError> {
        self.store.list_multipart_uploads(MAX_INCOMPLETE).await
    }

    /// Aborts one incomplete multipart upload. `Ok(false)`: it was already gone (another
    /// replica, or its own request, got there first), which is as good.
    pub async fn abort_incomplete(&self, upload: &IncompleteUpload) -> Result<bool, StorageError> {
        match self
            .store
            .abort_multipart_upload(&upload.key, &upload.upload_id)
            .await
        {
            Ok(()) => Ok(true),
            Err(StorageError::Backend { code, .. }) if code == "NoSuchUpload" => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Stores a small object Hoist wrote itself (an audit batch), with its CRC32C.
    pub async fn put_small(
        &self,
        key: &str,
        body: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        let checksum = Crc32c::of(&body);
        self.store
            .put_object(key, body, content_type, &checksum)
            .await
    }

    /// Reads a whole object of at most `max_bytes`.
    pub async fn read_small(&self, key: &str, max_bytes: u64) -> Result<Bytes, StorageError> {
        self.store.get_object_bytes(key, max_bytes).await
    }

    /// The objects under `prefix` (not normalized: an exact key prefix), in key order.
    pub async fn objects_under(&self, prefix: &str) -> Result<Vec<ObjectSummary>, StorageError> {
        let (objects, _) = self.store.list_objects(prefix, MAX_LISTED, None).await?;
        Ok(objects)
    }
}
