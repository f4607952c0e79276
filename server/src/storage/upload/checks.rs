//! What a client may claim about an upload, checked against what arrived: the checksums of
//! `x-amz-checksum-crc32c` / `x-amz-checksum-sha256`, and the content type.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use super::UploadError;
use crate::storage::checksum::Crc32c;

use crate::storage::content::OCTET_STREAM;

/// Checksums a client sent with its upload. Nothing is stored unless every one matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    crc32c: Option<[u8; 4]>,
    sha256: Option<[u8; 32]>,
}

impl Expected {
    /// Parses the S3 checksum headers (base64 of the big-endian digest).
    pub fn from_headers(crc32c: Option<&str>, sha256: Option<&str>) -> Result<Self, UploadError> {
        Ok(Self {
            crc32c: crc32c.map(|v| decode::<4>("crc32c", v)).transpose()?,
            sha256: sha256.map(|v| decode::<32>("sha256", v)).transpose()?,
        })
    }

    /// Whether a SHA-256 has to be computed while streaming.
    pub fn wants_sha256(&self) -> bool {
        self.sha256.is_some()
    }

    /// Checks the digests of everything received against what the client claimed.
    pub(super) fn verify(
        &self,
        crc32c: Crc32c,
        sha256: Option<&Sha256>,
    ) -> Result<(), UploadError> {
        if self
            .crc32c
            .is_some_and(|expected| expected != crc32c.to_bytes())
        {
            return Err(UploadError::ChecksumMismatch {
                algorithm: "crc32c",
            });
        }
        if let Some(expected) = self.sha256 {
            let actual: [u8; 32] = sha256
                .map(|hasher| hasher.clone().finalize().into())
                .unwrap_or_default();
            if actual != expected {
                return Err(UploadError::ChecksumMismatch {
                    algorithm: "sha256",
                });
            }
        }
        Ok(())
    }
}

fn decode<const N: usize>(algorithm: &str, value: &str) -> Result<[u8; N], UploadError> {
    STANDARD
        .decode(value.trim())
        .ok()
        .and_then(|bytes| <[u8; N]>::try_from(bytes).ok())
        .ok_or_else(|| {
            UploadError::InvalidChecksum(format!(
                "x-amz-checksum-{algorithm} must be the base64 of a {N}-byte digest"
            ))
        })
}

/// Refuses content types S3 would refuse or that could smuggle header syntax.
pub fn validate_content_type(content_type: &str) -> Result<(), UploadError> {
    let printable = content_type.bytes().all(|b| (0x20..0x7f).contains(&b));
    let (kind, subtype) = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .split_once('/')
        .unwrap_or_default();
    if printable && !kind.is_empty() && !subtype.is_empty() && content_type.len() <= 255 {
        Ok(())
    } else {
        Err(UploadError::InvalidContentType(format!(
            "`{}` is not a media type such as `application/pdf`",
            content_type.escape_debug()
        )))
    }
}

/// Whether a declared type says nothing: the generic `application/octet-stream`, which
/// browsers and generated clients send when they do not know (the type is then sniffed).
pub(super) fn is_generic(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(OCTET_STREAM))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert!(is_generic("Application/Octet-Stream; x=1"));
        assert!(!is_generic("text/csv"));
        assert!(validate_content_type("text/plain; charset=utf-8").is_ok());
        for bad in ["text", "/x", "text/", "a/b\r\nx-evil: 1", "ü/x"] {
            assert!(validate_content_type(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn expected_checksums() {
        let crc = Crc32c::of(b"hello");
        let mut actual = Crc32c::new();
        actual.update(b"hello");
        let expected = Expected::from_headers(Some(&crc), None).unwrap();
        assert!(expected.verify(actual, None).is_ok());
        let other = Expected::from_headers(Some(&Crc32c::of(b"world")), None).unwrap();
        assert!(matches!(
            other.verify(actual, None),
            Err(UploadError::ChecksumMismatch {
                algorithm: "crc32c"
            })
        ));

        let sha = STANDARD.encode(Sha256::digest(b"hello"));
        let expected = Expected::from_headers(None, Some(&sha)).unwrap();
        assert!(expected.wants_sha256());
        let mut hasher = Sha256::new();
        hasher.update(b"hello");
        assert!(expected.verify(actual, Some(&hasher)).is_ok());
        let mut hasher = Sha256::new();
        hasher.update(b"hellO");
        assert!(expected.verify(actual, Some(&hasher)).is_err());

        for bad in ["", "not base64!", "AAAA", "AAAAAAAAAAA="] {
            assert!(
                matches!(
                    Expected::from_headers(Some(bad), None),
                    Err(UploadError::InvalidChecksum(_))
                ),
                "{bad:?}"
            );
        }
    }
}
