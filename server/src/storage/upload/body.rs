//! Reads an upload body chunk by chunk with the size limit applied, so it holds wherever the
//! bytes go next (part buffers or a spool file). How slow a client may be is the business of
//! [`super::Paced`], which sits between the request and this reader.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::{Pace, UploadError};

/// Most of a failed upload's body read to let its client see the answer.
pub const DRAIN_BYTES: u64 = 64 * 1024 * 1024;
/// Longest a failed upload's body is read for the same reason.
pub const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// The limits every upload body is read under.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted file, in bytes (`upload.max_file_size`).
    pub max_size: u64,
    /// How slow the client may send it (`upload.read_timeout`, `upload.min_rate`).
    pub pace: Pace,
}

/// A body being read: the source, the bytes counted so far, and at most one chunk that was
/// read but not used yet.
pub struct BodyReader<S> {
    source: S,
    limits: Limits,
    received: u64,
    pushed_back: Option<Bytes>,
}

impl<S> BodyReader<S>
where
    S: Stream<Item = Result<Bytes, UploadError>> + Unpin,
{
    pub fn new(source: S, limits: Limits) -> Self {
        Self {
            source,
            limits,
            received: 0,
            pushed_back: None,
        }
    }

    /// The next non-empty chunk, or `None` at the end of the body. Fails the moment the body
    /// grows past the limit.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, UploadError> {
        if let Some(chunk) = self.pushed_back.take() {
            return Ok(Some(chunk));
        }
        loop {
            match self.source.next().await {
                None => return Ok(None),
                Some(Err(error)) => return Err(error),
                Some(Ok(chunk)) if chunk.is_empty() => continue,
                Some(Ok(chunk)) => {
                    self.received += chunk.len() as u64;
                    if self.received > self.limits.max_size {
                        return Err(UploadError::TooLarge {
                            limit: self.limits.max_size,
                        });
                    }
                    return Ok(Some(chunk));
                }
            }
        }
    }

    /// Reads and drops what is left of the body, for at most [`DRAIN_BYTES`] and
    /// [`DRAIN_TIME`], when `error` ended the upload on the store's side. A client that is still
    /// sending then reads the error answer; closing on unread bytes would reset the
    /// connection and lose it (most HTTP/1.1 clients only read once they have sent).
    pub async fn drain_after(&mut self, error: &UploadError) {
        if !matches!(error, UploadError::Storage(_)) {
            return;
        }
        let mut left = DRAIN_BYTES;
        let _ = tokio::time::timeout(DRAIN_TIME, async {
            while let Ok(Some(chunk)) = self.next_chunk().await {
                left = left.saturating_sub(chunk.len() as u64);
                if left == 0 {
                    break;
                }
            }
        })
        .await;
    }

    /// Gives back the unused tail of a chunk; the next call returns it first.
    pub fn push_back(&mut self, chunk: Bytes) {
        debug_assert!(
            self.pushed_back.is_none(),
            "one chunk is pushed back at a time"
        );
        if !chunk.is_empty() {
            self.pushed_back = Some(chunk);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;
    use std::time::Duration;

    fn limits(max_size: u64) -> Limits {
        Limits {
            max_size,
            pace: Pace {
                read_timeout: Duration::from_secs(5),
                min_rate: 0,
                window: Duration::from_secs(5),
            },
        }
    }

    #[tokio::test]
    async fn the_limit_fails_the_chunk_that_crosses_it() {
        let chunks = stream::iter([
            Ok(Bytes::from_static(b"12345")),
            Ok(Bytes::new()),
            Ok(Bytes::from_static(b"678")),
        ]);
        let mut body = BodyReader::new(chunks, limits(7));
        assert_eq!(body.next_chunk().await.unwrap().unwrap(), "12345");
        assert!(matches!(
            body.next_chunk().await,
            Err(UploadError::TooLarge { limit: 7 })
        ));
    }

    #[tokio::test]
    async fn pushed_back_bytes_come_first_and_empty_chunks_are_skipped() {
        let chunks = stream::iter([Ok(Bytes::new()), Ok(Bytes::from_static(b"ab"))]);
        let mut body = BodyReader::new(chunks, limits(10));
        body.push_back(Bytes::from_static(b"x"));
        assert_eq!(body.next_chunk().await.unwrap().unwrap(), "x");
        assert_eq!(body.next_chunk().await.unwrap().unwrap(), "ab");
        assert!(body.next_chunk().await.unwrap().is_none());
    }
}
