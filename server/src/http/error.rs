//! `ApiError`: the one error every handler returns, rendered as
//! `{error: {code, status, message, correlationId}}`.

use std::borrow::Cow;
use std::fmt;

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Object};

use super::correlation;

/// The error body's content.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Stable machine-readable code, kebab-case (`missing-file`, `unknown-bucket`, ...).
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

/// An error a handler returns. Its cause, if any, was logged where it was made.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// A failure of ours: the cause is logged here, the client only learns that it happened.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the correlation id identifies it in the logs",
        )
    }

    /// Maps an error poem or poem-openapi raised before or instead of a handler.
    pub fn from_poem(error: &poem::Error) -> Self {
        let status = error.status();
        let code = match status {
            StatusCode::BAD_REQUEST => "bad-request",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not-found",
            StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "payload-too-large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
            StatusCode::UNPROCESSABLE_ENTITY => "bad-request",
            s if s.is_server_error() => return Self::internal(error),
            _ => "error",
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
        Self::new(status, code, message)
    }

    fn envelope(&self) -> ErrorEnvelope {
        ErrorEnvelope {
            error: ErrorBody {
                code: self.code.to_string(),
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
        Json(self.envelope())
            .with_status(self.status)
            .into_response()
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
    (415, "The content type is not accepted."),
    (
        500,
        "Hoist failed; the correlation id finds it in the logs.",
    ),
    (
        502,
        "A downstream service (S3, Lambda, Step Functions, a webhook) failed or timed out.",
    ),
    (503, "A store is unreachable."),
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
        let mut error = poem::Error::from_response(error.into_response());
        error.set_error_message(message);
        error
    }
}
