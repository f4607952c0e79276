//! A body of known length sent to S3 while it arrives (one PutObject for an upload, one
//! UploadPart for a tus part): no buffer, no byte copied between the client's socket and the
//! store's. The last chunk is held back until [`Streamed::finish`], so the object (or part)
//! cannot appear before the bytes were verified and the caller decided to keep them; anything
//! else (an error, a refusal, a dropped request) ends the body short and S3 keeps nothing.

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::UploadError;
use super::budget::Reservation;
use crate::storage::StorageError;
use crate::storage::checksum::Crc32c;
use crate::storage::s3::aws_chunked::{ChunkedBody, Piece};

/// Chunks queued between the client and the store: enough to keep both sides busy, few enough
/// that what one body holds stays small (see [`STREAM_MEMORY`]).
const QUEUED_CHUNKS: usize = 4;

/// Budget one streamed body reserves: its queued chunks (hyper reads at most ~400 KiB at
/// once), the chunk held back, and the store's client buffers.
pub(crate) const STREAM_MEMORY: usize = 4 * 1024 * 1024;

/// A call to S3 on its way, fed the body as it arrives; it answers `T`.
pub(crate) struct Streamed<T> {
    pieces: mpsc::Sender<Piece>,
    call: JoinHandle<Result<T, StorageError>>,
    /// The newest chunk, not yet handed on.
    held: Option<Bytes>,
    /// CRC32C and count of the bytes taken so far.
    crc: Crc32c,
    taken: u64,
    /// Longest the store may take to accept a chunk, or to answer once the body ended.
    deadline: Duration,
    _memory: Option<Reservation>,
}

impl<T: Send + 'static> Streamed<T> {
    /// Starts `call` with a body of `length` bytes. `guard` lives until the call ends (upload
    /// activity, so shutdown and tests wait for a given-up body to be settled).
    pub fn start<F, Fut>(
        length: u64,
        deadline: Duration,
        memory: Option<Reservation>,
        guard: impl Send + 'static,
        call: F,
    ) -> Self
    where
        F: FnOnce(ChunkedBody) -> Fut,
        Fut: Future<Output = Result<T, StorageError>> + Send + 'static,
    {
        let (pieces, receiver) = mpsc::channel(QUEUED_CHUNKS);
        let call = call(ChunkedBody::new(receiver, length));
        let call = tokio::spawn(tracing::Instrument::in_current_span(async move {
            let answer = call.await;
            drop(guard);
            answer
        }));
        Self {
            pieces,
            call,
            held: None,
            crc: Crc32c::new(),
            taken: 0,
            deadline,
            _memory: memory,
        }
    }

    /// Bytes taken so far.
    pub fn taken(&self) -> u64 {
        self.taken
    }

    /// CRC32C of the bytes taken so far.
    pub fn crc(&self) -> Crc32c {
        self.crc
    }

    /// Takes the next chunk of the body, handing on the one before it.
    pub async fn push(&mut self, chunk: Bytes) -> Result<(), UploadError> {
        self.crc.update(&chunk);
        self.taken += chunk.len() as u64;
        match self.held.replace(chunk) {
            Some(previous) => self.hand_on(Piece::Data(previous)).await,
            None => Ok(()),
        }
    }

    /// Hands on the last chunk and the CRC32C of everything taken, which S3 checks, and
    /// waits for the answer; returns it with that CRC32C.
    pub async fn finish(mut self) -> Result<(T, Crc32c), UploadError> {
        if let Some(last) = self.held.take() {
            self.hand_on(Piece::Data(last)).await?;
        }
        let crc = self.crc;
        self.hand_on(Piece::End {
            crc32c: crc.to_base64(),
        })
        .await?;
        let Self { call, deadline, .. } = self;
        match tokio::time::timeout(deadline, call).await {
            Ok(joined) => Ok((joined.map_err(UploadError::Task)??, crc)),
            Err(_) => Err(StorageError::Unavailable(
                format!("the store did not answer within {deadline:?} of the body's end").into(),
            )
            .into()),
        }
    }

    async fn hand_on(&mut self, piece: Piece) -> Result<(), UploadError> {
        match tokio::time::timeout(self.deadline, self.pieces.send(piece)).await {
            Ok(Ok(())) => Ok(()),
            // The call ended before its body did: it failed, and says why.
            Ok(Err(_closed)) => Err(match (&mut self.call).await {
                Ok(Err(error)) => error.into(),
                Ok(Ok(_)) => {
                    StorageError::Unavailable("the store answered before the body ended".into())
                        .into()
                }
                Err(error) => UploadError::Task(error),
            }),
            Err(_) => Err(StorageError::Unavailable(
                format!("the store took no bytes for {:?}", self.deadline).into(),
            )
            .into()),
        }
    }
}
