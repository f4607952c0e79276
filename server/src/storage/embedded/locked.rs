//! The embedded store's S3 service: s3s-fs behind per-key locks, so that a reader never sees
//! half of a replacement and a conditional write is atomic, as they are on S3.
//!
//! s3s-fs replaces an object in steps: it renames the new bytes into place, then writes their
//! attributes (content type, …) and then their ETag and checksums, each to a file of its own.
//! A GetObject opens the object and reads those files one after another, so between the steps
//! it could answer the new bytes with the old checksum (which the SDK refuses as corrupt) or
//! with the old type. And s3s-fs checks `If-Match` / `If-None-Match` before it writes, with
//! nothing to stop a second writer between the check and the rename: two tus PATCHes of one
//! upload on two replicas could both win.
//!
//! So every operation on one key takes that key's lock (one of [`STRIPES`], by a hash of the
//! bucket and key):
//! - GetObject, HeadObject (and the source of a copy) share it while they open the object and
//!   read its metadata. The body then streams from the open file, which a later rename does
//!   not change.
//! - A PutObject holds it exclusively from its body's last byte until its metadata is written.
//!   The upload itself runs unlocked, so a slow one never keeps readers of the old object
//!   waiting. A conditional PutObject holds it for the whole call. An UploadPart holds it the
//!   same way, from its last byte until its file is in place.
//! - CompleteMultipartUpload, DeleteObject(s) and CopyObject hold it for the whole call.
//!
//! One more difference is made good here: S3 completes any ascending list of part numbers,
//! gaps allowed, and s3s-fs only 1, 2, 3, …. A tus PATCH that takes over from a replica that
//! died skips the part numbers the dead one could still write, so on s3s-fs its upload could
//! never complete. CompleteMultipartUpload renumbers such a list first (see
//! [`close_part_gaps`]).
//!
//! And the checksums a PutObject or UploadPart is sent with are checked before its end
//! reaches s3s-fs (`verified.rs`): s3s-fs checks a PutObject's after the new bytes replaced
//! the old, and an UploadPart's not at all.
//!
//! Everything else (listing, buckets) goes to s3s-fs as it is.

use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_util::Stream;
use s3s::dto::{
    AbortMultipartUploadInput, AbortMultipartUploadOutput, CompleteMultipartUploadInput,
    CompleteMultipartUploadOutput, CopyObjectInput, CopyObjectOutput, CopySource,
    CreateBucketInput, CreateBucketOutput, CreateMultipartUploadInput, CreateMultipartUploadOutput,
    DeleteBucketInput, DeleteBucketOutput, DeleteObjectInput, DeleteObjectOutput,
    DeleteObjectsInput, DeleteObjectsOutput, GetBucketLocationInput, GetBucketLocationOutput,
    GetObjectInput, GetObjectOutput, HeadBucketInput, HeadBucketOutput, HeadObjectInput,
    HeadObjectOutput, ListBucketsInput, ListBucketsOutput, ListObjectsInput, ListObjectsOutput,
    ListObjectsV2Input, ListObjectsV2Output, ListPartsInput, ListPartsOutput, PutObjectInput,
    PutObjectOutput, StreamingBlob, UploadPartCopyInput, UploadPartCopyOutput, UploadPartInput,
    UploadPartOutput,
};
use s3s::stream::{ByteStream, RemainingLength};
use s3s::{S3, S3Request, S3Response, S3Result, StdError, s3_error};
use s3s_fs::FileSystem;
use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};

use super::verified;

/// Locks shared by all keys. Two keys on one stripe only wait for each other now and then;
/// a lock per key would need a table that grows with the keys and is swept.
pub const STRIPES: usize = 64;

/// s3s-fs with its operations on one key kept apart.
pub struct LockedFs {
    fs: FileSystem,
    /// The folder `fs` serves, as s3s-fs resolved it (absolute, canonical): where it keeps
    /// the parts of multipart uploads.
    root: PathBuf,
    locks: KeyLocks,
}

impl LockedFs {
    /// `root` is the folder `fs` was opened on.
    pub fn new(fs: FileSystem, root: &Path) -> std::io::Result<Self> {
        // As s3s-fs resolves it, so that part paths are the ones it uses.
        let root = std::env::current_dir()?.join(root).canonicalize()?;
        Ok(Self {
            fs,
            root,
            locks: KeyLocks::new(),
        })
    }
}

/// Renumbers the parts of a CompleteMultipartUpload to 1, 2, 3, … when the list has gaps, by
/// renaming the part files s3s-fs wrote (`.upload_id-<id>.part-<n>` in its root, the layout
/// of s3s-fs 0.14.1, which the workspace pins exactly; a unit test of `S3Bucket` completes a
/// gapped upload through this). A part that was uploaded but is not in the list is dropped
/// by the completion anyway, as on S3, so one that sits at a new number is overwritten; and
/// no part file lands meanwhile, since an UploadPart renames its file under the key's lock,
/// which the completion holds. Numbers must be ascending, as S3 requires.
async fn close_part_gaps(root: &Path, input: &mut CompleteMultipartUploadInput) -> S3Result<()> {
    let Some(parts) = input
        .multipart_upload
        .as_mut()
        .and_then(|upload| upload.parts.as_mut())
    else {
        return Ok(());
    };
    let numbers: Vec<i32> = parts
        .iter()
        .map(|part| part.part_number.ok_or_else(|| s3_error!(InvalidPart)))
        .collect::<S3Result<_>>()?;
    if numbers
        .iter()
        .zip(1..)
        .all(|(number, wanted)| *number == wanted)
    {
        return Ok(());
    }
    if numbers.windows(2).any(|pair| pair[0] >= pair[1]) {
        return Err(s3_error!(InvalidPartOrder));
    }
    // Parsed, not pasted: the id names files, so it must be the UUID s3s-fs gave out.
    let upload_id = uuid::Uuid::parse_str(&input.upload_id).map_err(|_| s3_error!(NoSuchUpload))?;
    let part_path = |number: i32| root.join(format!(".upload_id-{upload_id}.part-{number}"));
    // The old numbers ascend from at least 1, so each new number is at most its old one and
    // below every old number still to come: no rename lands on a part still to be moved.
    for ((part, number), wanted) in parts.iter_mut().zip(numbers).zip(1..) {
        if number == wanted {
            continue;
        }
        match tokio::fs::rename(part_path(number), part_path(wanted)).await {
            Ok(()) => part.part_number = Some(wanted),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(s3_error!(InvalidPart, "part {number} was not uploaded"));
            }
            Err(error) => {
                return Err(s3_error!(
                    InternalError,
                    "renumbering part {number}: {error}"
                ));
            }
        }
    }
    Ok(())
}

struct KeyLocks {
    stripes: Vec<Arc<RwLock<()>>>,
}

impl KeyLocks {
    fn new() -> Self {
        Self {
            stripes: (0..STRIPES).map(|_| Arc::default()).collect(),
        }
    }

    /// The stripe of a key. Hashed as a path, as s3s-fs maps keys to files: `a//b` and `a/b`
    /// are one file there, so they share a lock.
    fn stripe(bucket: &str, key: &str) -> usize {
        let mut hasher = DefaultHasher::new();
        bucket.hash(&mut hasher);
        Path::new(key).hash(&mut hasher);
        (hasher.finish() % STRIPES as u64) as usize
    }

    fn of(&self, bucket: &str, key: &str) -> Arc<RwLock<()>> {
        Arc::clone(&self.stripes[Self::stripe(bucket, key)])
    }

    async fn read(&self, bucket: &str, key: &str) -> OwnedRwLockReadGuard<()> {
        self.of(bucket, key).read_owned().await
    }

    async fn write(&self, bucket: &str, key: &str) -> OwnedRwLockWriteGuard<()> {
        self.of(bucket, key).write_owned().await
    }

    /// Exclusive locks of many keys, taken in stripe order so that two callers never wait
    /// for each other's.
    async fn write_all<'k>(
        &self,
        bucket: &str,
        keys: impl Iterator<Item = &'k str>,
    ) -> Vec<OwnedRwLockWriteGuard<()>> {
        let mut stripes: Vec<usize> = keys.map(|key| Self::stripe(bucket, key)).collect();
        stripes.sort_unstable();
        stripes.dedup();
        let mut guards = Vec::with_capacity(stripes.len());
        for stripe in stripes {
            guards.push(Arc::clone(&self.stripes[stripe]).write_owned().await);
        }
        guards
    }

    /// A copy's locks: the source shared, the destination exclusive, in stripe order (or the
    /// destination's alone when both are on one stripe).
    async fn copy(
        &self,
        source: (&str, &str),
        destination: (&str, &str),
    ) -> (Option<OwnedRwLockReadGuard<()>>, OwnedRwLockWriteGuard<()>) {
        let from = Self::stripe(source.0, source.1);
        let to = Self::stripe(destination.0, destination.1);
        let lock = |stripe: usize| Arc::clone(&self.stripes[stripe]);
        if from == to {
            return (None, lock(to).write_owned().await);
        }
        if from < to {
            let read = lock(from).read_owned().await;
            (Some(read), lock(to).write_owned().await)
        } else {
            let write = lock(to).write_owned().await;
            (Some(lock(from).read_owned().await), write)
        }
    }
}

/// The answer to a call whose body was checked: BadDigest when the body failed its checksums
/// (s3s-fs then saw a body that broke off, and kept nothing of it).
fn settle<T>(answer: S3Result<T>, failed: &verified::Failed) -> S3Result<T> {
    if failed.load(std::sync::atomic::Ordering::Acquire) {
        return Err(s3_error!(
            BadDigest,
            "the body does not match the checksum it was sent with"
        ));
    }
    answer
}

type Acquiring = Pin<Box<dyn Future<Output = OwnedRwLockWriteGuard<()>> + Send>>;

/// A PutObject or UploadPart body that takes its key's exclusive lock when it ends, before
/// s3s-fs sees the end and renames the file into place. The guard waits in `held` for the
/// call to return.
struct LockAtEnd {
    body: StreamingBlob,
    stage: Stage,
    held: HeldGuard,
}

/// Where a [`LockAtEnd`] body is.
enum Stage {
    /// Passing the body on; the lock to take at its end.
    Streaming(Arc<RwLock<()>>),
    /// The body has ended and the lock is being taken. In a mutex only because s3s wants
    /// bodies that are `Sync`; it is never contended.
    Locking(Mutex<Acquiring>),
    /// Ended, the guard in `held`.
    Ended,
}

/// Where a [`LockAtEnd`] body keeps the guard it took, for its call to give back.
type HeldGuard = Arc<Mutex<Option<OwnedRwLockWriteGuard<()>>>>;

/// The caller's side of a [`LockAtEnd`] body: the lock it took, once its call has returned.
struct Held(HeldGuard);

impl Held {
    /// Gives the lock back (when the body took it): the call's writes are all done.
    fn release(self) {
        drop(self.0.lock().unwrap_or_else(PoisonError::into_inner).take());
    }
}

impl LockAtEnd {
    /// Wraps `body` (when there is one) to take `lock` at its end; the guard is then held
    /// until the caller releases it.
    fn wrap(body: &mut Option<StreamingBlob>, lock: Arc<RwLock<()>>) -> Held {
        let held = HeldGuard::default();
        if let Some(inner) = body.take() {
            *body = Some(StreamingBlob::new(Self {
                body: inner,
                stage: Stage::Streaming(lock),
                held: Arc::clone(&held),
            }));
        }
        Held(held)
    }
}

impl Stream for LockAtEnd {
    type Item = Result<Bytes, StdError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Stage::Streaming(lock) = &this.stage {
            if let Some(item) = ready!(Pin::new(&mut this.body).poll_next(cx)) {
                return Poll::Ready(Some(item));
            }
            this.stage = Stage::Locking(Mutex::new(Box::pin(Arc::clone(lock).write_owned())));
        }
        if let Stage::Locking(acquiring) = &this.stage {
            let guard = {
                let mut acquiring = acquiring.lock().unwrap_or_else(PoisonError::into_inner);
                ready!(acquiring.as_mut().poll(cx))
            };
            *this.held.lock().unwrap_or_else(PoisonError::into_inner) = Some(guard);
            this.stage = Stage::Ended;
        }
        Poll::Ready(None)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.body.size_hint()
    }
}

impl ByteStream for LockAtEnd {
    fn remaining_length(&self) -> RemainingLength {
        self.body.remaining_length()
    }
}

#[async_trait::async_trait]
impl S3 for LockedFs {
    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let _shared = self.locks.read(&req.input.bucket, &req.input.key).await;
        self.fs.get_object(req).await
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let _shared = self.locks.read(&req.input.bucket, &req.input.key).await;
        self.fs.head_object(req).await
    }

    async fn put_object(
        &self,
        mut req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let trailers = req.trailing_headers.clone();
        let input = &mut req.input;
        let failed = verified::wrap(&mut input.body, verified::declared!(input), trailers);
        let lock = self.locks.of(&input.bucket, &input.key);
        if input.if_match.is_some() || input.if_none_match.is_some() {
            // The check and the write as one step.
            let _exclusive = lock.write_owned().await;
            return settle(self.fs.put_object(req).await, &failed);
        }
        let held = LockAtEnd::wrap(&mut input.body, lock);
        let answer = self.fs.put_object(req).await;
        // Given back only now that the metadata is written (or the write failed).
        held.release();
        settle(answer, &failed)
    }

    async fn complete_multipart_upload(
        &self,
        mut req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let _exclusive = self.locks.write(&req.input.bucket, &req.input.key).await;
        close_part_gaps(&self.root, &mut req.input).await?;
        self.fs.complete_multipart_upload(req).await
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let _exclusive = self.locks.write(&req.input.bucket, &req.input.key).await;
        self.fs.delete_object(req).await
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let input = &req.input;
        let keys = input
            .delete
            .objects
            .iter()
            .map(|object| object.key.as_str());
        let _exclusive = self.locks.write_all(&input.bucket, keys).await;
        self.fs.delete_objects(req).await
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let input = &req.input;
        let _locks = match &input.copy_source {
            CopySource::Bucket { bucket, key, .. } => Some(
                self.locks
                    .copy((bucket, key), (&input.bucket, &input.key))
                    .await,
            ),
            // s3s-fs refuses these.
            _ => None,
        };
        self.fs.copy_object(req).await
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        let _shared = match &req.input.copy_source {
            CopySource::Bucket { bucket, key, .. } => Some(self.locks.read(bucket, key).await),
            _ => None,
        };
        self.fs.upload_part_copy(req).await
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.fs.create_multipart_upload(req).await
    }

    async fn upload_part(
        &self,
        mut req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        // The part's file is renamed into place under the key's lock, so it cannot land in
        // the middle of a completion, which may be renumbering the parts (a late part of a
        // PATCH that was taken over would otherwise replace one the list keeps).
        let trailers = req.trailing_headers.clone();
        let input = &mut req.input;
        let failed = verified::wrap(&mut input.body, verified::declared!(input), trailers);
        let held = LockAtEnd::wrap(&mut input.body, self.locks.of(&input.bucket, &input.key));
        let answer = self.fs.upload_part(req).await;
        held.release();
        settle(answer, &failed)
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        self.fs.list_parts(req).await
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        self.fs.abort_multipart_upload(req).await
    }

    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        self.fs.list_objects(req).await
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.fs.list_objects_v2(req).await
    }

    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        self.fs.create_bucket(req).await
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        self.fs.delete_bucket(req).await
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.fs.head_bucket(req).await
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.fs.get_bucket_location(req).await
    }

    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        self.fs.list_buckets(req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_are_one_file_share_a_stripe() {
        let stripe = KeyLocks::stripe;
        assert_eq!(stripe("b", "a//b.png"), stripe("b", "a/b.png"));
        assert_eq!(stripe("b", "a/./b.png"), stripe("b", "a/b.png"));
        // Not a proof of spread, but keys do land on more than one stripe.
        let used: std::collections::HashSet<usize> =
            (0..256).map(|n| stripe("b", &format!("k{n}"))).collect();
        assert!(used.len() > STRIPES / 2, "{} stripes used", used.len());
    }
}
