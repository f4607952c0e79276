//! `ApiError`: the one error every handler returns, rendered as
//! `{error: {code, status, message, correlationId}}`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Object};

use super::refusal::{Refusal, RefusalNote};
use super::{ErrorCode, correlation};

/// The error body's content.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Stable machine-readable code, kebab-case (`missing-file`, `unknown-bucket`, ...).
    // One of `ErrorCode`'s texts; a string in the spec until the codes become a schema enum.
    pub code: String,
    /// The HTTP status, repeated for clients that only see the body.
    pub status: u16,
    /// What went wrong, for people. Never carries internal causes.
    pub message: String,
    /// The request's correlation id, also in the `x-correlation-id` header and the logs.
    pub correlation_id: String,
}

/// Every error response body.
#[derive(Debug, Clone, Object)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

/// What caused an error, for the log only. The `observe` middleware writes it once, with the
/// request's correlation id; the client never sees it.
#[derive(Debug, Clone)]
pub(super) struct Cause {
    pub code: ErrorCode,
    pub error: Arc<dyn std::error::Error + Send + Sync>,
}

/// An error a handler returns: a code, a status, a message for people, and the cause (if
/// any) for the log.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    cause: Option<Arc<dyn std::error::Error + Send + Sync>>,
    /// Sent as `Retry-After` (whole seconds, at least 1).
    retry_after: Option<Duration>,
    /// Counted and logged once by the middleware as `hoist_refused_total{reason}`.
    refusal: Option<Refusal>,
}

impl ApiError {
    /// An error with the code's default status.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status: code.status(),
            code,
            message: message.into(),
            cause: None,
            retry_after: None,
            refusal: None,
        }
    }

    /// Tells the client when to try again (`Retry-After`).
    pub fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    /// Marks the error as a refusal that protects the gateway, counted on `/metrics`.
    pub fn refused(mut self, refusal: Refusal) -> Self {
        self.refusal = Some(refusal);
        self
    }

    /// The refusal this error is, if any.
    pub fn refusal(&self) -> Option<Refusal> {
        self.refusal
    }

    /// Answers with `status` instead of the code's default.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Keeps `cause` for the log; the message stays what the client sees.
    pub fn caused_by(mut self, cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        self.cause = Some(Arc::from(cause.into()));
        self
    }

    /// A failure of ours: the client only learns that it happened; the middleware logs the
    /// cause.
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::new(
            ErrorCode::Internal,
            "internal error; the correlation id identifies it in the logs",
        )
        .caused_by(cause)
    }

    /// Maps an error poem or poem-openapi raised before or instead of a handler.
    pub fn from_poem(error: &poem::Error) -> Self {
        let status = error.status();
        let code = match status {
            StatusCode::BAD_REQUEST => ErrorCode::BadRequest,
            StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
            StatusCode::FORBIDDEN => ErrorCode::Forbidden,
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::BadRequest,
            s if s.is_server_error() => return Self::internal(error.to_string()),
            _ => ErrorCode::Error,
        };
        let message = match status {
            StatusCode::NOT_FOUND => "no such route".to_owned(),
            StatusCode::METHOD_NOT_ALLOWED => "method not allowed on this route".to_owned(),
            // poem-openapi's own text is a bare "authorization error".
            StatusCode::UNAUTHORIZED => {
                "this route needs a token: `Authorization: Bearer <JWT>`".to_owned()
            }
            _ => error.to_string(),
        };
        Self::new(code, message).with_status(status)
    }

    fn refusal_note(&self) -> Option<RefusalNote> {
        self.refusal.map(|refusal| RefusalNote {
            refusal,
            message: self.message.clone(),
        })
    }

    fn log_cause(&self) -> Option<Cause> {
        self.cause.clone().map(|error| Cause {
            code: self.code,
            error,
        })
    }

    fn envelope(&self) -> ErrorEnvelope {
        ErrorEnvelope {
            error: ErrorBody {
                code: self.code.as_str().to_owned(),
                status: self.status.as_u16(),
                message: self.message.clone(),
                correlation_id: correlation::current(),
            },
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = Json(self.envelope())
            .with_status(self.status)
            .into_response();
        if let Some(wait) = self.retry_after {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response.headers_mut().insert(
                poem::http::header::RETRY_AFTER,
                poem::http::HeaderValue::from(seconds.max(1)),
            );
        }
        if let Some(note) = self.refusal_note() {
            response.set_data(note);
        }
        if let Some(cause) = self.log_cause() {
            response.set_data(cause);
        }
        response
    }
}

/// Statuses an operation may answer with an error body; listed in the spec for each one.
const ERROR_STATUSES: &[(u16, &str)] = &[
    (
        400,
        "The request is malformed: a bad parameter, key or body.",
    ),
    (401, "No valid bearer token."),
    (403, "The token does not grant this route's level."),
    (
        404,
        "The route, bucket alias, trigger or object does not exist.",
    ),
    (
        408,
        "The request body stopped arriving for longer than allowed.",
    ),
    (
        409,
        "The request conflicts with an earlier one (an Idempotency-Key reused with another payload).",
    ),
    (413, "The body or file is larger than allowed."),
    (
        415,
        "The content type, or the request's Content-Encoding, is not accepted.",
    ),
    (
        429,
        "Over a rate limit; `Retry-After` says in how many seconds to try again.",
    ),
    (
        500,
        "Hoist failed; the correlation id finds it in the logs.",
    ),
    (
        502,
        "A downstream service (S3, Lambda, Step Functions, a webhook) failed or timed out.",
    ),
    (
        503,
        "A store is unreachable, or the server is busy (`Retry-After` says when to retry).",
    ),
];

impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: ERROR_STATUSES
                .iter()
                .map(|&(status, description)| MetaResponse {
                    description,
                    status: Some(status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: "application/json; charset=utf-8",
                        schema: ErrorEnvelope::schema_ref(),
                    }],
                    headers: vec![],
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        ErrorEnvelope::register(registry);
    }
}

impl From<ApiError> for poem::Error {
    fn from(error: ApiError) -> Self {
        let message = error.to_string();
        // A poem error's data replaces its response's when it becomes a response again, so
        // the cause travels as the error's data.
        let cause = error.log_cause();
        let note = error.refusal_note();
        let mut error = poem::Error::from_response(error.into_response());
        error.set_error_message(message);
        if let Some(cause) = cause {
            error.set_data(cause);
        }
        if let Some(note) = note {
            error.set_data(note);
        }
        error
    }
}
