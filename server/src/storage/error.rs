//! `StorageError`: what can go wrong between Hoist and a bucket, and its HTTP meaning.

use poem::http::StatusCode;

use crate::http::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("`{0}` is not a configured bucket alias")]
    UnknownBucket(String),
    #[error("no bucketName given and no default bucket is configured")]
    NoDefaultBucket,
    #[error("invalid key: {0}")]
    InvalidKey(String),
    #[error("object `{0}` does not exist")]
    NotFound(String),
    /// The store could not be reached or did not answer in time.
    #[error("storage unreachable: {0}")]
    Unavailable(String),
    /// The store answered with an error.
    #[error("storage error {code}: {message}")]
    Backend { code: String, message: String },
    #[error("embedded store: {0}")]
    Embedded(String),
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match &error {
            StorageError::UnknownBucket(_) | StorageError::NoDefaultBucket => {
                ApiError::bad_request("unknown-bucket", error.to_string())
            }
            StorageError::InvalidKey(_) => ApiError::bad_request("invalid-key", error.to_string()),
            StorageError::InvalidCursor(_) => {
                ApiError::bad_request("invalid-cursor", error.to_string())
            }
            StorageError::NotFound(_) => ApiError::not_found("not-found", error.to_string()),
            StorageError::Unavailable(_) | StorageError::Backend { .. } => {
                tracing::error!(%error, "storage call failed");
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "storage-unavailable",
                    "the object store failed or is unreachable",
                )
            }
            StorageError::Embedded(_) => ApiError::internal(&error),
        }
    }
}
