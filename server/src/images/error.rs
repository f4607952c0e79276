//! `ImageError`: why an image was refused, and what each reason means over HTTP.

use poem::http::StatusCode;

use crate::http::ApiError;
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
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ImageError {
    /// The stable code the client sees, and the `reason` label of the failure metric. Storage
    /// failures are labelled `storage`; the client sees the storage layer's own code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnsupportedContentType { .. } => "unsupported-content-type",
            Self::DataUrlMismatch { .. } | Self::ContentTypeMismatch { .. } => {
                "content-type-mismatch"
            }
            Self::TooLarge { .. } | Self::BodyTooLarge { .. } => "file-too-large",
            Self::InvalidBase64(_) => "invalid-base64",
            Self::Internal(_) => "internal",
            Self::Storage(_) => "storage",
        }
    }
}

impl From<ImageError> for ApiError {
    fn from(error: ImageError) -> Self {
        let status = match error {
            ImageError::UnsupportedContentType { .. }
            | ImageError::DataUrlMismatch { .. }
            | ImageError::ContentTypeMismatch { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ImageError::TooLarge { .. } | ImageError::BodyTooLarge { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ImageError::InvalidBase64(_) => StatusCode::BAD_REQUEST,
            ImageError::Internal(_) => return ApiError::internal(&error),
            ImageError::Storage(storage) => return ApiError::from(storage),
        };
        ApiError::new(status, error.code(), error.to_string())
    }
}
