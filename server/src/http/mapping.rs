//! Every domain error's meaning over HTTP, in one place: its [`ErrorCode`] (which is also its
//! failure-metric reason), its status, and the message the client sees. A refusal shows its
//! own text; a failure of Hoist or downstream shows a fixed text and keeps the domain error as
//! the cause, which the middleware logs once.

use super::refusal::Refusal;
use super::refusals::Coded;
use super::{ApiError, ErrorCode};
use crate::audit::AuditReadError;
use crate::auth::{AuthError, DevTokenError};
use crate::images::ImageError;
use crate::limits::Limited;
use crate::metrics::FailureReason;
use crate::storage::presign::PresignError;
use crate::storage::tus::TusError;
use crate::storage::upload::UploadError;
use crate::storage::{StorageError, Unready};
use crate::triggers::TriggerError;

/// Declares which code each variant of a domain error has, as one match: the
/// `From<&E> for ErrorCode` that answers requests and the `Coded` list that the spec documents
/// come from the same arms, so the spec lists exactly the codes the type can be answered
/// with. Arms after `via` hand the variant's inner error to that type's own mapping.
macro_rules! codes_of {
    ($ty:ty { $($pat:pat => $code:ident,)* } $(via { $($vpat:pat => $inner:ty [$var:ident],)* })?) => {
        impl From<&$ty> for ErrorCode {
            fn from(error: &$ty) -> Self {
                match error {
                    $($pat => ErrorCode::$code,)*
                    $($($vpat => ErrorCode::from($var),)*)?
                }
            }
        }

        impl Coded for $ty {
            fn codes() -> Vec<ErrorCode> {
                #[allow(unused_mut, reason = "only types with `via` arms extend the list")]
                let mut codes = vec![$(ErrorCode::$code),*];
                $($(codes.extend(<$inner as Coded>::codes());)*)?
                codes
            }
        }
    };
}
/// What a busy server asks clients to wait before they retry: long enough for uploads that
/// hold the budget to move on, short enough not to lose the client.
pub const BUSY_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

/// The client's message for a store that failed; S3's own message may name the real bucket.
const STORE_FAILED: &str = "the object store failed or is unreachable";

codes_of!(StorageError {
    StorageError::UnknownBucket(_) | StorageError::NoDefaultBucket => UnknownBucket,
    StorageError::InvalidKey(_) => InvalidKey,
    StorageError::NotStorable(_) => KeyNotStorable,
    StorageError::InvalidCursor(_) => InvalidCursor,
    StorageError::Unavailable(_) | StorageError::Backend { .. } => StorageUnavailable,
    StorageError::InvalidLimit { .. }
    | StorageError::OffsetAndCursor
    | StorageError::UnsupportedDelimiter => BadRequest,
    StorageError::NoKeys => MissingFileKeys,
    StorageError::TooManyKeys { .. } => TooManyKeys,
});

codes_of!(Unready {
    Unready(_) => NotReady,
});

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

codes_of!(UploadError {
    UploadError::TooLarge { .. } => FileTooLarge,
    UploadError::ChecksumMismatch { .. } => ChecksumMismatch,
    UploadError::InvalidChecksum(_) => InvalidChecksum,
    UploadError::InvalidContentType(_) => InvalidContentType,
    UploadError::Stalled(_) | UploadError::TooSlow { .. } => RequestTimeout,
    UploadError::Busy(_) | UploadError::SpoolFull => ServerBusy,
    UploadError::Body(_) => IncompleteBody,
    UploadError::Form(_) | UploadError::FormHead { .. } => InvalidForm,
    UploadError::MissingFile => MissingFile,
    UploadError::TypeRefused(_) => UnsupportedContentType,
    UploadError::Spool(_) | UploadError::Buffer(_) | UploadError::Task(_) => Internal,
} via {
    UploadError::Storage(storage) => StorageError[storage],
});

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

codes_of!(PresignError {
    PresignError::TypeRefused(_) => UnsupportedContentType,
    PresignError::InvalidContentType(_) => InvalidContentType,
    PresignError::InvalidChecksum(_) => InvalidChecksum,
    PresignError::Invalid(_) => BadRequest,
} via {
    PresignError::Storage(storage) => StorageError[storage],
});

impl From<PresignError> for ApiError {
    fn from(error: PresignError) -> Self {
        match error {
            PresignError::Storage(storage) => storage.into(),
            error => ApiError::new(ErrorCode::from(&error), error.to_string()),
        }
    }
}

codes_of!(TusError {
    TusError::NotFound => NotFound,
    TusError::Expired => UploadExpired,
    TusError::OffsetMismatch { .. } => OffsetMismatch,
    TusError::Locked => UploadLocked,
    TusError::PastLength { .. } => UploadLengthExceeded,
    TusError::ChecksumMismatch => ChecksumMismatch,
    TusError::TooManyParts { .. } => FileTooLarge,
    TusError::Corrupt(_) => Internal,
} via {
    TusError::Upload(upload) => UploadError[upload],
    TusError::Storage(storage) => StorageError[storage],
});

/// tus's own status for a body that does not match `Upload-Checksum`.
const TUS_CHECKSUM_MISMATCH: u16 = 460;

impl From<TusError> for ApiError {
    fn from(error: TusError) -> Self {
        match error {
            TusError::Upload(upload) => upload.into(),
            TusError::Storage(storage) => storage.into(),
            TusError::Corrupt(_) => ApiError::internal(error),
            TusError::ChecksumMismatch => {
                let status = poem::http::StatusCode::from_u16(TUS_CHECKSUM_MISMATCH)
                    .unwrap_or(poem::http::StatusCode::BAD_REQUEST);
                ApiError::new(ErrorCode::ChecksumMismatch, error.to_string()).with_status(status)
            }
            error => ApiError::new(ErrorCode::from(&error), error.to_string()),
        }
    }
}

impl FailureReason for UploadError {
    fn reason(&self) -> &'static str {
        ErrorCode::from(self).as_str()
    }
}

codes_of!(ImageError {
    ImageError::UnsupportedContentType { .. } | ImageError::TypeRefused(_) => UnsupportedContentType,
    ImageError::DataUrlMismatch { .. }
    | ImageError::ContentTypeMismatch { .. } => ContentTypeMismatch,
    ImageError::TooLarge { .. } | ImageError::BodyTooLarge { .. } => FileTooLarge,
    ImageError::InvalidBase64(_) => InvalidBase64,
    ImageError::Internal(_) | ImageError::Check(_) => Internal,
} via {
    ImageError::Storage(storage) => StorageError[storage],
});

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

codes_of!(TriggerError {
    TriggerError::Unknown(_) => UnknownTrigger,
    TriggerError::InvalidIdempotencyKey => InvalidIdempotencyKey,
    TriggerError::ReservedField(_) => ReservedField,
    TriggerError::TooLarge { .. } => PayloadTooLarge,
    TriggerError::IdempotencyConflict => IdempotencyConflict,
    TriggerError::Timeout
    | TriggerError::Unreachable(_)
    | TriggerError::Downstream { .. } => TriggerFailed,
});

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

codes_of!(AuthError {
    AuthError::Missing => Unauthorized,
    AuthError::Expired => TokenExpired,
    AuthError::Invalid(_) => InvalidToken,
    AuthError::NotSupreme => Forbidden,
});

/// What checking a token for a user-level route can refuse with: `AuthError`'s codes but
/// `forbidden`, which only a supreme-level check gives.
pub struct UserToken;

impl Coded for UserToken {
    fn codes() -> Vec<ErrorCode> {
        AuthError::codes()
            .into_iter()
            .filter(|code| *code != ErrorCode::Forbidden)
            .collect()
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

/// What checking a token for a supreme-level route can refuse with.
pub type SupremeToken = AuthError;

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        ApiError::new(ErrorCode::from(&error), error.to_string())
    }
}

codes_of!(DevTokenError {
    DevTokenError::Disabled => NotFound,
    DevTokenError::BadTtl { .. } => BadRequest,
});

impl From<DevTokenError> for ApiError {
    fn from(error: DevTokenError) -> Self {
        ApiError::new(ErrorCode::from(&error), error.to_string())
    }
}

codes_of!(AuditReadError {
    AuditReadError::Disabled => AuditDisabled,
    AuditReadError::BadLimit { .. } | AuditReadError::FilterTooLong { .. } => BadRequest,
} via {
    AuditReadError::Storage(inner) => StorageError [inner],
});

impl From<AuditReadError> for ApiError {
    fn from(error: AuditReadError) -> Self {
        match error {
            AuditReadError::Storage(inner) => inner.into(),
            refused => ApiError::new(ErrorCode::from(&refused), refused.to_string()),
        }
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
