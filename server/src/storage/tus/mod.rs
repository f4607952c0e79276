//! Resumable uploads (tus 1.0.0) as a storage service of a [`Bucket`]: one S3 multipart
//! upload per tus upload, request bodies of any size gathered into parts of
//! `upload.part_size`, a tail shorter than a part kept as a temporary object, and all state in
//! the bucket (`state.rs`), so any replica serves any request of any upload. The protocol's
//! headers are the HTTP layer's (`api/tus.rs`).
//!
//! One PATCH at a time appends: it takes a lease on the state object with a conditional
//! write and, at its end, records the parts it sent and gives the lease back in one more
//! (a long PATCH also records and renews as it goes, every half lease). A part the PATCH's
//! declared length fills streams to S3 while it arrives; a shorter rest is buffered and kept
//! as a tail piece. A second PATCH that arrives meanwhile, on any replica, is refused
//! (`Locked`) before it reads a byte. A PATCH whose replica died leaves its lease to expire;
//! the next PATCH takes over and moves the part numbers past any the dead one could still
//! write.

mod settings_check;
mod state;

pub use settings_check::check;
pub use state::TusState;

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt, stream};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::checksum::Crc32c;
use super::s3::PartReceipt;
use super::upload::streamed::Streamed;
use super::upload::{
    BodyReader, Limits, UploadActivity, UploadError, Uploaded, Uploads, validate_content_type,
};
use super::{Bucket, StorageError, keys};
use crate::config::TusSettings;
use state::{
    Lease, MAX_PARTS, MAX_PIECES, MAX_STATE_BYTES, PartRecord, TailRecord, epoch_secs,
    epoch_secs_ceil,
};

/// Tail pieces read at once when they start a part. Together they are shorter than a part,
/// which the PATCH has reserved twice over (see `Appending::run`).
const PIECE_READS: usize = 4;

/// A tus upload to create.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub key: String,
    pub length: u64,
    pub content_type: Option<String>,
    /// `Upload-Metadata`, decoded.
    pub metadata: BTreeMap<String, String>,
    pub created_by: Option<String>,
}

/// Where an upload stands.
#[derive(Debug, Clone)]
pub struct UploadStatus {
    pub offset: u64,
    pub length: u64,
    pub metadata: BTreeMap<String, String>,
    pub expires_at: SystemTime,
}

/// What an append ended with.
#[derive(Debug)]
pub enum Appended {
    /// More bytes are expected.
    Partial(UploadStatus),
    /// The last byte arrived and the object is stored.
    Finished(UploadStatus, Uploaded),
}

/// The digest a client sent for one PATCH body (`Upload-Checksum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyChecksum {
    Sha1([u8; 20]),
    Sha256([u8; 32]),
}

/// One PATCH: the offset the client claims, its checksum, and who it is (for the lease).
#[derive(Debug, Clone)]
pub struct Append {
    pub offset: u64,
    pub checksum: Option<BodyChecksum>,
    /// The body's declared length (`Content-Length`): a part this PATCH will fill streams to
    /// S3 while it arrives.
    pub length: Option<u64>,
}

/// Why a tus request was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum TusError {
    #[error("no such upload")]
    NotFound,
    #[error("the upload expired and was removed")]
    Expired,
    #[error("Upload-Offset is {given} but the upload is at {offset}")]
    OffsetMismatch { given: u64, offset: u64 },
    #[error("another request is appending to this upload; retry after it ends")]
    Locked,
    #[error("the body goes past Upload-Length ({length} bytes)")]
    PastLength { length: u64 },
    #[error("the body does not match Upload-Checksum; nothing of it was kept")]
    ChecksumMismatch,
    #[error("an upload of {length} bytes needs more than {MAX_PARTS} parts of {part_size} bytes")]
    TooManyParts { length: u64, part_size: u64 },
    #[error(transparent)]
    Upload(#[from] UploadError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("the upload state cannot be read: {0}")]
    Corrupt(String),
}

impl From<crate::storage::content::TypeRefused> for TusError {
    fn from(refused: crate::storage::content::TypeRefused) -> Self {
        Self::Upload(UploadError::TypeRefused(refused))
    }
}

/// A state object as read, with the ETag its next write must match.
struct Loaded {
    state: TusState,
    etag: String,
}

impl Bucket {
    /// Starts a tus upload: checks the key, size and type as an upload does, starts the
    /// multipart upload and writes the state. Returns the upload's uuid; an empty upload is
    /// stored at once and comes back with its object.
    pub async fn tus_create(
        &self,
        uploads: &Uploads,
        settings: &TusSettings,
        new: NewUpload,
    ) -> Result<(String, UploadStatus, Option<Uploaded>), TusError> {
        keys::validate_key(&new.key)?;
        self.check_storable(&new.key)?;
        uploads.check_declared_size(Some(new.length))?;
        let part_size = uploads.part_size() as u64;
        if new.length.div_ceil(part_size) > u64::from(MAX_PARTS) / 2 {
            // Half the part numbers stay free for taking over after a lost PATCH.
            return Err(TusError::TooManyParts {
                length: new.length,
                part_size,
            });
        }
        if let Some(given) = &new.content_type {
            validate_content_type(given)?;
        }
        let stored = self
            .policy
            .resolve(new.content_type.as_deref(), &[], &new.key)?;
        let uuid = uuid::Uuid::new_v4().simple().to_string();
        let now = SystemTime::now();
        let expires = epoch_secs_ceil(now + settings.expiry);
        let status = UploadStatus {
            offset: 0,
            length: new.length,
            metadata: new.metadata.clone(),
            expires_at: std::time::UNIX_EPOCH + std::time::Duration::from_secs(expires),
        };
        if new.length == 0 {
            let checksum = Crc32c::of(b"");
            self.store
                .put_object(
                    &new.key,
                    Bytes::new(),
                    &stored.content_type,
                    stored.disposition.as_deref(),
                    &checksum,
                )
                .await?;
            let object = Uploaded {
                key: new.key,
                size: 0,
                content_type: stored.content_type,
                checksum,
            };
            return Ok((uuid, status, Some(object)));
        }
        let upload_id = self
            .store
            .create_multipart_upload(
                &new.key,
                &stored.content_type,
                stored.disposition.as_deref(),
            )
            .await?;
        let state = TusState {
            key: new.key,
            upload_id,
            length: new.length,
            offset: 0,
            content_type: stored.content_type,
            disposition: stored.disposition,
            metadata: new.metadata,
            parts: Vec::new(),
            tails: Vec::new(),
            next_part: 1,
            lease: None,
            expires,
            created_by: new.created_by,
        };
        // The uuid is fresh: the write fails only if the store does.
        if let Err(error) = self.tus_save(&uuid, &state, None).await {
            let _ = self
                .store
                .abort_multipart_upload(&state.key, &state.upload_id)
                .await;
            return Err(error);
        }
        Ok((uuid, status, None))
    }

    /// Where upload `uuid` stands (tus `HEAD`).
    pub async fn tus_status(&self, uuid: &str) -> Result<UploadStatus, TusError> {
        Ok(status_of(&self.tus_load(uuid).await?.state))
    }

    /// Ends upload `uuid` and removes everything it left: the multipart upload with its
    /// parts, the tails and the state (tus termination; the janitor for expired uploads).
    pub async fn tus_terminate(&self, uuid: &str) -> Result<(), TusError> {
        let loaded = self.tus_read(uuid).await?;
        self.tus_remove(uuid, &loaded.state).await?;
        Ok(())
    }

    /// Every tus upload whose state this bucket holds, as (uuid, state); at most 10,000. A
    /// state that cannot be read is skipped with a warning.
    pub async fn tus_uploads(&self) -> Result<Vec<(String, TusState)>, StorageError> {
        let (objects, _) = self
            .store
            .list_objects(state::TUS_STATE_PREFIX, MAX_PARTS as usize, None)
            .await?;
        let mut found = Vec::new();
        for object in objects {
            let Some(uuid) = object
                .key
                .strip_prefix(state::TUS_STATE_PREFIX)
                .and_then(|rest| rest.strip_suffix("/state.json"))
            else {
                continue;
            };
            let Some((body, _)) = self
                .store
                .get_versioned(&object.key, MAX_STATE_BYTES)
                .await?
            else {
                continue;
            };
            match parse(&body) {
                Ok(state) => found.push((uuid.to_owned(), state)),
                Err(error) => {
                    tracing::warn!(alias = self.alias, key = object.key, %error, "unreadable tus state")
                }
            }
        }
        Ok(found)
    }

    /// Aborts the multipart upload of `state` and deletes every object under its folder.
    pub(crate) async fn tus_remove(
        &self,
        uuid: &str,
        state: &TusState,
    ) -> Result<(), StorageError> {
        match self
            .store
            .abort_multipart_upload(&state.key, &state.upload_id)
            .await
        {
            Ok(()) => {}
            // Aborted already (twice is harmless).
            Err(StorageError::Backend { code, .. }) if code == "NoSuchUpload" => {}
            Err(error) => return Err(error),
        }
        self.remove_folder(uuid).await
    }

    async fn remove_folder(&self, uuid: &str) -> Result<(), StorageError> {
        let (objects, _) = self
            .store
            .list_objects(&TusState::folder(uuid), MAX_PARTS as usize, None)
            .await?;
        let keys: Vec<String> = objects.into_iter().map(|object| object.key).collect();
        if !keys.is_empty() {
            self.store.delete_objects(&keys).await?;
        }
        Ok(())
    }

    /// Reads the state of `uuid`; an expired upload is removed and refused.
    async fn tus_load(&self, uuid: &str) -> Result<Loaded, TusError> {
        let loaded = self.tus_read(uuid).await?;
        if loaded.state.is_expired(SystemTime::now()) {
            self.tus_remove(uuid, &loaded.state).await?;
            return Err(TusError::Expired);
        }
        Ok(loaded)
    }

    /// Reads the state of `uuid`, expired or not.
    async fn tus_read(&self, uuid: &str) -> Result<Loaded, TusError> {
        let Some((body, etag)) = self
            .store
            .get_versioned(&TusState::object_key(uuid), MAX_STATE_BYTES)
            .await?
        else {
            return Err(TusError::NotFound);
        };
        Ok(Loaded {
            state: parse(&body)?,
            etag,
        })
    }

    /// Writes `state` if the stored one still has `etag` (or, with `None`, if there is none
    /// yet); the new ETag, or `Locked` when another request changed it first.
    async fn tus_save(
        &self,
        uuid: &str,
        state: &TusState,
        etag: Option<&str>,
    ) -> Result<String, TusError> {
        let body =
            Bytes::from(serde_json::to_vec(state).map_err(|e| TusError::Corrupt(e.to_string()))?);
        self.store
            .put_if(&TusState::object_key(uuid), body, "application/json", etag)
            .await?
            .ok_or(TusError::Locked)
    }

    /// Appends a PATCH body to upload `uuid` (see the module's comment for the lease).
    pub async fn tus_append<S>(
        &self,
        uploads: &Uploads,
        settings: &TusSettings,
        uuid: &str,
        append: Append,
        source: S,
    ) -> Result<Appended, TusError>
    where
        S: Stream<Item = Result<Bytes, UploadError>> + Unpin + Send,
    {
        let Loaded { mut state, etag } = self.tus_load(uuid).await?;
        if append.offset != state.offset {
            return Err(TusError::OffsetMismatch {
                given: append.offset,
                offset: state.offset,
            });
        }
        let now = SystemTime::now();
        if state.is_held(now) {
            return Err(TusError::Locked);
        }
        let part_size = uploads.part_size();
        if state.lease.is_some() {
            // Its holder died: it may still hold parts it never recorded, at numbers from
            // `next_part` on. Skip every number it could use.
            let left = (state.length - state.in_parts()).div_ceil(part_size as u64);
            state.next_part = state.next_part.saturating_add(left as u32 + 1);
        }
        let holder = uuid::Uuid::new_v4().simple().to_string();
        state.lease = Some(Lease {
            holder,
            until: epoch_secs(now + settings.lease),
        });
        let etag = self.tus_save(uuid, &state, Some(&etag)).await?;
        let mut appending = Appending {
            bucket: self,
            uuid,
            settings,
            state,
            etag,
            unrecorded: Vec::new(),
            recorded_at: Instant::now(),
            verified: append.checksum.is_none(),
            settled: false,
            open_part: None,
            activity: Some(uploads.begin()),
        };
        match appending.run(uploads, part_size, &append, source).await {
            Ok(appended) => Ok(appended),
            Err(error) => {
                appending.release().await;
                Err(error)
            }
        }
    }
}

/// One PATCH holding the lease of its upload.
struct Appending<'a> {
    bucket: &'a Bucket,
    uuid: &'a str,
    settings: &'a TusSettings,
    state: TusState,
    etag: String,
    /// Parts sent in this PATCH and not in the stored state yet. They are recorded with the
    /// PATCH's last state write (or earlier, when the lease needs renewing), so a PATCH of one
    /// part writes the state twice: to take the lease and to record and give it back.
    unrecorded: Vec<PartRecord>,
    /// When the state was last written (the lease renewed).
    recorded_at: Instant,
    /// Whether what arrived may be kept: no `Upload-Checksum`, or it matched.
    verified: bool,
    /// Completed: the state is gone with the upload, and nothing is given back.
    settled: bool,
    /// The number of a part streaming to S3 whose last bytes were not handed on yet: if the
    /// PATCH ends there, S3 keeps nothing of it and the number is free again. (S3 allows
    /// gaps, and the embedded store renumbers them, but each one wastes one of the 10,000
    /// numbers an upload has.)
    open_part: Option<u32>,
    /// Upload activity, handed to the background release of a dropped PATCH so that
    /// shutdown (and a test) waits for it.
    activity: Option<UploadActivity>,
}

/// The part being filled: in a buffer, or on its way to S3 while it arrives.
enum Filling {
    Buffer(BytesMut),
    Streaming {
        number: u32,
        size: u64,
        put: Streamed<String>,
    },
}

impl Appending<'_> {
    async fn run<S>(
        &mut self,
        uploads: &Uploads,
        part_size: usize,
        append: &Append,
        source: S,
    ) -> Result<Appended, TusError>
    where
        S: Stream<Item = Result<Bytes, UploadError>> + Unpin + Send,
    {
        // A part being assembled from the tail pieces and new bytes holds both for a moment.
        let _memory = uploads.reserve_memory(2 * part_size as u64).await?;
        // The tail pieces start the next part; they are read only when it is full, or when it
        // starts streaming.
        let mut pieces = self.state.tails.clone();
        let mut held = self.state.in_tails() as usize;
        let mut filling = Filling::Buffer(BytesMut::new());
        let limits = Limits {
            max_size: self.state.length - self.state.offset,
            pace: uploads.limits().pace,
        };
        let mut body = BodyReader::new(source, limits);
        let mut digest = append.checksum.map(BodyDigest::new);
        // Bytes of the body still to come, when it declared its length.
        let mut declared_left = append.length;
        let broke_off = loop {
            let mut chunk = match body.next_chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break None,
                Err(UploadError::TooLarge { .. }) => {
                    return Err(TusError::PastLength {
                        length: self.state.length,
                    });
                }
                Err(error) => break Some(error),
            };
            if let Some(digest) = &mut digest {
                digest.update(&chunk);
            }
            let arrived = chunk.len() as u64;
            while !chunk.is_empty() {
                // The size of the part being filled: a whole part, or the upload's last bytes.
                let start = self.sent_bytes();
                let target = (part_size as u64).min(self.state.length - start);
                // What is still to come: the rest of this chunk and the chunks after it.
                let to_come =
                    declared_left.map(|left| left.saturating_sub(arrived - chunk.len() as u64));
                if let Filling::Buffer(buffer) = &filling
                    && buffer.is_empty()
                    && to_come.is_some_and(|left| held as u64 + left >= target)
                {
                    // This PATCH fills the part: send it while it arrives.
                    filling = self
                        .start_streaming(&pieces, target, uploads.limits().pace.read_timeout)
                        .await?;
                }
                let full = match &mut filling {
                    Filling::Buffer(buffer) => {
                        let room = target as usize - held - buffer.len();
                        let take = room.min(chunk.len());
                        if buffer.capacity() == 0 {
                            // All it will hold, when the body declared its length: one
                            // allocation instead of a copy at every doubling.
                            let left = to_come.map_or(take, |left| {
                                usize::try_from(left).unwrap_or(usize::MAX).min(room)
                            });
                            buffer.reserve(left);
                        }
                        buffer.extend_from_slice(&chunk.split_to(take));
                        held + buffer.len() == target as usize
                    }
                    Filling::Streaming { size, put, .. } => {
                        let take = usize::try_from(*size - put.taken())
                            .unwrap_or(usize::MAX)
                            .min(chunk.len());
                        put.push(chunk.split_to(take)).await?;
                        put.taken() == *size
                    }
                };
                if full {
                    let part =
                        match std::mem::replace(&mut filling, Filling::Buffer(BytesMut::new())) {
                            Filling::Buffer(buffer) => {
                                let bytes = self.assemble(&pieces, buffer.freeze()).await?;
                                self.send_part(bytes).await?
                            }
                            Filling::Streaming { number, size, put } => {
                                // From here S3 may keep the part: its number is taken.
                                self.open_part = None;
                                let (etag, crc) = put.finish().await?;
                                PartRecord {
                                    number,
                                    etag,
                                    crc32c: crc.to_base64(),
                                    size,
                                }
                            }
                        };
                    pieces.clear();
                    held = 0;
                    self.unrecorded.push(part);
                    self.renew_if_due().await?;
                }
            }
            if let Some(left) = &mut declared_left {
                // hyper holds the body to its Content-Length, so this never goes below zero.
                *left = left.saturating_sub(arrived);
            }
        };
        if let (Some(digest), Some(expected)) = (digest, append.checksum)
            && broke_off.is_none()
        {
            if !digest.matches(expected) {
                return Err(TusError::ChecksumMismatch);
            }
            self.verified = true;
        }
        // A part that was streaming and did not fill is given up as it drops (S3 keeps none
        // of it); its bytes arrive again when the client resumes. A buffered rest is kept.
        let rest = match filling {
            Filling::Buffer(buffer) => buffer.freeze(),
            Filling::Streaming { .. } => {
                self.free_open_part();
                held = 0;
                Bytes::new()
            }
        };
        if let Some(error) = broke_off {
            // Without a checksum, what arrived is kept; with one, nothing can be verified.
            if self.verified {
                self.state.tails = pieces;
                let _ = self.keep_tail(rest).await;
            }
            return Err(error.into());
        }
        if self.sent_bytes() + (held + rest.len()) as u64 == self.state.length {
            if held + rest.len() > 0 {
                let bytes = self.assemble(&pieces, rest).await?;
                let last = self.send_part(bytes).await?;
                self.unrecorded.push(last);
            }
            let parts = std::mem::take(&mut self.unrecorded);
            self.state.parts.extend(parts);
            return self.finish().await;
        }
        self.state.tails = pieces;
        self.keep_tail(rest).await?;
        Ok(Appended::Partial(status_of(&self.state)))
    }

    /// Bytes in recorded parts and in the parts this PATCH sent.
    fn sent_bytes(&self) -> u64 {
        self.state.in_parts() + self.unrecorded.iter().map(|part| part.size).sum::<u64>()
    }

    /// Starts sending the next part (`size` bytes) while it arrives, beginning with the tail
    /// pieces that start it.
    async fn start_streaming(
        &mut self,
        pieces: &[TailRecord],
        size: u64,
        deadline: std::time::Duration,
    ) -> Result<Filling, TusError> {
        let number = self.next_number(size)?;
        let call = {
            let store = self.bucket.store.clone();
            let (key, upload_id) = (self.state.key.clone(), self.state.upload_id.clone());
            move |body| async move {
                store
                    .upload_part_streamed(&key, &upload_id, number as i32, size, body)
                    .await
            }
        };
        self.open_part = Some(number);
        let mut put = Streamed::start(size, deadline, None, (), call);
        // Each piece goes on to S3 as soon as it is read, while the next ones are read.
        let mut read = std::pin::pin!(self.read_pieces(pieces));
        while let Some(piece) = read.next().await {
            put.push(piece?).await?;
        }
        Ok(Filling::Streaming { number, size, put })
    }

    /// Records the parts sent so far (renewing the lease) once half the lease has passed
    /// since the state was last written; a long PATCH keeps its lease and its progress.
    async fn renew_if_due(&mut self) -> Result<(), TusError> {
        if !self.verified || self.recorded_at.elapsed() < self.settings.lease / 2 {
            return Ok(());
        }
        // Called as a part was completed: the pieces before it went into it.
        let parts = std::mem::take(&mut self.unrecorded);
        self.record(parts, Vec::new()).await
    }

    /// The tail pieces read back, followed by `rest`: the bytes of one part.
    async fn assemble(&self, pieces: &[TailRecord], rest: Bytes) -> Result<Bytes, TusError> {
        if pieces.is_empty() {
            return Ok(rest);
        }
        let total = pieces
            .iter()
            .map(|piece| piece.size as usize)
            .sum::<usize>()
            + rest.len();
        let mut bytes = BytesMut::with_capacity(total);
        let mut read = std::pin::pin!(self.read_pieces(pieces));
        while let Some(piece) = read.next().await {
            bytes.extend_from_slice(&piece?);
        }
        bytes.extend_from_slice(&rest);
        Ok(bytes.freeze())
    }

    /// The tail pieces' bytes, in order, with up to [`PIECE_READS`] reads in flight: a part
    /// gathered from 1 MiB PATCHes has seven pieces before the PATCH that fills it, and one
    /// read after another would wait for seven first bytes in turn.
    fn read_pieces<'p>(
        &'p self,
        pieces: &'p [TailRecord],
    ) -> impl Stream<Item = Result<Bytes, TusError>> + 'p {
        stream::iter(pieces)
            .map(move |piece| async move {
                let read = self
                    .bucket
                    .store
                    .get_object_bytes(&piece.key, piece.size)
                    .await?;
                if read.len() as u64 != piece.size {
                    return Err(TusError::Corrupt(format!(
                        "the tail piece {} has {} bytes, not {}",
                        piece.key,
                        read.len(),
                        piece.size
                    )));
                }
                Ok(read)
            })
            .buffered(PIECE_READS)
    }

    /// Uploads one part at the next free number.
    async fn send_part(&mut self, bytes: Bytes) -> Result<PartRecord, TusError> {
        let number = self.next_number(bytes.len() as u64)?;
        let crc32c = Crc32c::of(&bytes);
        let size = bytes.len() as u64;
        let etag = self
            .bucket
            .store
            .upload_part(
                &self.state.key,
                &self.state.upload_id,
                number as i32,
                bytes,
                &crc32c,
            )
            .await?;
        Ok(PartRecord {
            number,
            etag,
            crc32c,
            size,
        })
    }

    /// Takes the next free part number for a part of `size` bytes.
    fn next_number(&mut self, size: u64) -> Result<u32, TusError> {
        let number = self.state.next_part;
        if number > MAX_PARTS {
            return Err(TusError::TooManyParts {
                length: self.state.length,
                part_size: size,
            });
        }
        self.state.next_part += 1;
        Ok(number)
    }

    /// Records `parts` (and the tail pieces after them) in the state and renews the lease.
    async fn record(
        &mut self,
        parts: Vec<PartRecord>,
        tails: Vec<TailRecord>,
    ) -> Result<(), TusError> {
        self.fold(parts, tails);
        if let Some(lease) = &mut self.state.lease {
            lease.until = epoch_secs(SystemTime::now() + self.settings.lease);
        }
        self.etag = self
            .bucket
            .tus_save(self.uuid, &self.state, Some(&self.etag))
            .await?;
        self.recorded_at = Instant::now();
        Ok(())
    }

    /// Keeps `bytes` (after the recorded parts and tail pieces) as one more tail piece, gives
    /// the lease back and records it all. Past [`MAX_PIECES`] the pieces are merged into one.
    async fn keep_tail(&mut self, bytes: Bytes) -> Result<(), TusError> {
        let mut tails = std::mem::take(&mut self.state.tails);
        if !bytes.is_empty() {
            let bytes = if tails.len() >= MAX_PIECES {
                let merged = self.assemble(&tails, bytes).await?;
                tails.clear();
                merged
            } else {
                bytes
            };
            let start = self.sent_bytes() + tails.iter().map(|t| t.size).sum::<u64>();
            let size = bytes.len() as u64;
            let key = TusState::tail_key(self.uuid, start + size);
            let crc32c = Crc32c::of(&bytes);
            self.bucket
                .store
                .put_object(&key, bytes, "application/octet-stream", None, &crc32c)
                .await?;
            tails.push(TailRecord { key, size });
        }
        self.state.lease = None;
        let parts = std::mem::take(&mut self.unrecorded);
        self.record(parts, tails).await
    }

    /// Completes the multipart upload with every recorded part and removes the state.
    async fn finish(&mut self) -> Result<Appended, TusError> {
        // Make sure no other request took the upload over while the last part went up.
        self.state.offset = self.state.length;
        self.state.tails.clear();
        self.etag = self
            .bucket
            .tus_save(self.uuid, &self.state, Some(&self.etag))
            .await?;
        // The CRC32C of nothing, combined with each part's in turn: the whole object's.
        let mut crc = Crc32c::new();
        let mut receipts = Vec::with_capacity(self.state.parts.len());
        for part in &self.state.parts {
            let bytes: [u8; 4] = STANDARD
                .decode(&part.crc32c)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| TusError::Corrupt(format!("part {} has no CRC32C", part.number)))?;
            crc = crc.combine(Crc32c::from_bytes(bytes), part.size as usize);
            receipts.push(PartReceipt {
                number: part.number as i32,
                etag: part.etag.clone(),
                crc32c: part.crc32c.clone(),
            });
        }
        let checksum = crc.to_base64();
        self.bucket
            .store
            .complete_multipart_upload(
                &self.state.key,
                &self.state.upload_id,
                &receipts,
                &checksum,
                self.state.length,
            )
            .await?;
        let status = status_of(&self.state);
        if let Err(error) = self.bucket.remove_folder(self.uuid).await {
            tracing::warn!(error = %crate::telemetry::ErrorChain(&error), uuid = self.uuid, "tus state left behind after completion; the janitor removes it");
        }
        let object = Uploaded {
            key: self.state.key.clone(),
            size: self.state.length,
            content_type: self.state.content_type.clone(),
            checksum,
        };
        self.settled = true;
        Ok(Appended::Finished(status, object))
    }

    /// Puts `parts` (after the recorded ones) and then `tails` into the state, and the offset
    /// they make.
    fn fold(&mut self, parts: Vec<PartRecord>, tails: Vec<TailRecord>) {
        self.state.parts.extend(parts);
        self.state.tails = tails;
        self.state.offset = self.state.in_parts() + self.state.in_tails();
    }

    /// The state as a PATCH that ends early leaves it: no lease, and the parts it sent
    /// recorded when what arrived may be kept.
    fn give_back(&mut self) {
        self.state.lease = None;
        self.free_open_part();
        if self.verified && !self.unrecorded.is_empty() {
            // The first part this PATCH sent began with the recorded tail pieces.
            let parts = std::mem::take(&mut self.unrecorded);
            self.fold(parts, Vec::new());
        }
    }

    /// Frees the number of a part that was streaming and will never be whole.
    fn free_open_part(&mut self) {
        if let Some(number) = self.open_part.take() {
            self.state.next_part = number;
        }
    }

    /// Gives the lease back after a failure, keeping what was recorded; best effort (an
    /// expired lease is taken over anyway).
    async fn release(&mut self) {
        if self.state.lease.is_none() {
            return;
        }
        self.give_back();
        if let Ok(etag) = self
            .bucket
            .tus_save(self.uuid, &self.state, Some(&self.etag))
            .await
        {
            self.etag = etag;
        }
    }
}

impl Drop for Appending<'_> {
    /// The request was dropped mid-PATCH (its connection went away while it waited for the
    /// store): give the lease back in the background, with what was verified recorded, so
    /// the client's next PATCH is not refused as locked until the lease runs out.
    fn drop(&mut self) {
        if self.settled || self.state.lease.is_none() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        self.give_back();
        let state = self.state.clone();
        let (bucket, uuid, etag) = (self.bucket.clone(), self.uuid.to_owned(), self.etag.clone());
        let activity = self.activity.take();
        runtime.spawn(async move {
            let _activity = activity;
            if let Err(error) = bucket.tus_save(&uuid, &state, Some(&etag)).await {
                tracing::warn!(error = %crate::telemetry::ErrorChain(&error), uuid, "a dropped PATCH could not give its lease back; it runs out by itself");
            }
        });
    }
}

fn status_of(state: &TusState) -> UploadStatus {
    UploadStatus {
        offset: state.offset,
        length: state.length,
        metadata: state.metadata.clone(),
        expires_at: state.expires_at(),
    }
}

fn parse(body: &[u8]) -> Result<TusState, TusError> {
    serde_json::from_slice(body).map_err(|error| TusError::Corrupt(error.to_string()))
}

/// The running digest of a PATCH body.
enum BodyDigest {
    Sha1(Sha1),
    Sha256(Sha256),
}

impl BodyDigest {
    fn new(expected: BodyChecksum) -> Self {
        match expected {
            BodyChecksum::Sha1(_) => Self::Sha1(Sha1::new()),
            BodyChecksum::Sha256(_) => Self::Sha256(Sha256::new()),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Sha1(hasher) => hasher.update(bytes),
            Self::Sha256(hasher) => hasher.update(bytes),
        }
    }

    fn matches(self, expected: BodyChecksum) -> bool {
        match (self, expected) {
            (Self::Sha1(hasher), BodyChecksum::Sha1(want)) => hasher.finalize()[..] == want,
            (Self::Sha256(hasher), BodyChecksum::Sha256(want)) => hasher.finalize()[..] == want,
            _ => false,
        }
    }
}
