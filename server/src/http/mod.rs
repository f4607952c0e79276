//! The HTTP edge: the error type and envelopes every response uses, the closed set of error
//! codes, the mapping of every domain error onto them, and the middleware that gives each
//! request its correlation id (and, from other origins, CORS), span, metrics, error body and cause log line; the server loop
//! with its connection timeouts, and the count of refusals.

pub(crate) mod body_limit;
mod code;
pub(crate) mod compress;
pub(crate) mod cors;
pub(crate) mod envelope;
pub(crate) mod error;
mod json_answer;
mod json_body;
mod mapping;
pub(crate) mod middleware;
pub(crate) mod rate_limit;
pub(crate) mod refusal;
pub(crate) mod refusals;
pub(crate) mod schema;
pub(crate) mod serve;
mod watchdog;

pub use code::ErrorCode;
pub use envelope::{ApiResult, Data, ok};
pub use error::ApiError;
pub use json_answer::JsonAnswer;
pub use json_body::JsonBody;
pub use mapping::{SupremeToken, UserToken};
pub use refusals::Refused;
