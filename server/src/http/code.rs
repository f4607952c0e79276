//! `ErrorCode`: the closed set of machine codes an error body can carry, each with its default
//! status and a one-line meaning. The envelope, the failure metrics and the spec (an inline
//! string enum in `ErrorBody`, and each operation's error responses) take their codes from
//! here, so a code exists once.

use poem::http::StatusCode;

/// Declares the codes as one table: variant, wire text, default status, meaning. Variant names
/// are the PascalCase of their wire text, so a kebab-case renaming derive yields the same set.
macro_rules! error_codes {
    ($($variant:ident = $text:literal, $status:ident, $meaning:literal;)*) => {
        /// A stable machine-readable error code, kebab-case on the wire.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(#[doc = $meaning] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The code as clients and metric labels see it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $text,)*
                }
            }

            /// The status an error with this code is answered with, unless said otherwise.
            pub fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)*
                }
            }

            /// What the code means, in one line.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $meaning,)*
                }
            }
        }
    };
}

error_codes! {
    BadRequest = "bad-request", BAD_REQUEST,
        "A parameter or body is malformed or out of range.";
    Unauthorized = "unauthorized", UNAUTHORIZED,
        "The route needs a bearer token and none was sent.";
    TokenExpired = "token-expired", UNAUTHORIZED,
        "The bearer token has expired.";
    InvalidToken = "invalid-token", UNAUTHORIZED,
        "The bearer token is not valid: signature, algorithm, issuer, audience or claims.";
    Forbidden = "forbidden", FORBIDDEN,
        "The token does not grant the route's level.";
    OriginNotAllowed = "origin-not-allowed", FORBIDDEN,
        "A CORS preflight from an origin, or for a method or header, that `[cors]` does not allow.";
    NotFound = "not-found", NOT_FOUND,
        "No such route or object.";
    MethodNotAllowed = "method-not-allowed", METHOD_NOT_ALLOWED,
        "The route does not take this method.";
    PayloadTooLarge = "payload-too-large", PAYLOAD_TOO_LARGE,
        "A JSON body or trigger payload is larger than allowed.";
    UnsupportedContentType = "unsupported-content-type", UNSUPPORTED_MEDIA_TYPE,
        "The content type is not accepted: a request body of a type the route does not take, or an upload whose type is not allowed (`[images] allowed`, an alias's `allowed_types`).";
    UnknownBucket = "unknown-bucket", BAD_REQUEST,
        "bucketName is not a configured alias, or none was given and there is no default.";
    InvalidKey = "invalid-key", BAD_REQUEST,
        "An object key or prefix is empty, too long, or has a forbidden segment or character.";
    KeyNotStorable = "key-not-storable", BAD_REQUEST,
        "The embedded development store cannot hold this key (S3 itself would take it).";
    InvalidTusHeader = "invalid-tus-header", BAD_REQUEST,
        "A tus header (`Upload-Length`, `Upload-Offset`, `Upload-Metadata`, `Upload-Checksum`) is missing or malformed.";
    TusVersion = "tus-version", PRECONDITION_FAILED,
        "A tus request without `Tus-Resumable: 1.0.0`.";
    OffsetMismatch = "offset-mismatch", CONFLICT,
        "A tus PATCH whose `Upload-Offset` is not where the upload stands (HEAD says where).";
    UploadLocked = "upload-locked", CONFLICT,
        "Another request is appending to this tus upload; retry when it ends.";
    UploadExpired = "upload-expired", GONE,
        "The tus upload passed its `Upload-Expires` and was removed.";
    UploadLengthExceeded = "upload-length-exceeded", BAD_REQUEST,
        "A tus PATCH body goes past the upload's `Upload-Length`.";
    InvalidCursor = "invalid-cursor", BAD_REQUEST,
        "The cursor was not issued by this server for this bucket and prefix.";
    MissingFileKeys = "missing-file-keys", BAD_REQUEST,
        "A delete names no key.";
    TooManyKeys = "too-many-keys", BAD_REQUEST,
        "A delete names more keys than one request may.";
    FileTooLarge = "file-too-large", PAYLOAD_TOO_LARGE,
        "A file or image is larger than allowed.";
    ChecksumMismatch = "checksum-mismatch", BAD_REQUEST,
        "The received bytes do not match the checksum the client sent (460 for a tus `Upload-Checksum`, as tus says).";
    InvalidChecksum = "invalid-checksum", BAD_REQUEST,
        "A checksum header is not the base64 of a digest of the right size.";
    InvalidContentType = "invalid-content-type", BAD_REQUEST,
        "A content type is not a media type S3 would store.";
    RequestTimeout = "request-timeout", REQUEST_TIMEOUT,
        "The request body stopped arriving for longer than allowed.";
    IncompleteBody = "incomplete-body", BAD_REQUEST,
        "The request body ended early or could not be read.";
    InvalidForm = "invalid-form", BAD_REQUEST,
        "A multipart form breaks the form's rules.";
    MissingFile = "missing-file", BAD_REQUEST,
        "A multipart form has no `file` part.";
    ContentTypeMismatch = "content-type-mismatch", UNSUPPORTED_MEDIA_TYPE,
        "An image's bytes are not of its declared type.";
    InvalidBase64 = "invalid-base64", BAD_REQUEST,
        "An image is not valid base64.";
    UnknownTrigger = "unknown-trigger", NOT_FOUND,
        "No trigger has this name.";
    InvalidIdempotencyKey = "invalid-idempotency-key", BAD_REQUEST,
        "The Idempotency-Key header is not 1 to 80 letters, digits, `-`, `_` or `.`.";
    ReservedField = "reserved-field", BAD_REQUEST,
        "The payload sets a field the trigger fills itself.";
    IdempotencyConflict = "idempotency-conflict", CONFLICT,
        "An Idempotency-Key was reused with another payload.";
    TriggerFailed = "trigger-failed", BAD_GATEWAY,
        "The trigger's target failed, was unreachable or did not answer in time.";
    StorageUnavailable = "storage-unavailable", BAD_GATEWAY,
        "The object store failed or is unreachable.";
    NotReady = "not-ready", SERVICE_UNAVAILABLE,
        "A bucket alias's store does not answer.";
    ServerBusy = "server-busy", SERVICE_UNAVAILABLE,
        "No buffer memory or spool space became free in time; retry after `Retry-After`.";
    RateLimited = "rate-limited", TOO_MANY_REQUESTS,
        "Over a rate limit; retry after `Retry-After`.";
    UnsupportedContentEncoding = "unsupported-content-encoding", UNSUPPORTED_MEDIA_TYPE,
        "The request body's Content-Encoding is not one the route accepts.";
    AuditDisabled = "audit-disabled", NOT_FOUND,
        "No audit alias is configured (`[audit] bucket`), so there are no audit events to read.";
    Internal = "internal", INTERNAL_SERVER_ERROR,
        "Hoist failed; the correlation id finds the cause in the logs.";
    Error = "error", BAD_REQUEST,
        "A refusal poem raised that has no code of its own; the status says which.";
}

/// The description of `ErrorBody.code` in the spec: every code with its status and meaning.
fn table() -> String {
    let mut table = String::from("Stable machine-readable code; one of:");
    for code in ErrorCode::ALL {
        let line = format!(
            "\n- `{}` ({}): {}",
            code.as_str(),
            code.status().as_u16(),
            code.meaning()
        );
        table.push_str(&line);
    }
    table
}

super::schema::inline_string_enum!(ErrorCode, super::schema::intern(table()));

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_kebab_case_with_a_meaning() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{text}"
            );
            assert!(!code.meaning().is_empty(), "{text}");
            // What `#[oai(rename_all = "kebab-case")]` (and serde's) makes of the variant.
            let mut kebab = String::new();
            for (i, ch) in format!("{code:?}").char_indices() {
                if i > 0 && ch.is_uppercase() {
                    kebab.push('-');
                }
                kebab.push(ch.to_ascii_lowercase());
            }
            assert_eq!(kebab, text, "{code:?}");
            assert!(
                code.status().is_client_error() || code.status().is_server_error(),
                "{text}"
            );
        }
    }
}
