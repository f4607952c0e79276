//! What an upload request ends with, and the one place its outcome is counted: every upload
//! route (multipart form, raw body, base64 image) runs its work through [`Uploads::counted`],
//! so each request adds its bytes, or one failure by reason, exactly once.

use super::{Uploaded, Uploads};
use crate::metrics::FailureReason;
use crate::storage::Bucket;

/// An object an upload request stored, and the alias it went to.
#[derive(Debug)]
pub struct Stored<'a> {
    pub bucket: &'a Bucket,
    pub object: Uploaded,
}

impl Uploads {
    /// Runs one upload request's `work` and counts how it ended.
    pub async fn counted<'a, E: FailureReason>(
        &self,
        work: impl Future<Output = Result<Stored<'a>, E>>,
    ) -> Result<Stored<'a>, E> {
        let result = work.await;
        match &result {
            Ok(stored) => self.metrics.upload_bytes.inc_by(stored.object.size),
            Err(error) => self.count_failure(error),
        }
        result
    }

    /// Counts a form upload whose file waits in a temporary file.
    pub(super) fn count_spooled(&self) {
        self.metrics.uploads_spooled.inc();
    }

    /// Counts an upload request refused before its work could start (a body too large to
    /// read, refused by the HTTP layer).
    pub fn count_failure(&self, error: &impl FailureReason) {
        self.metrics
            .upload_failures
            .with_label_values(&[error.reason()])
            .inc();
    }
}
