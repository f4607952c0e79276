//! Spooling, for a multipart `file` part that arrives before the fields naming where it goes:
//! its bytes wait in an anonymous temporary file until the form ends, then stream to S3 from
//! there like any upload. On Linux the file has no name from the start (`O_TMPFILE`), so it
//! is gone when dropped, on every path, even if the process dies.
//!
//! All spool files together may hold `upload.spool_max_bytes` ([`SpoolSpace`]); a file that
//! would pass it is given up at once (503 `server-busy`), and its bytes return to the space
//! when it is gone.

use std::io::SeekFrom;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;

use super::{BodyReader, Limits, UploadError};

/// Read size when streaming a spooled file back.
const READ_CHUNK: usize = 256 * 1024;

/// The disk all spool files together may use.
#[derive(Debug, Clone)]
pub struct SpoolSpace {
    max: u64,
    used: Arc<AtomicU64>,
}

impl SpoolSpace {
    pub fn new(max: u64) -> Self {
        Self {
            max,
            used: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Bytes in use right now.
    #[cfg(test)]
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }
}

/// One file's share of the space, given back when dropped.
#[derive(Debug)]
struct Share {
    space: SpoolSpace,
    bytes: u64,
}

impl Share {
    fn take(&mut self, bytes: u64) -> Result<(), UploadError> {
        let before = self.space.used.fetch_add(bytes, Ordering::Relaxed);
        if before + bytes > self.space.max {
            self.space.used.fetch_sub(bytes, Ordering::Relaxed);
            return Err(UploadError::SpoolFull);
        }
        self.bytes += bytes;
        Ok(())
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        self.space.used.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

/// A body held in a temporary file.
#[derive(Debug)]
pub struct Spooled {
    file: tokio::fs::File,
    size: u64,
    share: Share,
}

/// Writes `source` to a temporary file under the usual limits (size) and within `space`.
pub async fn spool<S>(source: S, limits: Limits, space: &SpoolSpace) -> Result<Spooled, UploadError>
where
    S: Stream<Item = Result<Bytes, UploadError>> + Unpin,
{
    let mut share = Share {
        space: space.clone(),
        bytes: 0,
    };
    let file = tokio::task::spawn_blocking(tempfile::tempfile)
        .await
        .map_err(UploadError::Task)?
        .map_err(UploadError::Spool)?;
    let mut file = tokio::fs::File::from_std(file);
    let mut body = BodyReader::new(source, limits);
    let written = async {
        let mut size = 0;
        while let Some(chunk) = body.next_chunk().await? {
            share.take(chunk.len() as u64)?;
            file.write_all(&chunk).await.map_err(UploadError::Spool)?;
            size += chunk.len() as u64;
        }
        file.flush().await.map_err(UploadError::Spool)?;
        file.seek(SeekFrom::Start(0))
            .await
            .map_err(UploadError::Spool)?;
        Ok(size)
    }
    .await;
    match written {
        Ok(size) => Ok(Spooled { file, size, share }),
        Err(error) => {
            // A write handed to the blocking pool may still hold the file; waiting for it
            // closes the file before the refusal is answered, not some time after.
            drop(file.into_std().await);
            Err(error)
        }
    }
}

impl Spooled {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The spooled bytes, from the start. The file's share of the space lasts as long as the
    /// stream (the file goes with it).
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, UploadError>> + Unpin + Send {
        let share = self.share;
        ReaderStream::with_capacity(self.file, READ_CHUNK).map(move |chunk| {
            let _ = &share;
            chunk.map_err(UploadError::Spool)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::upload::Pace;
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
    async fn spooled_bytes_come_back_whole_and_the_limit_holds() {
        let space = SpoolSpace::new(1 << 30);
        let data: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
        let chunks: Vec<Result<Bytes, UploadError>> = data
            .chunks(70_001)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let spooled = spool(stream::iter(chunks), limits(1 << 20), &space)
            .await
            .unwrap();
        assert_eq!(spooled.size(), data.len() as u64);
        assert_eq!(space.used(), data.len() as u64);
        let mut back = Vec::new();
        let mut stream = spooled.into_stream();
        while let Some(chunk) = stream.next().await {
            back.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(back, data);
        drop(stream);
        assert_eq!(space.used(), 0, "the file's space is given back with it");

        let too_big = stream::iter([Ok(Bytes::from_static(b"0123456789ab"))]);
        assert!(matches!(
            spool(too_big, limits(10), &space).await,
            Err(UploadError::TooLarge { limit: 10 })
        ));
    }

    #[tokio::test]
    async fn the_space_of_all_spool_files_is_bounded() {
        let space = SpoolSpace::new(1000);
        let chunk = || stream::iter([Ok(Bytes::from(vec![1u8; 600]))]);
        let held = spool(chunk(), limits(1 << 20), &space).await.unwrap();
        assert!(matches!(
            spool(chunk(), limits(1 << 20), &space).await,
            Err(UploadError::SpoolFull)
        ));
        assert_eq!(space.used(), 600, "a refused file gives its share back");
        drop(held);
        assert!(spool(chunk(), limits(1 << 20), &space).await.is_ok());
    }
}
