//! The HTTP edge: the error type and envelopes every response uses, and the middleware
//! that gives each request its correlation id, span, metrics and error body.

pub mod body_limit;
pub mod correlation;
pub mod envelope;
pub mod error;
pub mod middleware;

pub use envelope::{ApiResult, Data, ok};
pub use error::ApiError;
