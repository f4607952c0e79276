//! The streaming upload pipeline: request bytes → part buffers → S3.
//!
//! A body whose exact length is known before it arrives (a raw body with `Content-Length`, a
//! spooled file), longer than one part and at most `upload.single_put_max`, streams into one
//! PutObject as it arrives, with no part buffers (`streamed.rs`). Any other body is copied
//! once, from the request's chunks into a part buffer of `upload.part_size`: a body that ends
//! within the first part is stored with one PutObject; a longer one becomes a multipart upload
//! of equal parts, sent concurrently while the next part fills. On the way
//! the size limit is enforced chunk by chunk, a CRC32C (and, when the client sent one to
//! check, a SHA-256) is computed, and part buffers are reserved from a global budget so
//! uploads wait rather than grow memory.
//!
//! An upload is received in two steps: [`Bucket::upload`] streams the bytes and verifies
//! them, returning a [`Staged`] upload; [`Staged::commit`] makes the object appear. Between the
//! two a caller can still refuse the request (a form field read after the file) and nothing is
//! stored. A staged multipart upload that is dropped, failed or refused is aborted.
//!
//! The requests themselves are services here too: [`form::receive`] reads a multipart form,
//! [`raw::receive`] a raw body; both, and image uploads, count their outcome through
//! [`Uploads::counted`].

mod body;
mod budget;
mod buffer;
pub(crate) mod checks;
mod error;
pub(crate) mod form;
mod form_bound;
mod multipart;
mod outcome;
mod pace;
pub(crate) mod raw;
mod settings_check;
pub(crate) mod spool;
pub(crate) mod streamed;

pub use body::{BodyReader, Limits};
pub use budget::{Busy, Reservation};
use checks::is_generic;
pub use checks::{Expected, validate_content_type};
pub use error::UploadError;
pub use outcome::Stored;
pub use pace::{Pace, Paced};
pub use settings_check::check;

use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;
use sha2::{Digest as _, Sha256};
use tokio::sync::watch;

use crate::config::UploadSettings;
use crate::metrics::Metrics;
use crate::storage::checksum::Crc32c;
use crate::storage::content::{ContentPolicy, StoredType};
use crate::storage::s3::S3Bucket;
use crate::storage::{Bucket, StorageError};
use budget::Budget;
use buffer::BufferPool;
use multipart::{CleanupContext, MultipartUpload, Part};
use streamed::Streamed;

/// An upload body as the request services hand it on: one type, so the pipeline is compiled
/// once for every source (form part, spool file, raw body).
type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, UploadError>> + Send>>;

/// Bytes looked at to sniff a content type.
const SNIFF_BYTES: usize = 8192;

/// The upload machinery shared by every request: settings, budget, and a count of uploads and
/// cleanups still running.
pub struct Uploads {
    budget: Budget,
    buffers: Arc<BufferPool>,
    spool_space: spool::SpoolSpace,
    part_size: usize,
    parts_in_flight: usize,
    /// Longest body of known length streamed into one PutObject.
    single_put_max: u64,
    limits: Limits,
    metrics: Arc<Metrics>,
    activity: Activity,
}

impl std::fmt::Debug for Uploads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Uploads")
            .field("part_size", &self.part_size)
            .field("parts_in_flight", &self.parts_in_flight)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// What to store and what the client claims about it.
#[derive(Debug, Clone)]
pub struct UploadSpec {
    /// The full, validated object key.
    pub key: String,
    /// The type the client gave, if any.
    pub content_type: Option<String>,
    /// Checksums the client sent, all checked before anything is stored.
    pub expected: Expected,
    /// An upper bound on the body's size (`Content-Length`), to size the first buffer of a
    /// small upload to the upload rather than to a whole part.
    pub size_hint: Option<u64>,
    /// The body's exact length, when it is known before the first byte (a raw body with
    /// `Content-Length`, which hyper holds the client to; a spooled file). Such a body may
    /// stream into one PutObject.
    pub length: Option<u64>,
}

/// A stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    pub key: String,
    pub size: u64,
    pub content_type: String,
    /// CRC32C, base64, as in `x-amz-checksum-crc32c`.
    pub checksum: String,
}

impl Bucket {
    /// Streams `source` into this bucket under `spec.key` and verifies it; see [`Staged`].
    pub async fn upload<S>(
        &self,
        uploads: &Uploads,
        spec: UploadSpec,
        source: S,
    ) -> Result<Staged, UploadError>
    where
        S: Stream<Item = Result<Bytes, UploadError>> + Unpin + Send,
    {
        self.check_storable(&spec.key)?;
        uploads
            .receive(&self.store, &self.policy, spec, source)
            .await
    }

    /// Refuses a key the embedded store cannot hold, before any byte is read.
    pub(crate) fn check_storable(&self, key: &str) -> Result<(), StorageError> {
        match &self.embedded {
            Some(layout) => layout.check_put(key).map_err(StorageError::NotStorable),
            None => Ok(()),
        }
    }

    /// Stores an object that is already whole in memory with one PutObject; S3 verifies
    /// `checksum` (CRC32C, base64) and refuses the object if the bytes do not match.
    pub async fn put_whole(
        &self,
        key: String,
        bytes: Bytes,
        content_type: &str,
        checksum: String,
    ) -> Result<Uploaded, UploadError> {
        self.check_storable(&key)?;
        let stored = self.policy.resolve(Some(content_type), &bytes, &key)?;
        let size = bytes.len() as u64;
        self.store
            .put_object(
                &key,
                bytes,
                content_type,
                stored.disposition.as_deref(),
                &checksum,
            )
            .await?;
        Ok(Uploaded {
            key,
            size,
            content_type: content_type.to_owned(),
            checksum,
        })
    }
}

impl Uploads {
    pub fn new(settings: &UploadSettings, metrics: Arc<Metrics>) -> Self {
        Self {
            budget: Budget::new(
                settings.max_buffer_bytes,
                settings.budget_wait,
                metrics.upload_buffer_bytes.clone(),
            ),
            buffers: BufferPool::new(
                usize::try_from(settings.max_buffer_bytes).unwrap_or(usize::MAX),
            ),
            spool_space: spool::SpoolSpace::new(settings.spool_max_bytes),
            part_size: usize::try_from(settings.part_size).unwrap_or(usize::MAX),
            parts_in_flight: settings.parts_in_flight.max(1),
            single_put_max: settings.single_put_max,
            limits: Limits {
                max_size: settings.max_file_size,
                pace: Pace {
                    read_timeout: settings.read_timeout,
                    min_rate: settings.min_rate,
                    window: settings.min_rate_window,
                },
            },
            metrics,
            activity: Activity::default(),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// `upload.part_size`, in bytes.
    pub fn part_size(&self) -> usize {
        self.part_size
    }

    /// Reserves `bytes` of the memory budget for a body held whole (an image, a trigger
    /// payload) while it is parsed; waits at most `upload.budget_wait`.
    pub async fn reserve_memory(&self, bytes: u64) -> Result<Reservation, UploadError> {
        let bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
        Ok(self.budget.reserve(bytes).await?)
    }

    /// Grows a reservation without waiting (its holder already holds memory).
    pub fn grow_memory(
        &self,
        reservation: &mut Reservation,
        bytes: u64,
    ) -> Result<(), UploadError> {
        let bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
        Ok(self.budget.try_grow(reservation, bytes)?)
    }

    /// The disk spool files may use.
    pub(crate) fn spool_space(&self) -> &spool::SpoolSpace {
        &self.spool_space
    }

    /// The whole memory budget, in bytes.
    pub fn memory_budget(&self) -> u64 {
        self.budget.total_bytes()
    }

    /// Refuses a body whose declared length is already over the limit, before reading it.
    pub fn check_declared_size(&self, content_length: Option<u64>) -> Result<(), UploadError> {
        match content_length {
            Some(length) if length > self.limits.max_size => Err(UploadError::TooLarge {
                limit: self.limits.max_size,
            }),
            _ => Ok(()),
        }
    }

    /// Marks an upload request as running until the returned token is dropped, so
    /// [`Uploads::idle`] also waits for requests that are still reading their body.
    pub fn begin(&self) -> UploadActivity {
        UploadActivity(self.activity.enter())
    }

    /// Resolves once no upload is being received and every abort has finished: for graceful
    /// shutdown, and for tests that check nothing was left behind.
    pub async fn idle(&self) {
        let mut count = self.activity.0.subscribe();
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = count.wait_for(|running| *running == 0).await;
    }

    /// Streams `source` towards `bucket` under `spec.key` and verifies it; see [`Staged`].
    async fn receive<S>(
        &self,
        bucket: &S3Bucket,
        policy: &ContentPolicy,
        spec: UploadSpec,
        source: S,
    ) -> Result<Staged, UploadError>
    where
        S: Stream<Item = Result<Bytes, UploadError>> + Unpin + Send,
    {
        if let Some(content_type) = &spec.content_type {
            validate_content_type(content_type)?;
            // A declared type the alias refuses is refused before any byte is read; a type
            // that is only sniffed is checked once the first bytes are in.
            if !is_generic(content_type) {
                policy.check(content_type)?;
            }
        }
        let activity = self.activity.enter();
        let mut body = BodyReader::new(source, self.limits);
        let mut digest = Digest::new(spec.expected.wants_sha256());
        if let Some(length) = spec
            .length
            .filter(|length| (self.part_size as u64 + 1..=self.single_put_max).contains(length))
        {
            return self
                .receive_streamed(bucket, policy, spec, body, digest, length, activity)
                .await;
        }

        let Some(first_chunk) = body.next_chunk().await? else {
            spec.expected.verify(digest.crc, digest.sha256.as_ref())?;
            let stored = policy.resolve(spec.content_type.as_deref(), b"", &spec.key)?;
            return Ok(self.staged(
                bucket,
                spec.key,
                stored,
                &digest,
                Kind::Single(None),
                activity,
            ));
        };
        let first = self
            .fill(&mut body, &mut digest, first_chunk, spec.size_hint)
            .await?;
        let stored = policy.resolve(
            spec.content_type.as_deref(),
            sniff_of(&first.data),
            &spec.key,
        )?;
        let Some(next_chunk) = body.next_chunk().await? else {
            // The whole body fits in one part: one PutObject at commit.
            spec.expected.verify(digest.crc, digest.sha256.as_ref())?;
            let kind = Kind::Single(Some((first.data, first.reservation)));
            return Ok(self.staged(bucket, spec.key, stored, &digest, kind, activity));
        };
        body.push_back(next_chunk);

        let mut upload =
            MultipartUpload::start(bucket, &spec.key, &stored, self.cleanup_context()).await?;
        upload.send(1, first);
        let sent = async {
            self.send_remaining_parts(&mut upload, &mut body, &mut digest, spec.size_hint)
                .await?;
            spec.expected.verify(digest.crc, digest.sha256.as_ref())
        }
        .await;
        if let Err(error) = sent {
            body.drain_after(&error).await;
            upload.abort().await;
            return Err(error);
        }
        let kind = Kind::Multipart(upload);
        Ok(self.staged(bucket, spec.key, stored, &digest, kind, activity))
    }

    /// Streams a body of exactly `length` bytes into one PutObject; see [`Streamed`].
    #[allow(
        clippy::too_many_arguments,
        reason = "the state `receive` has built so far"
    )]
    async fn receive_streamed<S>(
        &self,
        bucket: &S3Bucket,
        policy: &ContentPolicy,
        spec: UploadSpec,
        mut body: BodyReader<S>,
        mut digest: Digest,
        length: u64,
        activity: ActivityToken,
    ) -> Result<Staged, UploadError>
    where
        S: Stream<Item = Result<Bytes, UploadError>> + Unpin + Send,
    {
        let memory = self.budget.reserve(streamed::STREAM_MEMORY).await?;
        // The first bytes decide the stored type before the call starts.
        let mut head = Vec::new();
        let mut sniff = Vec::with_capacity(SNIFF_BYTES);
        while sniff.len() < SNIFF_BYTES {
            let Some(chunk) = body.next_chunk().await? else {
                break;
            };
            let take = (SNIFF_BYTES - sniff.len()).min(chunk.len());
            sniff.extend_from_slice(&chunk[..take]);
            head.push(chunk);
        }
        let stored = policy.resolve(spec.content_type.as_deref(), &sniff, &spec.key)?;
        let call = {
            let (store, key) = (bucket.clone(), spec.key.clone());
            let (content_type, disposition) =
                (stored.content_type.clone(), stored.disposition.clone());
            move |body| async move {
                store
                    .put_object_streamed(&key, &content_type, disposition.as_deref(), length, body)
                    .await
            }
        };
        let mut put = Streamed::start(
            length,
            self.limits.pace.read_timeout,
            Some(memory),
            self.activity.enter(),
            call,
        );
        let streamed = async {
            for chunk in head {
                digest.add_uncrc(&chunk);
                put.push(chunk).await?;
            }
            while let Some(chunk) = body.next_chunk().await? {
                digest.add_uncrc(&chunk);
                put.push(chunk).await?;
            }
            Ok::<_, UploadError>(())
        }
        .await;
        if let Err(error) = streamed {
            body.drain_after(&error).await;
            return Err(error);
        }
        // The CRC32C the store will check, computed once as the bytes went by.
        digest.crc = put.crc();
        if digest.size != length {
            return Err(UploadError::Body(
                format!("{} bytes of the declared {length} arrived", digest.size).into(),
            ));
        }
        spec.expected.verify(digest.crc, digest.sha256.as_ref())?;
        let kind = Kind::Streamed(put);
        Ok(self.staged(bucket, spec.key, stored, &digest, kind, activity))
    }

    /// Fills and sends parts 2, 3, … until the body ends, holding at most
    /// `parts_in_flight` buffers: while that many are on their way, the client is not read.
    async fn send_remaining_parts<S>(
        &self,
        upload: &mut MultipartUpload,
        body: &mut BodyReader<S>,
        digest: &mut Digest,
        size_hint: Option<u64>,
    ) -> Result<(), UploadError>
    where
        S: Stream<Item = Result<Bytes, UploadError>> + Unpin + Send,
    {
        let mut number = 2;
        loop {
            while upload.in_flight() >= self.parts_in_flight {
                upload.next_sent().await?;
            }
            let next_part = async {
                match body.next_chunk().await? {
                    None => Ok(None),
                    Some(chunk) => self.fill(body, digest, chunk, size_hint).await.map(Some),
                }
            };
            let Some(part) = upload.alongside(next_part).await?? else {
                break;
            };
            upload.send(number, part);
            number += 1;
        }
        upload.finish_sending().await
    }

    /// Fills one part buffer, starting with `first`, until it holds `part_size` bytes or the
    /// body ends. The buffer is reserved from the budget before any byte is copied into it.
    async fn fill<S>(
        &self,
        body: &mut BodyReader<S>,
        digest: &mut Digest,
        first: Bytes,
        size_hint: Option<u64>,
    ) -> Result<Part, UploadError>
    where
        S: Stream<Item = Result<Bytes, UploadError>> + Unpin + Send,
    {
        // A declared length bounds what can still come, so a small upload reserves only
        // what it needs, rounded up to a size class so the next upload of about its size
        // reuses the buffer; without a length (and for a whole part) exactly `part_size`.
        let capacity = match size_hint {
            Some(hint) => {
                let left = usize::try_from(hint.saturating_sub(digest.size))
                    .unwrap_or(usize::MAX)
                    .clamp(first.len().min(self.part_size), self.part_size);
                buffer::size_class(left).min(self.part_size)
            }
            None => self.part_size,
        };
        let mut reservation = self.budget.reserve(capacity).await?;
        let mut data = self.buffers.buffer(capacity)?;
        let mut crc = Crc32c::new();
        let mut next = Some(first);
        while let Some(mut chunk) = next.take() {
            let room = self.part_size - data.len();
            if chunk.len() > room {
                body.push_back(chunk.split_off(room));
            }
            if data.len() + chunk.len() > data.capacity() {
                // Only a wrong size hint gets here (hyper enforces Content-Length). The buffer
                // holds data, so it grows with what is free now or the upload is busy.
                self.budget.try_grow(&mut reservation, self.part_size)?;
                data.grow(self.part_size)?;
            }
            crc.update(&chunk);
            if let Some(sha256) = &mut digest.sha256 {
                sha256.update(&chunk);
            }
            data.extend_from_slice(&chunk);
            if data.len() < self.part_size {
                next = body.next_chunk().await?;
            }
        }
        // The first part's CRC is the digest's so far: combining with the CRC of nothing
        // costs a GF(2) matrix product per bit of length for no change.
        digest.crc = if digest.size == 0 {
            crc
        } else {
            digest.crc.combine(crc, data.len())
        };
        digest.size += data.len() as u64;
        Ok(Part {
            data: data.freeze(),
            crc,
            reservation,
        })
    }

    fn staged(
        &self,
        bucket: &S3Bucket,
        key: String,
        stored: StoredType,
        digest: &Digest,
        kind: Kind,
        activity: ActivityToken,
    ) -> Staged {
        Staged {
            bucket: bucket.clone(),
            key,
            content_type: stored.content_type,
            disposition: stored.disposition,
            size: digest.size,
            checksum: digest.crc.to_base64(),
            kind,
            _activity: activity,
        }
    }

    fn cleanup_context(&self) -> CleanupContext {
        CleanupContext {
            metrics: self.metrics.clone(),
            activity: self.activity.clone(),
        }
    }
}

fn sniff_of(data: &[u8]) -> &[u8] {
    &data[..data.len().min(SNIFF_BYTES)]
}

/// Checksums and size of everything put into parts so far.
struct Digest {
    crc: Crc32c,
    sha256: Option<Sha256>,
    size: u64,
}

impl Digest {
    fn new(with_sha256: bool) -> Self {
        Self {
            crc: Crc32c::new(),
            sha256: with_sha256.then(Sha256::new),
            size: 0,
        }
    }

    /// Counts `bytes` and adds them to the SHA-256, leaving the CRC32C to whoever sends them
    /// (a [`Streamed`] body computes it on its way).
    fn add_uncrc(&mut self, bytes: &[u8]) {
        if let Some(sha256) = &mut self.sha256 {
            sha256.update(bytes);
        }
        self.size += bytes.len() as u64;
    }
}

/// An upload whose bytes arrived and were verified, not yet visible in the bucket.
/// Dropping it stores nothing (an S3 multipart upload behind it is aborted).
pub struct Staged {
    bucket: S3Bucket,
    key: String,
    content_type: String,
    /// `attachment; filename=…` for active content the alias does not serve inline.
    disposition: Option<String>,
    size: u64,
    checksum: String,
    kind: Kind,
    _activity: ActivityToken,
}

enum Kind {
    /// At most one part: stored with one PutObject. `None` for an empty body.
    Single(Option<(Bytes, Reservation)>),
    Multipart(MultipartUpload),
    /// Known length: one PutObject, sent while the body arrived, its last chunk held back.
    Streamed(Streamed<()>),
}

impl std::fmt::Debug for Staged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staged")
            .field("key", &self.key)
            .field("size", &self.size)
            .field(
                "kind",
                &match self.kind {
                    Kind::Single(_) => "single",
                    Kind::Multipart(_) => "multipart",
                    Kind::Streamed(_) => "streamed",
                },
            )
            .finish_non_exhaustive()
    }
}

impl Staged {
    /// Makes the object appear in the bucket.
    pub async fn commit(self) -> Result<Uploaded, UploadError> {
        let Staged {
            bucket,
            key,
            content_type,
            disposition,
            size,
            checksum,
            kind,
            _activity,
        } = self;
        match kind {
            Kind::Single(part) => {
                let data = part.map(|(data, _reservation)| data).unwrap_or_default();
                bucket
                    .put_object(&key, data, &content_type, disposition.as_deref(), &checksum)
                    .await?;
            }
            Kind::Multipart(upload) => upload.complete(&checksum, size).await?,
            Kind::Streamed(put) => drop(put.finish().await?),
        }
        Ok(Uploaded {
            key,
            size,
            content_type,
            checksum,
        })
    }

    /// Gives the upload up now; nothing is stored (a streamed body ends short as it drops).
    pub async fn abort(self) {
        if let Kind::Multipart(upload) = self.kind {
            upload.abort().await;
        }
    }
}

/// Counts uploads being received and aborts running in the background.
#[derive(Debug, Clone)]
struct Activity(Arc<watch::Sender<usize>>);

impl Default for Activity {
    fn default() -> Self {
        Self(Arc::new(watch::Sender::new(0)))
    }
}

impl Activity {
    fn enter(&self) -> ActivityToken {
        self.0.send_modify(|running| *running += 1);
        ActivityToken(self.0.clone())
    }
}

/// An upload request in progress; see [`Uploads::begin`].
#[derive(Debug)]
pub struct UploadActivity(#[allow(dead_code, reason = "held for its Drop")] ActivityToken);

/// One unit of activity; it ends when dropped.
#[derive(Debug)]
struct ActivityToken(Arc<watch::Sender<usize>>);

impl Drop for ActivityToken {
    fn drop(&mut self) {
        self.0.send_modify(|running| *running -= 1);
    }
}
