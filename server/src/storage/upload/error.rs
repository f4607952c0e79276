//! `UploadError`: what can end an upload. Its HTTP meaning is the HTTP layer's.

use std::time::Duration;

use super::super::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the received bytes do not match x-amz-checksum-{algorithm}")]
    ChecksumMismatch { algorithm: &'static str },
    #[error("{0}")]
    InvalidChecksum(String),
    #[error("{0}")]
    InvalidContentType(String),
    #[error("no part of the body arrived for {0:?}")]
    Stalled(Duration),
    /// The body averaged less than `upload.min_rate` over a window.
    #[error("the body arrived slower than {min_rate} bytes/s over {window:?}")]
    TooSlow { min_rate: u64, window: Duration },
    /// No buffer memory within `upload.budget_wait`.
    #[error("the server is busy: {0}; retry later")]
    Busy(#[from] super::Busy),
    /// The spool files of all requests would pass `upload.spool_max_bytes`.
    #[error(
        "the server is busy: temporary space for forms that send `file` first is full; retry later, or send the destination fields before `file`"
    )]
    SpoolFull,
    /// A form's preamble or a part's headers went on past their bound.
    #[error("the form sent {limit} bytes without a complete boundary or part header")]
    FormHead { limit: u64 },
    /// The body ended before its declared end or could not be read (client disconnect). The
    /// cause is for the logs only.
    #[error("the request body ended early or could not be read")]
    Body(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A `multipart/form-data` body that does not follow the form's rules.
    #[error("{0}")]
    Form(String),
    #[error("the form has no `file` part")]
    MissingFile,
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A content type the alias's `allowed_types` does not list.
    #[error(transparent)]
    TypeRefused(#[from] crate::storage::content::TypeRefused),
    /// The temporary file of a spooled upload failed.
    #[error("temporary file of a spooled upload")]
    Spool(#[source] std::io::Error),
    /// No memory map for a part buffer.
    #[error("cannot map a part buffer")]
    Buffer(#[source] std::io::Error),
    /// A task of the upload (a part on its way, the spool file's creation) panicked or was
    /// cancelled.
    #[error("an upload task failed")]
    Task(#[source] tokio::task::JoinError),
}
