//! Request bodies whose checksums the embedded store checks as they arrive, before s3s-fs sees
//! their end, as S3 checks them before anything is stored.
//!
//! s3s-fs writes a PutObject's body to a temporary file, renames it into place, and only then
//! compares the checksums the client sent (`x-amz-checksum-*`, as headers or as a trailer): a
//! body that fails them has already replaced the object it was meant to replace, although the
//! answer is BadDigest. An UploadPart's checksums it does not compare at all. Checked here, a
//! body that fails ends in an error instead of its end, s3s-fs removes its temporary file, and
//! the object or part it would have replaced stays. (`Content-MD5` is still compared by s3s-fs
//! alone, after the rename; Hoist never sends it.)

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_util::Stream;
use s3s::checksum::ChecksumHasher;
use s3s::dto::{Checksum, ChecksumAlgorithm, StreamingBlob};
use s3s::stream::{ByteStream, RemainingLength};
use s3s::{StdError, TrailingHeaders};

/// The checksums a request declares: header values, and an algorithm whose value may come as a
/// trailer.
pub(super) struct Declared {
    pub values: Checksum,
    pub algorithm: Option<ChecksumAlgorithm>,
}

/// The declared checksums of a PutObject or UploadPart input (both have the same fields).
macro_rules! declared {
    ($input:expr) => {
        $crate::storage::embedded::verified::Declared {
            values: s3s::dto::Checksum {
                checksum_crc32: $input.checksum_crc32.clone(),
                checksum_crc32c: $input.checksum_crc32c.clone(),
                checksum_crc64nvme: $input.checksum_crc64nvme.clone(),
                checksum_sha1: $input.checksum_sha1.clone(),
                checksum_sha256: $input.checksum_sha256.clone(),
                checksum_type: None,
            },
            algorithm: $input.checksum_algorithm.clone(),
        }
    };
}
pub(super) use declared;

/// Set when a body failed its checksums: the call's error is then BadDigest, whatever s3s-fs
/// made of the body that broke off.
pub(super) type Failed = Arc<AtomicBool>;

/// Wraps `body` to be checked against `declared` (and the trailer, which `trailers` holds once
/// the body has ended). A request that declares no checksum is left as it is.
pub(super) fn wrap(
    body: &mut Option<StreamingBlob>,
    declared: Declared,
    trailers: Option<TrailingHeaders>,
) -> Failed {
    let failed = Failed::default();
    let Some(hasher) = hasher_for(&declared) else {
        return failed;
    };
    if let Some(inner) = body.take() {
        *body = Some(StreamingBlob::new(Verified {
            body: inner,
            hasher: Some(hasher),
            expected: declared.values,
            trailers,
            failed: Arc::clone(&failed),
        }));
    }
    failed
}

/// A hasher for each algorithm `declared` names, as s3s-fs builds one; none when it names none.
fn hasher_for(declared: &Declared) -> Option<ChecksumHasher> {
    let values = &declared.values;
    let mut hasher = ChecksumHasher::default();
    let algorithm = declared.algorithm.as_ref().map(ChecksumAlgorithm::as_str);
    let wants = |value: bool, name: &str| value || algorithm == Some(name);
    if wants(values.checksum_crc32.is_some(), ChecksumAlgorithm::CRC32) {
        hasher.crc32 = Some(Default::default());
    }
    if wants(values.checksum_crc32c.is_some(), ChecksumAlgorithm::CRC32C) {
        hasher.crc32c = Some(Default::default());
    }
    if wants(
        values.checksum_crc64nvme.is_some(),
        ChecksumAlgorithm::CRC64NVME,
    ) {
        hasher.crc64nvme = Some(Default::default());
    }
    if wants(values.checksum_sha1.is_some(), ChecksumAlgorithm::SHA1) {
        hasher.sha1 = Some(Default::default());
    }
    if wants(values.checksum_sha256.is_some(), ChecksumAlgorithm::SHA256) {
        hasher.sha256 = Some(Default::default());
    }
    let any = hasher.crc32.is_some()
        || hasher.crc32c.is_some()
        || hasher.crc64nvme.is_some()
        || hasher.sha1.is_some()
        || hasher.sha256.is_some();
    any.then_some(hasher)
}

struct Verified {
    body: StreamingBlob,
    /// Taken when the body ends.
    hasher: Option<ChecksumHasher>,
    expected: Checksum,
    trailers: Option<TrailingHeaders>,
    failed: Failed,
}

impl Verified {
    /// Whether what arrived matches every checksum declared, a trailer's value replacing a
    /// header's, compared as s3s-fs compares them.
    fn matches(&self, computed: &Checksum) -> bool {
        let mut expected = self.expected.clone();
        if let Some(trailers) = &self.trailers {
            trailers.read(|headers| {
                let value = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|value| value.to_str().ok())
                        .map(str::to_owned)
                };
                let replace = |slot: &mut Option<String>, name: &str| {
                    if let Some(value) = value(name) {
                        *slot = Some(value);
                    }
                };
                replace(&mut expected.checksum_crc32, "x-amz-checksum-crc32");
                replace(&mut expected.checksum_crc32c, "x-amz-checksum-crc32c");
                replace(&mut expected.checksum_crc64nvme, "x-amz-checksum-crc64nvme");
                replace(&mut expected.checksum_sha1, "x-amz-checksum-sha1");
                replace(&mut expected.checksum_sha256, "x-amz-checksum-sha256");
            });
        }
        computed.checksum_crc32 == expected.checksum_crc32
            && computed.checksum_crc32c == expected.checksum_crc32c
            && computed.checksum_crc64nvme == expected.checksum_crc64nvme
            && computed.checksum_sha1 == expected.checksum_sha1
            && computed.checksum_sha256 == expected.checksum_sha256
    }
}

impl Stream for Verified {
    type Item = Result<Bytes, StdError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(hasher) = &mut this.hasher else {
            return Poll::Ready(None);
        };
        match ready!(Pin::new(&mut this.body).poll_next(cx)) {
            Some(Ok(bytes)) => {
                hasher.update(&bytes);
                Poll::Ready(Some(Ok(bytes)))
            }
            Some(Err(error)) => Poll::Ready(Some(Err(error))),
            None => {
                let computed = this.hasher.take().map(ChecksumHasher::finalize);
                if let Some(computed) = computed
                    && this.matches(&computed)
                {
                    return Poll::Ready(None);
                }
                this.failed.store(true, Ordering::Release);
                Poll::Ready(Some(Err(Box::new(std::io::Error::other(
                    "the body does not match its checksum",
                )))))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.body.size_hint()
    }
}

impl ByteStream for Verified {
    fn remaining_length(&self) -> RemainingLength {
        self.body.remaining_length()
    }
}
