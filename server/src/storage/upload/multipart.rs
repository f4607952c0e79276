//! One S3 multipart upload in progress: parts sent concurrently as their buffers fill, and
//! the guarantee that an upload which does not complete is aborted, whether it failed, was
//! refused, or its request was dropped because the client went away.

use std::sync::Arc;

use bytes::Bytes;
use tokio::task::JoinSet;
use tracing::Instrument;

use super::budget::Reservation;
use super::{Activity, UploadError};
use crate::metrics::Metrics;
use crate::storage::StorageError;
use crate::storage::checksum::Crc32c;
use crate::storage::content::StoredType;
use crate::storage::s3::{PartReceipt, S3Bucket};

/// A filled part buffer and the budget it holds until S3 has it.
pub(super) struct Part {
    pub data: Bytes,
    pub crc: Crc32c,
    pub reservation: Reservation,
}

/// What cleaning up needs besides the upload itself.
#[derive(Clone)]
pub(super) struct CleanupContext {
    pub metrics: Arc<Metrics>,
    pub activity: Activity,
}

pub(super) struct MultipartUpload {
    bucket: S3Bucket,
    key: Arc<str>,
    upload_id: Arc<str>,
    sending: JoinSet<Result<PartReceipt, StorageError>>,
    receipts: Vec<PartReceipt>,
    context: CleanupContext,
    /// Completed or aborted: nothing left to clean up.
    settled: bool,
}

impl MultipartUpload {
    pub async fn start(
        bucket: &S3Bucket,
        key: &str,
        stored: &StoredType,
        context: CleanupContext,
    ) -> Result<Self, UploadError> {
        let upload_id = bucket
            .create_multipart_upload(key, &stored.content_type, stored.disposition.as_deref())
            .await?;
        tracing::debug!(key, upload_id, "multipart upload started");
        Ok(Self {
            bucket: bucket.clone(),
            key: key.into(),
            upload_id: upload_id.into(),
            sending: JoinSet::new(),
            receipts: Vec::new(),
            context,
            settled: false,
        })
    }

    /// Sends a part in a task of its own, so parts travel concurrently (and on every core)
    /// while the next one fills; its buffer is released when S3 has it.
    pub fn send(&mut self, number: i32, part: Part) {
        let bucket = self.bucket.clone();
        let key = self.key.clone();
        let upload_id = self.upload_id.clone();
        self.sending.spawn(
            async move {
                let Part {
                    data,
                    crc,
                    reservation,
                } = part;
                let crc32c = crc.to_base64();
                let etag = bucket
                    .upload_part(&key, &upload_id, number, data, &crc32c)
                    .await?;
                drop(reservation);
                Ok(PartReceipt {
                    number,
                    etag,
                    crc32c,
                })
            }
            .in_current_span(),
        );
    }

    pub fn in_flight(&self) -> usize {
        self.sending.len()
    }

    /// Waits for one part on its way to finish (call only with parts in flight).
    pub async fn next_sent(&mut self) -> Result<(), UploadError> {
        match self.sending.join_next().await {
            None => Ok(()),
            Some(Ok(Ok(receipt))) => {
                self.receipts.push(receipt);
                Ok(())
            }
            Some(Ok(Err(error))) => Err(error.into()),
            Some(Err(error)) => Err(UploadError::Task(error)),
        }
    }

    /// Drives `work` (filling the next part) to its end while noticing, at once, a part that
    /// failed on its way to S3.
    pub async fn alongside<F: Future>(&mut self, work: F) -> Result<F::Output, UploadError> {
        let mut work = std::pin::pin!(work);
        loop {
            tokio::select! {
                biased;
                sent = self.next_sent(), if self.in_flight() > 0 => sent?,
                output = &mut work => return Ok(output),
            }
        }
    }

    pub async fn finish_sending(&mut self) -> Result<(), UploadError> {
        while self.in_flight() > 0 {
            self.next_sent().await?;
        }
        Ok(())
    }

    /// Completes the upload: the object appears. Any failure aborts it.
    pub async fn complete(mut self, crc32c: &str, size: u64) -> Result<(), UploadError> {
        let result = async {
            self.finish_sending().await?;
            self.receipts.sort_by_key(|receipt| receipt.number);
            self.bucket
                .complete_multipart_upload(&self.key, &self.upload_id, &self.receipts, crc32c, size)
                .await?;
            Ok(())
        }
        .await;
        match result {
            Ok(()) => {
                self.settled = true;
                Ok(())
            }
            Err(error) => {
                self.abort().await;
                Err(error)
            }
        }
    }

    /// Aborts the upload now, after the parts still on their way have landed.
    pub async fn abort(mut self) {
        self.settled = true;
        let sending = std::mem::take(&mut self.sending);
        cleanup(
            self.bucket.clone(),
            self.key.clone(),
            self.upload_id.clone(),
            sending,
            self.context.metrics.clone(),
        )
        .await;
    }
}

impl Drop for MultipartUpload {
    /// The request was dropped mid-upload (client gone, server shutting down): abort in the
    /// background, counted as activity so shutdown and tests can wait for it.
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!(
                key = %self.key,
                upload_id = %self.upload_id,
                "no runtime to abort a dropped multipart upload"
            );
            return;
        };
        let activity = self.context.activity.enter();
        let task = cleanup(
            self.bucket.clone(),
            self.key.clone(),
            self.upload_id.clone(),
            std::mem::take(&mut self.sending),
            self.context.metrics.clone(),
        );
        runtime.spawn(
            async move {
                task.await;
                drop(activity);
            }
            .in_current_span(),
        );
    }
}

/// Waits for parts in flight (S3 may still store a part that arrives after an abort), then
/// aborts. A failed abort is logged with what an operator needs to clean up by hand.
async fn cleanup(
    bucket: S3Bucket,
    key: Arc<str>,
    upload_id: Arc<str>,
    mut sending: JoinSet<Result<PartReceipt, StorageError>>,
    metrics: Arc<Metrics>,
) {
    while sending.join_next().await.is_some() {}
    match bucket.abort_multipart_upload(&key, &upload_id).await {
        Ok(()) => {
            metrics.multipart_aborts.inc();
            tracing::info!(key = %key, upload_id = %upload_id, "multipart upload aborted");
        }
        Err(error) => tracing::error!(
            %error,
            bucket = bucket.bucket(),
            key = %key,
            upload_id = %upload_id,
            "cannot abort a multipart upload; an AbortIncompleteMultipartUpload lifecycle rule \
             on the bucket will remove its parts"
        ),
    }
}
