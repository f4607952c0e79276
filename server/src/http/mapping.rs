//! Every domain error's meaning over HTTP, in one place: its [`ErrorCode`] (which is also its
//! failure-metric reason), its status, and the message the client sees. A refusal shows its
//! own text; a failure of Hoist or downstream shows a fixed text and keeps the domain error as
//! the cause, which the middleware logs once.

use super::refusal::Refusal;
use super::{ApiError, ErrorCode};
use crate::auth::AuthError;
use crate::images::ImageError;
use crate::limits::Limited;
use crate::metrics::FailureReason;
use crate::storage::upload::UploadError;
use crate::storage::{StorageError, Unready};
use crate::triggers::TriggerError;

/// What a busy server asks clients to wait before they retry: long enough for uploads that
/// hold the budget to move on, short enough not to lose the client.
pub const BUSY_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

/// The client's message for a store that failed; S3's own message may name the real bucket.
const STORE_FAILED: &str = "the object store failed or is unreachable";

impl From<&StorageError> for ErrorCode {
    fn from(error: &StorageError) -> Self {
        match error {
            StorageError::UnknownBucket(_) | StorageError::NoDefaultBucket => {
                ErrorCode::UnknownBucket
            }
            StorageError::InvalidKey(_) => ErrorCode::InvalidKey,
            StorageError::InvalidCursor(_) => ErrorCode::InvalidCursor,
            StorageError::NotFound(_) => ErrorCode::NotFound,
            StorageError::Unavailable(_) | StorageError::Backend { .. } => {
                ErrorCode::StorageUnavailable
            }
            StorageError::Embedded(_) => ErrorCode::Internal,
            StorageError::InvalidLimit { .. }
            | StorageError::OffsetAndCursor
            | StorageError::UnsupportedDelimiter => ErrorCode::BadRequest,
            StorageError::NoKeys => ErrorCode::MissingFileKeys,
            StorageError::TooManyKeys { .. } => ErrorCode::TooManyKeys,
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match ErrorCode::from(&error) {
            ErrorCode::StorageUnavailable => {
                ApiError::new(ErrorCode::StorageUnavailable, STORE_FAILED).caused_by(error)
            }
            ErrorCode::Internal => ApiError::internal(error),
            code => ApiError::new(code, error.to_string()),
        }
    }
}

impl From<Unready> for ApiError {
    fn from(unready: Unready) -> Self {
        let aliases: Vec<&str> = unready.aliases().collect();
        let message = format!("unreachable bucket aliases: {}", aliases.join(", "));
        ApiError::new(ErrorCode::NotReady, message).caused_by(unready)
    }
}

impl From<&UploadError> for ErrorCode {
    fn from(error: &UploadError) -> Self {
        match error {
            UploadError::TooLarge { .. } => ErrorCode::FileTooLarge,
            UploadError::ChecksumMismatch { .. } => ErrorCode::ChecksumMismatch,
            UploadError::InvalidChecksum(_) => ErrorCode::InvalidChecksum,
            UploadError::InvalidContentType(_) => ErrorCode::InvalidContentType,
            UploadError::Stalled(_) | UploadError::TooSlow { .. } => ErrorCode::RequestTimeout,
            UploadError::Busy(_) | UploadError::SpoolFull => ErrorCode::ServerBusy,
            UploadError::FormHead { .. } => ErrorCode::InvalidForm,
            UploadError::Body(_) => ErrorCode::IncompleteBody,
            UploadError::Form(_) => ErrorCode::InvalidForm,
            UploadError::MissingFile => ErrorCode::MissingFile,
            UploadError::Storage(storage) => storage.into(),
            UploadError::Spool(_) | UploadError::Buffer(_) | UploadError::Task(_) => {
                ErrorCode::Internal
            }
        }
    }
}

impl From<UploadError> for ApiError {
    fn from(error: UploadError) -> Self {
        let error = match error {
            UploadError::Storage(storage) => return storage.into(),
            error => error,
        };
        let refusal = match &error {
            UploadError::Stalled(_) => Some(Refusal::StalledBody),
            UploadError::TooSlow { .. } => Some(Refusal::SlowBody),
            UploadError::Busy(_) => Some(Refusal::BudgetWait),
            UploadError::SpoolFull => Some(Refusal::SpoolFull),
            UploadError::FormHead { .. } => Some(Refusal::FormHead),
            _ => None,
        };
        let api = match ErrorCode::from(&error) {
            ErrorCode::Internal => return ApiError::internal(error),
            // A broken-off body's cause is worth a debug line, not the client's attention.
            ErrorCode::IncompleteBody => {
                return ApiError::new(ErrorCode::IncompleteBody, error.to_string())
                    .caused_by(error);
            }
            ErrorCode::ServerBusy => ApiError::new(ErrorCode::ServerBusy, error.to_string())
                .retry_after(BUSY_RETRY_AFTER),
            code => ApiError::new(code, error.to_string()),
        };
        match refusal {
            Some(refusal) => api.refused(refusal),
            None => api,
        }
    }
}

impl FailureReason for UploadError {
    fn reason(&self) -> &'static str {
        ErrorCode::from(self).as_str()
    }
}

impl From<&ImageError> for ErrorCode {
    fn from(error: &ImageError) -> Self {
        match error {
            ImageError::UnsupportedContentType { .. } => ErrorCode::UnsupportedContentType,
            ImageError::DataUrlMismatch { .. } | ImageError::ContentTypeMismatch { .. } => {
                ErrorCode::ContentTypeMismatch
            }
            ImageError::TooLarge { .. } | ImageError::BodyTooLarge { .. } => {
                ErrorCode::FileTooLarge
            }
            ImageError::InvalidBase64(_) => ErrorCode::InvalidBase64,
            ImageError::Internal(_) | ImageError::Check(_) => ErrorCode::Internal,
            ImageError::Storage(storage) => storage.into(),
        }
    }
}

impl From<ImageError> for ApiError {
    fn from(error: ImageError) -> Self {
        let error = match error {
            ImageError::Storage(storage) => return storage.into(),
            error => error,
        };
        match ErrorCode::from(&error) {
            ErrorCode::Internal => ApiError::internal(error),
            code => ApiError::new(code, error.to_string()),
        }
    }
}

impl FailureReason for ImageError {
    fn reason(&self) -> &'static str {
        ErrorCode::from(self).as_str()
    }
}

impl From<&TriggerError> for ErrorCode {
    fn from(error: &TriggerError) -> Self {
        match error {
            TriggerError::Unknown(_) => ErrorCode::UnknownTrigger,
            TriggerError::InvalidIdempotencyKey => ErrorCode::InvalidIdempotencyKey,
            TriggerError::ReservedField(_) => ErrorCode::ReservedField,
            TriggerError::TooLarge { .. } => ErrorCode::PayloadTooLarge,
            TriggerError::IdempotencyConflict => ErrorCode::IdempotencyConflict,
            TriggerError::Timeout
            | TriggerError::Unreachable(_)
            | TriggerError::Downstream { .. } => ErrorCode::TriggerFailed,
        }
    }
}

/// The client learns only that the trigger failed, or timed out; the cause is logged.
impl From<TriggerError> for ApiError {
    fn from(error: TriggerError) -> Self {
        let message = match &error {
            TriggerError::Timeout => {
                "the trigger's target did not answer within the trigger's timeout"
            }
            TriggerError::Unreachable(_) | TriggerError::Downstream { .. } => {
                "the trigger's target failed or is unreachable; the correlation id finds the \
                 cause in the logs"
            }
            _ => return ApiError::new(ErrorCode::from(&error), error.to_string()),
        };
        ApiError::new(ErrorCode::TriggerFailed, message).caused_by(error)
    }
}

impl From<Limited> for ApiError {
    fn from(limited: Limited) -> Self {
        let wait =
            limited.retry_after.as_secs() + u64::from(limited.retry_after.subsec_nanos() > 0);
        let message = format!(
            "over the {} rate limit of {}; retry in {} s",
            limited.limit,
            limited.rate,
            wait.max(1)
        );
        ApiError::new(ErrorCode::RateLimited, message)
            .retry_after(limited.retry_after)
            .refused(Refusal::RateLimited)
    }
}

impl From<&AuthError> for ErrorCode {
    fn from(error: &AuthError) -> Self {
        match error {
            AuthError::Missing => ErrorCode::Unauthorized,
            AuthError::Expired => ErrorCode::TokenExpired,
            AuthError::Invalid(_) => ErrorCode::InvalidToken,
            AuthError::NotSupreme => ErrorCode::Forbidden,
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        ApiError::new(ErrorCode::from(&error), error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_show_their_text_and_failures_hide_their_cause() {
        let refused = ApiError::from(StorageError::InvalidKey("the key is empty".into()));
        assert_eq!(refused.code, ErrorCode::InvalidKey);
        assert_eq!(refused.status, 400);
        assert_eq!(refused.message, "invalid key: the key is empty");

        let failed = ApiError::from(UploadError::Storage(StorageError::Unavailable(
            "connection refused".into(),
        )));
        assert_eq!(failed.code, ErrorCode::StorageUnavailable);
        assert_eq!(failed.status, 502);
        assert!(!failed.message.contains("refused"), "{}", failed.message);

        let internal = ApiError::from(ImageError::Internal("[images] bucket".into()));
        assert_eq!(internal.code, ErrorCode::Internal);
        assert_eq!(internal.status, 500);
        assert!(!internal.message.contains("[images]"));
    }

    #[test]
    fn a_storage_failure_has_the_same_reason_on_every_route() {
        let unavailable = || StorageError::Unavailable("down".into());
        assert_eq!(
            UploadError::Storage(unavailable()).reason(),
            "storage-unavailable"
        );
        assert_eq!(
            ImageError::Storage(unavailable()).reason(),
            "storage-unavailable"
        );
        assert_eq!(
            ImageError::BodyTooLarge { limit: 2, max: 1 }.reason(),
            "file-too-large"
        );
    }
}
