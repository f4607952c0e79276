//! Presigned URLs: `Bucket::presign` signs a PUT or GET of one object for a client to send
//! straight to S3, with the alias's own credentials (an assumed role's, where it has one).
//! The key passes the checks of an upload, a PUT's type passes the alias's content policy and
//! is signed (with the disposition active content gets), and the URL's lifetime is capped by
//! `[presign] max_expiry`, by the caller's token and by the signing credentials.

use std::time::{Duration, SystemTime};

use super::keys::validate_key;
use super::s3::{Lifetime, SignedPut};
use super::upload::checks::{Expected, validate_content_type};
use super::{Bucket, StorageError, content::TypeRefused};
use crate::config::{ConfigProblem, PresignSettings};
use crate::storage::upload::UploadError;

/// SigV4's longest presigned lifetime.
const SIGV4_MAX: Duration = Duration::from_secs(7 * 24 * 3600);

/// What a presigned request may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Put,
    Get,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Put => "PUT",
            Method::Get => "GET",
        }
    }
}

/// One request for a presigned URL, as the client made it.
#[derive(Debug, Clone)]
pub struct PresignRequest {
    pub method: Method,
    pub key: String,
    /// The lifetime asked for, in seconds; `None` takes `[presign] default_expiry`.
    pub expires_in: Option<u64>,
    /// A PUT's object type; `application/octet-stream` when absent.
    pub content_type: Option<String>,
    /// Base64 digests the uploaded bytes must match (PUT only): S3 checks them.
    pub crc32c: Option<String>,
    pub sha256: Option<String>,
}

/// A signed URL and what its sender must know.
#[derive(Debug, Clone)]
pub struct Presigned {
    pub method: Method,
    pub url: String,
    /// Headers the request must carry exactly as given (the signature covers them).
    pub headers: Vec<(String, String)>,
    pub expires_at: SystemTime,
    /// How long the URL lives from signing, in whole seconds.
    pub lifetime: Duration,
}

/// Why no URL was signed.
#[derive(Debug, thiserror::Error)]
pub enum PresignError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    TypeRefused(#[from] TypeRefused),
    #[error("{0}")]
    InvalidContentType(String),
    #[error("{0}")]
    InvalidChecksum(String),
    /// A GET that names what only an upload has (a type or a checksum), or a zero lifetime.
    #[error("{0}")]
    Invalid(String),
}

impl From<UploadError> for PresignError {
    fn from(error: UploadError) -> Self {
        match error {
            UploadError::InvalidContentType(message) => Self::InvalidContentType(message),
            UploadError::InvalidChecksum(message) => Self::InvalidChecksum(message),
            other => Self::Invalid(other.to_string()),
        }
    }
}

impl Bucket {
    /// Signs `request`; the URL stops working at `not_after` (the caller's token expiry) at
    /// the latest.
    pub async fn presign(
        &self,
        request: &PresignRequest,
        settings: &PresignSettings,
        not_after: SystemTime,
    ) -> Result<Presigned, PresignError> {
        validate_key(&request.key)?;
        let lifetime = expiry(request.expires_in, settings, SystemTime::now(), not_after)?;
        let signed = match request.method {
            Method::Get => {
                if request.content_type.is_some()
                    || request.crc32c.is_some()
                    || request.sha256.is_some()
                {
                    return Err(PresignError::Invalid(
                        "contentType and checksums are for PUT; a GET answers what is stored"
                            .into(),
                    ));
                }
                self.store.presign_get(&request.key, lifetime).await?
            }
            Method::Put => {
                if let Some(layout) = &self.embedded {
                    layout
                        .check_put(&request.key)
                        .map_err(StorageError::NotStorable)?;
                }
                if let Some(given) = &request.content_type {
                    validate_content_type(given)?;
                }
                Expected::from_headers(request.crc32c.as_deref(), request.sha256.as_deref())?;
                // No bytes to sniff: the declared type, else octet-stream, through the policy.
                let stored =
                    self.policy
                        .resolve(request.content_type.as_deref(), &[], &request.key)?;
                let put = SignedPut {
                    content_type: &stored.content_type,
                    disposition: stored.disposition.as_deref(),
                    crc32c: request.crc32c.as_deref().map(str::trim),
                    sha256: request.sha256.as_deref().map(str::trim),
                };
                self.store.presign_put(&request.key, put, lifetime).await?
            }
        };
        // Headers the SDK adds that the signature does not need the sender to repeat.
        let headers = signed
            .headers
            .into_iter()
            .filter(|(name, _)| name != "host")
            .collect();
        Ok(Presigned {
            method: request.method,
            url: signed.url,
            headers,
            expires_at: signed.expires_at,
            lifetime: signed.lifetime,
        })
    }
}

/// How long a URL asked to live `requested` seconds may: capped by `max_expiry`, never past
/// `not_after`, refused when not a second is left.
fn expiry(
    requested: Option<u64>,
    settings: &PresignSettings,
    now: SystemTime,
    not_after: SystemTime,
) -> Result<Lifetime, PresignError> {
    let wanted = match requested {
        Some(0) => return Err(PresignError::Invalid("expiresIn must be at least 1".into())),
        Some(seconds) => Duration::from_secs(seconds),
        None => settings.default_expiry,
    };
    if not_after.duration_since(now).unwrap_or_default() < Duration::from_secs(1) {
        return Err(PresignError::Invalid(
            "the token expires within a second; no URL can outlive it".into(),
        ));
    }
    Ok(Lifetime {
        wanted: Duration::from_secs(wanted.min(settings.max_expiry).as_secs()),
        not_after,
    })
}

/// The problems of `[presign]`.
pub fn check(settings: &PresignSettings) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    if settings.default_expiry < Duration::from_secs(1) {
        problems.push(ConfigProblem::new(
            "presign.default_expiry",
            "must be at least 1s",
        ));
    }
    if settings.default_expiry > settings.max_expiry {
        problems.push(ConfigProblem::new(
            "presign.default_expiry",
            "must not be longer than presign.max_expiry",
        ));
    }
    if settings.max_expiry > SIGV4_MAX {
        problems.push(ConfigProblem::new(
            "presign.max_expiry",
            "must be at most 7d, the longest a SigV4 presigned URL lives",
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn the_lifetime_is_capped_by_the_maximum_and_the_token() {
        let settings = PresignSettings::default();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let far = now + 10 * HOUR;
        let at = |requested, not_after| {
            let lifetime = expiry(requested, &settings, now, not_after).unwrap();
            assert_eq!(lifetime.not_after, not_after);
            lifetime.wanted
        };
        assert_eq!(at(None, far), Duration::from_secs(900));
        assert_eq!(at(Some(60), far), Duration::from_secs(60));
        assert_eq!(at(Some(86_400), far), HOUR);
        let token_end = now + Duration::from_secs(120);
        assert_eq!(at(Some(3000), token_end), Duration::from_secs(3000));
        let at = |requested, not_after| expiry(requested, &settings, now, not_after);
        assert!(matches!(at(Some(0), far), Err(PresignError::Invalid(_))));
        assert!(matches!(at(None, now), Err(PresignError::Invalid(_))));
    }

    #[test]
    fn settings_are_checked() {
        assert!(check(&PresignSettings::default()).is_empty());
        let bad = PresignSettings {
            default_expiry: Duration::from_secs(2 * 3600),
            max_expiry: Duration::from_secs(8 * 24 * 3600),
        };
        let keys: Vec<String> = check(&bad).into_iter().map(|p| p.key).collect();
        assert_eq!(keys, ["presign.max_expiry"]);
        let bad = PresignSettings {
            default_expiry: Duration::ZERO,
            max_expiry: Duration::from_secs(60),
        };
        assert_eq!(check(&bad).len(), 1);
        let bad = PresignSettings {
            default_expiry: Duration::from_secs(120),
            max_expiry: Duration::from_secs(60),
        };
        assert_eq!(check(&bad).len(), 1);
    }
}
