//! `ImageError`: why an image was refused or failed. Its HTTP meaning is the HTTP layer's.

use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The declared type is not on the `[images] allowed` list.
    #[error("content type `{declared}` is not accepted; accepted types: {}", allowed.join(", "))]
    UnsupportedContentType {
        declared: String,
        allowed: Vec<String>,
    },
    /// A data URL declared one type and `contentType` another.
    #[error("the data URL declares `{data_url}` but contentType is `{declared}`")]
    DataUrlMismatch { data_url: String, declared: String },
    /// The decoded bytes are not an image of the declared type.
    #[error(
        "the data is not of type {declared} ({})",
        detected.map_or_else(
            || "its first bytes match no known image format".to_owned(),
            |detected| format!("it looks like {detected}"),
        )
    )]
    ContentTypeMismatch {
        declared: &'static str,
        detected: Option<&'static str>,
    },
    /// The image would decode to more than `[images] max_size` bytes.
    #[error("the image is {size} bytes; at most {max} bytes are accepted")]
    TooLarge { size: u64, max: u64 },
    /// The request body is larger than any acceptable image needs; it was not read further.
    #[error(
        "the request body exceeds {limit} bytes, more than an image of at most {max} bytes needs"
    )]
    BodyTooLarge { limit: u64, max: u64 },
    #[error("invalid base64: {0}")]
    InvalidBase64(String),
    /// Hoist's fault: a failed task, or a generated key the key rules refuse.
    /// Logged, never shown to the client.
    #[error("{0}")]
    Internal(String),
    /// The task that checks the image panicked or was cancelled.
    #[error("the image check failed")]
    Check(#[source] tokio::task::JoinError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A content type the images alias's `allowed_types` does not list.
    #[error(transparent)]
    TypeRefused(#[from] crate::storage::content::TypeRefused),
}

/// `Bucket::put_whole` fails only by the store or by the alias's type policy; anything else
/// from the upload pipeline would be Hoist's own fault.
impl From<crate::storage::upload::UploadError> for ImageError {
    fn from(error: crate::storage::upload::UploadError) -> Self {
        use crate::storage::upload::UploadError;
        match error {
            UploadError::Storage(storage) => Self::Storage(storage),
            UploadError::TypeRefused(refused) => Self::TypeRefused(refused),
            other => Self::Internal(other.to_string()),
        }
    }
}
