//! `TriggerError`: what can go wrong calling a trigger. Its HTTP meaning is the HTTP layer's.

use super::Verdict;
use crate::aws::CallFailure;

#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    #[error("no trigger is named `{0}`")]
    Unknown(String),
    #[error("Idempotency-Key must be 1 to 80 letters, digits, `-`, `_` or `.`")]
    InvalidIdempotencyKey,
    #[error("`data.{0}` is reserved: this trigger sends the correlation id there")]
    ReservedField(String),
    #[error("the payload is {size} bytes; this trigger takes at most {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("this Idempotency-Key already started an execution with a different payload")]
    IdempotencyConflict,
    /// No answer within the trigger's time budget.
    #[error("no answer within the trigger's timeout")]
    Timeout,
    /// The target could not be reached: connection refused, DNS, TLS, a broken response.
    #[error("the trigger's target is unreachable")]
    Unreachable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The target's service answered with an error (AWS error code, or an HTTP status).
    #[error("{code}: {message}")]
    Downstream { code: String, message: String },
}

impl TriggerError {
    /// The error code logged for downstream failures (`ResourceNotFoundException`, `HTTP 503`).
    pub fn code(&self) -> Option<&str> {
        match self {
            TriggerError::Timeout => Some("timeout"),
            TriggerError::Unreachable(_) => Some("unreachable"),
            TriggerError::Downstream { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Hoist refused the call before sending anything: trying again cannot help.
    pub fn is_refusal(&self) -> bool {
        self.verdict() == Verdict::Refused
    }

    pub(super) fn verdict(&self) -> Verdict {
        match self {
            TriggerError::Unknown(_)
            | TriggerError::InvalidIdempotencyKey
            | TriggerError::ReservedField(_)
            | TriggerError::TooLarge { .. }
            | TriggerError::IdempotencyConflict => Verdict::Refused,
            TriggerError::Timeout => Verdict::Timeout,
            TriggerError::Unreachable(_) | TriggerError::Downstream { .. } => Verdict::Failed,
        }
    }
}

impl From<CallFailure> for TriggerError {
    fn from(failure: CallFailure) -> Self {
        match failure {
            CallFailure::Timeout(_) => TriggerError::Timeout,
            CallFailure::Unreachable(cause) => TriggerError::Unreachable(cause),
            CallFailure::Service { code, message } => TriggerError::Downstream { code, message },
        }
    }
}
