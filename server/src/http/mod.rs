//! The HTTP edge: the error type and envelopes every response uses, the closed set of error
//! codes, the mapping of every domain error onto them, and the middleware that gives each
//! request its correlation id, span, metrics, error body and cause log line.

pub mod body_limit;
mod code;
pub mod correlation;
pub mod envelope;
pub mod error;
mod mapping;
pub mod middleware;

pub use code::ErrorCode;
pub use envelope::{ApiResult, Data, ok};
pub use error::ApiError;
