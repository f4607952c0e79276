//! Spooling, for a multipart `file` part that arrives before the fields naming where it goes:
//! its bytes wait in an anonymous temporary file until the form ends, then stream to S3 from
//! there like any upload. On Linux the file has no name from the start (`O_TMPFILE`), so it
//! is gone when dropped, on every path, even if the process dies.

use std::io::SeekFrom;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;

use super::{BodyReader, Limits, UploadError};

/// Read size when streaming a spooled file back.
const READ_CHUNK: usize = 256 * 1024;

/// A body held in a temporary file.
#[derive(Debug)]
pub struct Spooled {
    file: tokio::fs::File,
    size: u64,
}

/// Writes `source` to a temporary file under the usual limits (size, stall timeout).
pub async fn spool<S>(source: S, limits: Limits) -> Result<Spooled, UploadError>
where
    S: Stream<Item = Result<Bytes, UploadError>> + Unpin,
{
    let file = tokio::task::spawn_blocking(tempfile::tempfile)
        .await
        .map_err(UploadError::Task)?
        .map_err(UploadError::Spool)?;
    let mut file = tokio::fs::File::from_std(file);
    let mut body = BodyReader::new(source, limits);
    let written = async {
        let mut size = 0;
        while let Some(chunk) = body.next_chunk().await? {
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
        Ok(size) => Ok(Spooled { file, size }),
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

    /// The spooled bytes, from the start.
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, UploadError>> + Unpin + Send {
        ReaderStream::with_capacity(self.file, READ_CHUNK)
            .map(|chunk| chunk.map_err(UploadError::Spool))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;
    use std::time::Duration;

    #[tokio::test]
    async fn spooled_bytes_come_back_whole_and_the_limit_holds() {
        let limits = Limits {
            max_size: 1 << 20,
            read_timeout: Duration::from_secs(5),
        };
        let data: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
        let chunks: Vec<Result<Bytes, UploadError>> = data
            .chunks(70_001)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let spooled = spool(stream::iter(chunks), limits).await.unwrap();
        assert_eq!(spooled.size(), data.len() as u64);
        let mut back = Vec::new();
        let mut stream = spooled.into_stream();
        while let Some(chunk) = stream.next().await {
            back.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(back, data);

        let small = Limits {
            max_size: 10,
            ..limits
        };
        let too_big = stream::iter([Ok(Bytes::from_static(b"0123456789ab"))]);
        assert!(matches!(
            spool(too_big, small).await,
            Err(UploadError::TooLarge { limit: 10 })
        ));
    }
}
