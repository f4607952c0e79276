//! A bound on what a multipart parser may buffer while it looks for something. multer's
//! `Constraints` limit field data and the whole stream, but its search for the first boundary
//! and for the end of a part's headers keeps every byte it reads: a form that never reaches
//! its boundary, or a part header that never ends, grows memory by its size. This adapter sits
//! between the body and multer and refuses the body once more than `limit` bytes were fed
//! without multer yielding anything (a field or a chunk of one).
//!
//! multer reads every chunk that is ready before it parses, so a fast client can feed it more
//! than `limit` before it had a chance to yield: the first time the limit is reached the
//! adapter pauses once (pending, and wakes itself) so multer parses what it has; only if it
//! still yields nothing is the body refused. multer's buffer thus stays under `limit` plus one
//! chunk of the body.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;

use super::UploadError;

/// Bytes a form may send without multer yielding a field or data: a preamble plus one part's
/// headers. Hoist's parts have two short headers (`Content-Disposition` with a file name of
/// at most 1024 bytes, `Content-Type`).
pub const FORM_HEAD_LIMIT: u64 = 64 * 1024;

/// Shared between the adapter (inside multer) and the code reading fields, which reports
/// every field and chunk it gets.
#[derive(Debug, Default)]
pub struct Progress {
    fed: AtomicU64,
    paused: AtomicBool,
}

impl Progress {
    /// multer yielded a field or a chunk: the bytes fed so far were parsed.
    pub fn made(&self) {
        self.fed.store(0, Ordering::Relaxed);
        self.paused.store(false, Ordering::Relaxed);
    }
}

/// The body as multer reads it, under the bound.
pub struct Bounded<S> {
    inner: S,
    progress: Arc<Progress>,
    limit: u64,
}

impl<S> Bounded<S> {
    pub fn new(inner: S, progress: Arc<Progress>, limit: u64) -> Self {
        Self {
            inner,
            progress,
            limit,
        }
    }
}

impl<S> Stream for Bounded<S>
where
    S: Stream<Item = Result<Bytes, UploadError>> + Unpin,
{
    type Item = Result<Bytes, UploadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.progress.fed.load(Ordering::Relaxed) >= self.limit {
            if !self.progress.paused.swap(true, Ordering::Relaxed) {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            return Poll::Ready(Some(Err(UploadError::FormHead { limit: self.limit })));
        }
        let next = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &next {
            self.progress
                .fed
                .fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;

    fn body(chunks: Vec<Vec<u8>>) -> impl Stream<Item = Result<Bytes, UploadError>> + Unpin {
        stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from(c))))
    }

    async fn multer_reads(chunks: Vec<Vec<u8>>) -> Result<Vec<(String, usize)>, multer::Error> {
        let progress = Arc::new(Progress::default());
        let bounded = Bounded::new(body(chunks), progress.clone(), 1024);
        let mut form = multer::Multipart::new(bounded, "B");
        let mut fields = Vec::new();
        while let Some(mut field) = form.next_field().await? {
            progress.made();
            let name = field.name().unwrap_or_default().to_owned();
            let mut size = 0;
            while let Some(chunk) = field.chunk().await? {
                progress.made();
                size += chunk.len();
            }
            fields.push((name, size));
        }
        Ok(fields)
    }

    fn refused(error: &multer::Error) -> bool {
        matches!(error, multer::Error::StreamReadFailed(cause)
            if matches!(cause.downcast_ref::<UploadError>(), Some(UploadError::FormHead { .. })))
    }

    #[tokio::test]
    async fn a_form_in_big_ready_chunks_passes() {
        let mut form =
            b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n"
                .to_vec();
        form.extend(vec![b'x'; 100_000]);
        form.extend(b"\r\n--B--\r\n");
        // Every chunk far over the limit, all ready at once.
        let chunks: Vec<Vec<u8>> = form.chunks(30_000).map(<[u8]>::to_vec).collect();
        assert_eq!(
            multer_reads(chunks).await.unwrap(),
            [("file".into(), 100_000)]
        );
    }

    #[tokio::test]
    async fn no_boundary_and_endless_headers_are_refused() {
        let no_boundary = vec![vec![b'x'; 4096]; 1000];
        assert!(refused(&multer_reads(no_boundary).await.unwrap_err()));
        let mut header = b"--B\r\nContent-Disposition: form-data; name=\"".to_vec();
        header.extend(vec![b'a'; 4096]);
        let mut endless = vec![header];
        endless.extend(vec![vec![b'a'; 4096]; 1000]);
        assert!(refused(&multer_reads(endless).await.unwrap_err()));
    }
}
