//! An upload of known length sent to S3 as one PutObject while it arrives: no part buffers,
//! each byte copied by nobody between the client's socket and the store's. The last chunk is
//! held back until [`StreamedPut::finish`], so the object cannot appear before the upload was
//! verified and committed; anything else (an error, a refusal, a dropped request) ends the
//! body short and S3 keeps nothing.

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::budget::Reservation;
use super::{ActivityToken, UploadError};
use crate::storage::StorageError;
use crate::storage::content::StoredType;
use crate::storage::s3::S3Bucket;
use crate::storage::s3::aws_chunked::{ChunkedBody, Piece};

/// Chunks queued between the client and the store: enough to keep both sides busy, few enough
/// that what one upload holds stays small (see [`STREAM_MEMORY`]).
const QUEUED_CHUNKS: usize = 4;

/// Budget one streamed upload reserves: its queued chunks (hyper reads at most ~400 KiB at
/// once), the chunk held back, and the store's client buffers.
pub(super) const STREAM_MEMORY: usize = 4 * 1024 * 1024;

/// A PutObject on its way.
pub(super) struct StreamedPut {
    pieces: mpsc::Sender<Piece>,
    call: JoinHandle<Result<(), StorageError>>,
    /// The newest chunk, not yet handed on.
    held: Option<Bytes>,
    /// Longest the store may take to accept a chunk, or to answer once the body ended.
    deadline: Duration,
    _memory: Reservation,
}

impl StreamedPut {
    /// Starts the PutObject of `length` bytes under `key`; the call counts as upload activity
    /// until it ends, so shutdown and tests wait for a given-up body to be settled.
    pub fn start(
        bucket: &S3Bucket,
        key: &str,
        stored: &StoredType,
        length: u64,
        deadline: Duration,
        memory: Reservation,
        activity: ActivityToken,
    ) -> Self {
        let (pieces, receiver) = mpsc::channel(QUEUED_CHUNKS);
        let bucket = bucket.clone();
        let key = key.to_owned();
        let content_type = stored.content_type.clone();
        let disposition = stored.disposition.clone();
        let call = tokio::spawn(tracing::Instrument::in_current_span(async move {
            let body = ChunkedBody::new(receiver, length);
            let stored = bucket
                .put_object_streamed(&key, &content_type, disposition.as_deref(), length, body)
                .await;
            drop(activity);
            stored
        }));
        Self {
            pieces,
            call,
            held: None,
            deadline,
            _memory: memory,
        }
    }

    /// Takes the next chunk of the body, handing on the one before it.
    pub async fn push(&mut self, chunk: Bytes) -> Result<(), UploadError> {
        match self.held.replace(chunk) {
            Some(previous) => self.hand_on(Piece::Data(previous)).await,
            None => Ok(()),
        }
    }

    /// Hands on the last chunk and the checksum S3 checks, and waits for the object.
    pub async fn finish(mut self, crc32c: String) -> Result<(), UploadError> {
        if let Some(last) = self.held.take() {
            self.hand_on(Piece::Data(last)).await?;
        }
        self.hand_on(Piece::End { crc32c }).await?;
        let Self { call, deadline, .. } = self;
        match tokio::time::timeout(deadline, call).await {
            Ok(joined) => Ok(joined.map_err(UploadError::Task)??),
            Err(_) => Err(StorageError::Unavailable(
                format!("the store did not confirm the object within {deadline:?}").into(),
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
                Ok(Ok(())) => {
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
