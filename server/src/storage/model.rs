//! The values storage services hand back: listed objects, delete outcomes and incomplete
//! multipart uploads. They sit apart from the services so the S3 layer (`s3.rs`) can build
//! them without importing the services.

use std::cmp::Reverse;
use std::time::SystemTime;

/// What happened to each requested key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteOutcome {
    pub deleted: Vec<String>,
    pub errors: Vec<KeyFailure>,
}

/// A key S3 did not delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFailure {
    pub key: String,
    /// S3's error code (`AccessDenied`, ...), or Hoist's when the whole call failed.
    pub code: String,
    pub message: String,
}

/// One object as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSummary {
    pub key: String,
    pub last_modified: SystemTime,
    pub size: u64,
}

impl ObjectSummary {
    /// The listing order: newest first, then by key so equal dates (S3 keeps milliseconds or
    /// whole seconds) still have one stable order.
    pub(super) fn sort_key(&self) -> (Reverse<SystemTime>, &str) {
        (Reverse(self.last_modified), &self.key)
    }
}

/// A multipart upload that was started and neither completed nor aborted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncompleteUpload {
    pub key: String,
    pub upload_id: String,
    /// When it was started, as the store reports it.
    pub initiated: SystemTime,
}
