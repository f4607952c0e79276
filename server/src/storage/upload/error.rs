//! `UploadError`: what can end an upload, and its HTTP meaning.

use std::time::Duration;

use poem::http::StatusCode;

use super::super::StorageError;
use crate::http::ApiError;

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
    /// The body ended before its declared end or could not be read (client disconnect). The
    /// cause is for the logs only.
    #[error("the request body ended early or could not be read")]
    Body(String),
    /// A `multipart/form-data` body that does not follow the form's rules.
    #[error("{0}")]
    Form(String),
    #[error("the form has no `file` part")]
    MissingFile,
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The temporary file of a spooled upload failed.
    #[error("temporary file: {0}")]
    Spool(std::io::Error),
    #[error("{0}")]
    Internal(String),
}

impl From<UploadError> for ApiError {
    fn from(error: UploadError) -> Self {
        let message = error.to_string();
        match error {
            UploadError::TooLarge { .. } => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "file-too-large", message)
            }
            UploadError::ChecksumMismatch { .. } => {
                ApiError::bad_request("checksum-mismatch", message)
            }
            UploadError::InvalidChecksum(_) => ApiError::bad_request("invalid-checksum", message),
            UploadError::InvalidContentType(_) => {
                ApiError::bad_request("invalid-content-type", message)
            }
            UploadError::Stalled(_) => {
                ApiError::new(StatusCode::REQUEST_TIMEOUT, "request-timeout", message)
            }
            UploadError::Body(_) => ApiError::bad_request("incomplete-body", message),
            UploadError::Form(_) => ApiError::bad_request("invalid-form", message),
            UploadError::MissingFile => ApiError::bad_request("missing-file", message),
            UploadError::Storage(error) => error.into(),
            UploadError::Spool(error) => ApiError::internal(format!("spooling an upload: {error}")),
            UploadError::Internal(cause) => ApiError::internal(cause),
        }
    }
}
