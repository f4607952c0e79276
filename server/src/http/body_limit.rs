//! Bounded request bodies for operations that parse a whole JSON body: an operation's
//! `transform` calls [`buffer_body`] with its own limit (and its own checks first). Upload
//! routes stream their bodies and have limits of their own, so no cap applies to every route.
//!
//! A whole body is bounded three ways: in size (by `Content-Length` before reading, and while
//! reading), in time (the upload routes' pace: `upload.read_timeout` and `upload.min_rate`),
//! and in what it inflates to: `gzip` and `deflate` bodies are inflated here, within the same
//! limit, and other codings are refused.

use std::io::Read;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use poem::Request;
use poem::http::header;
use poem::web::headers::{ContentLength, HeaderMapExt};

use super::refusal::Refusal;
use super::{ApiError, ErrorCode};
use crate::storage::upload::{Pace, Paced, UploadError};

/// The request encodings a JSON route inflates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Identity,
    Gzip,
    Deflate,
}

fn coding(request: &Request) -> Result<Coding, ApiError> {
    let Some(value) = request.headers().get(header::CONTENT_ENCODING) else {
        return Ok(Coding::Identity);
    };
    let value = String::from_utf8_lossy(value.as_bytes())
        .trim()
        .to_ascii_lowercase();
    match value.as_str() {
        "" | "identity" => Ok(Coding::Identity),
        "gzip" | "x-gzip" => Ok(Coding::Gzip),
        "deflate" => Ok(Coding::Deflate),
        _ => Err(ApiError::new(
            ErrorCode::UnsupportedContentEncoding,
            format!("Content-Encoding `{value}` is not accepted here; use gzip, deflate or none"),
        )
        .refused(Refusal::ContentEncoding)),
    }
}

/// The `Content-Length` the request declares.
pub fn declared_length(request: &Request) -> Option<u64> {
    request
        .headers()
        .typed_get::<ContentLength>()
        .map(|ContentLength(length)| length)
}

/// Whether the request's body is compressed (and will be inflated within the limit).
pub fn is_compressed(request: &Request) -> bool {
    !matches!(coding(request), Ok(Coding::Identity))
}

/// Reads `request`'s body into memory under `pace`, so the parser after it reads from memory,
/// and returns it. Refused with `too_large()` by `Content-Length` before anything is read,
/// else as soon as the bytes read, or inflated, pass `limit`: no more than `limit` bytes of
/// body and `limit` of inflated body are held.
pub async fn buffer_body(
    request: &mut Request,
    limit: u64,
    pace: Pace,
    too_large: impl Fn() -> ApiError,
) -> Result<Bytes, ApiError> {
    let coding = coding(request)?;
    if request
        .headers()
        .typed_get::<ContentLength>()
        .is_some_and(|ContentLength(length)| length > limit)
    {
        return Err(too_large());
    }
    let body = request
        .take_body()
        .into_bytes_stream()
        .map(|chunk| chunk.map_err(|error| UploadError::Body(error.into())));
    let mut body = Paced::new(Box::pin(body), pace);
    let mut read = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(unreadable)?;
        if (read.len() + chunk.len()) as u64 > limit {
            return Err(too_large());
        }
        read.extend_from_slice(&chunk);
    }
    let bytes = match coding {
        Coding::Identity => read.freeze(),
        Coding::Gzip | Coding::Deflate => inflate(read.freeze(), coding, limit)
            .await?
            .ok_or_else(&too_large)?,
    };
    request.headers_mut().remove(header::CONTENT_ENCODING);
    request.set_body(bytes.clone());
    Ok(bytes)
}

/// A body that broke off is a bad request; one too slow is the pace's refusal.
fn unreadable(error: UploadError) -> ApiError {
    match error {
        UploadError::Body(cause) => {
            ApiError::new(ErrorCode::BadRequest, "the request body could not be read")
                .caused_by(cause)
        }
        error => error.into(),
    }
}

/// Inflates `data` off the async workers; `None` when it inflates past `limit`.
async fn inflate(data: Bytes, coding: Coding, limit: u64) -> Result<Option<Bytes>, ApiError> {
    let inflated = tokio::task::spawn_blocking(move || {
        let decoder: Box<dyn Read> = match coding {
            Coding::Gzip => Box::new(flate2::read::MultiGzDecoder::new(&data[..])),
            _ => Box::new(flate2::read::ZlibDecoder::new(&data[..])),
        };
        let mut out = Vec::new();
        decoder.take(limit + 1).read_to_end(&mut out).map(|_| out)
    })
    .await
    .map_err(ApiError::internal)?;
    match inflated {
        Ok(out) if out.len() as u64 > limit => Ok(None),
        Ok(out) => Ok(Some(Bytes::from(out))),
        Err(error) => Err(ApiError::new(
            ErrorCode::BadRequest,
            "the request body is not valid for its Content-Encoding",
        )
        .caused_by(error)),
    }
}

/// An upper bound on the JSON values in `bytes` (separators and openers outside strings,
/// plus one), to size what parsing them into `serde_json::Value`s takes.
pub fn json_values(bytes: &[u8]) -> u64 {
    let (mut values, mut in_string, mut escaped) = (1u64, false, false);
    for &byte in bytes {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match byte {
                b'"' => in_string = true,
                b',' | b'[' | b'{' | b':' => values += 1,
                _ => {}
            }
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_values_are_counted_outside_strings() {
        assert_eq!(json_values(b"1"), 1);
        assert_eq!(json_values(b"[0,0,0]"), 4);
        assert_eq!(json_values(br#"{"a,b:[{":1}"#), 3);
        assert_eq!(json_values(br#"["\",[", 2]"#), 3);
    }
}
