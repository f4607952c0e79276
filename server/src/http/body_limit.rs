//! Bounded request bodies for operations that parse a whole JSON body: an operation's
//! `transform` calls [`buffer_body`] with its own limit (and its own checks first). Upload
//! routes stream their bodies and have limits of their own, so no cap applies to every route.

use poem::Request;
use poem::error::ReadBodyError;
use poem::web::headers::{ContentLength, HeaderMapExt};

use super::{ApiError, ErrorCode};

/// Reads `request`'s body into memory, so the parser after it reads from memory. Refused
/// with `too_large()` by `Content-Length` before anything is read, else as soon as the bytes
/// read pass `limit` (chunked or compressed bodies): no more than `limit` bytes are held.
pub async fn buffer_body(
    request: &mut Request,
    limit: u64,
    too_large: impl FnOnce() -> ApiError,
) -> Result<(), ApiError> {
    if request
        .headers()
        .typed_get::<ContentLength>()
        .is_some_and(|ContentLength(length)| length > limit)
    {
        return Err(too_large());
    }
    match request
        .take_body()
        .into_bytes_limit(usize::try_from(limit).unwrap_or(usize::MAX))
        .await
    {
        Ok(body) => {
            request.set_body(body);
            Ok(())
        }
        Err(ReadBodyError::PayloadTooLarge) => Err(too_large()),
        Err(error) => Err(ApiError::new(
            ErrorCode::BadRequest,
            "the request body could not be read",
        )
        .caused_by(error)),
    }
}
