//! `ApiError`: the one error every handler returns, rendered as
//! `{error: {code, status, message, correlationId}}`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::Object;
use poem_openapi::error::{ContentTypeError, ParseParamError, ParsePathError};
use poem_openapi::payload::Json;

use super::ErrorCode;
use super::refusal::{Refusal, RefusalNote};
use crate::context::correlation;

/// The error body's content.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct ErrorBody {
    // Documented by its own schema: the table of every code, its status and meaning.
    pub code: ErrorCode,
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

    /// Maps an error poem or poem-openapi raised before or instead of a handler. The message
    /// is Hoist's own: poem's texts name its parser types (`optional_integer(uint32)`).
    pub fn from_poem(error: &poem::Error) -> Self {
        let status = error.status();
        let code = match status {
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::BadRequest,
            StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
            StatusCode::FORBIDDEN => ErrorCode::Forbidden,
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedContentType,
            s if s.is_server_error() => return Self::internal(error.to_string()),
            _ => ErrorCode::Error,
        };
        let message = if let Some(param) = error.downcast_ref::<ParseParamError>() {
            parameter_message(param.name, &param.reason)
        } else if let Some(param) = error.downcast_ref::<ParsePathError>() {
            parameter_message(param.name, &param.reason)
        } else if let Some(ContentTypeError::NotSupported { content_type }) =
            error.downcast_ref::<ContentTypeError>()
        {
            format!("this operation does not take a body of type {content_type}")
        } else {
            match code {
                ErrorCode::NotFound => "no such route".to_owned(),
                ErrorCode::MethodNotAllowed => "method not allowed on this route".to_owned(),
                // poem-openapi's own text is a bare "authorization error".
                ErrorCode::Unauthorized => {
                    "this route needs a token: Authorization: Bearer <JWT>".to_owned()
                }
                ErrorCode::UnsupportedContentType => {
                    "this operation needs a Content-Type header it reads".to_owned()
                }
                ErrorCode::PayloadTooLarge => "the request body is too large".to_owned(),
                _ => "the request is malformed".to_owned(),
            }
        };
        Self::new(code, message)
            .with_status(status)
            .caused_by(error.to_string())
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
                code: self.code,
                status: self.status.as_u16(),
                message: self.message.clone(),
                correlation_id: correlation::current(),
            },
        }
    }
}

/// A plain message for a parameter poem could not read: what it must be, in words, from the
/// parser's type name (`integer(uint32)`), never the parser's own text.
fn parameter_message(name: &str, reason: &str) -> String {
    if reason.contains("expects an input value") {
        return format!("`{name}` is required");
    }
    let expected = match reason.split('"').nth(1).unwrap_or_default() {
        "integer(uint16)" => "a whole number from 0 to 65535",
        "integer(uint32)" => "a whole number from 0 to 4294967295",
        "integer(uint64)" => "a whole number from 0 to 18446744073709551615",
        "boolean" => "`true` or `false`",
        _ => "valid",
    };
    format!("`{name}` must be {expected}")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_refusals_are_plain() {
        let reason = r#"failed to parse "integer(uint32)": invalid digit found in string (occurred while parsing "optional_integer(uint32)")"#;
        assert_eq!(
            parameter_message("limit", reason),
            "`limit` must be a whole number from 0 to 4294967295"
        );
        assert_eq!(
            parameter_message("key", r#"Type "string" expects an input value."#),
            "`key` is required"
        );
        let error: poem::Error = ParseParamError {
            name: "supreme",
            reason: r#"failed to parse "boolean": provided string was not `true` or `false`"#
                .into(),
        }
        .into();
        let refusal = ApiError::from_poem(&error);
        assert_eq!(refusal.code, ErrorCode::BadRequest);
        assert_eq!(refusal.message, "`supreme` must be `true` or `false`");
    }
}
