//! The S3 client of one bucket alias, private to `storage`: aws-sdk-s3 types stay in this
//! module; the storage services above it see Hoist's own types and [`StorageError`]. The
//! streamed PutObject and its body encoding have files of their own (`streamed.rs`,
//! `aws_chunked.rs`).

pub mod aws_chunked;
mod streamed;

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::Region;
use aws_sdk_s3::error::{BuildError, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::delete_objects::DeleteObjectsOutput;
use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumType, CompletedMultipartUpload, CompletedPart, Delete,
    ObjectIdentifier,
};
use bytes::Bytes;

use super::StorageError;
use super::model::{DeleteOutcome, IncompleteUpload, KeyFailure, ObjectSummary};
use crate::aws::{self, CallFailure};

/// How one alias reaches its bucket.
#[derive(Debug, Clone)]
pub struct Connection {
    pub bucket: String,
    pub region: String,
    /// A non-AWS endpoint (emulator, embedded store, S3-compatible service).
    pub endpoint: Option<String>,
    pub force_path_style: bool,
    /// Credentials of this alias when they differ from the shared ones (assumed role,
    /// embedded store).
    pub credentials: Option<SharedCredentialsProvider>,
    /// The in-process s3s-fs store, which keeps a request's `Content-Encoding: aws-chunked`
    /// as the object's own encoding where S3 strips it.
    pub embedded: bool,
}

/// A bucket and the client that reaches it.
#[derive(Debug, Clone)]
pub struct S3Bucket {
    client: Client,
    connection: Connection,
    /// The credentials the client signs with, kept to learn when a presigned URL must end
    /// (the SDK's config no longer hands its provider back).
    signer: Option<SharedCredentialsProvider>,
}

/// Pauses before reading a small object again whose body broke off or failed its checksum
/// (see [`S3Bucket::get_versioned`]); after the last the error stands. The SDK retries a
/// request that fails, not a body that breaks off once its head has arrived. (s3s-fs alone
/// also answered torn versions of an object being replaced, which needed 12 pauses under
/// load; the embedded store's key locks, `storage/embedded/locked.rs`, end that.)
const BODY_RETRIES: [Duration; 3] = [
    Duration::from_millis(10),
    Duration::from_millis(50),
    Duration::from_millis(250),
];

/// How long a readiness probe waits for a bucket.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

impl S3Bucket {
    pub fn new(sdk: &SdkConfig, connection: Connection) -> Self {
        let mut config = aws_sdk_s3::config::Builder::from(sdk)
            .region(Region::new(connection.region.clone()))
            .force_path_style(connection.force_path_style);
        if let Some(endpoint) = &connection.endpoint {
            config = config.endpoint_url(endpoint);
        }
        if let Some(credentials) = &connection.credentials {
            config = config.credentials_provider(credentials.clone());
        }
        let signer = connection
            .credentials
            .clone()
            .or_else(|| sdk.credentials_provider());
        Self {
            client: Client::from_conf(config.build()),
            connection,
            signer,
        }
    }

    pub fn bucket(&self) -> &str {
        &self.connection.bucket
    }

    /// Whether the bucket answers, within a few seconds.
    pub async fn check_reachable(&self) -> Result<(), StorageError> {
        let probe = self.client.head_bucket().bucket(self.bucket()).send();
        match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
            Ok(result) => result.map(drop).map_err(map_sdk_error),
            Err(_) => Err(StorageError::Unavailable(
                format!("no answer within {PROBE_TIMEOUT:?}").into(),
            )),
        }
    }

    /// The object's URL on its endpoint (path-style or virtual-hosted, as configured).
    pub fn object_url(&self, key: &str) -> String {
        let Connection {
            bucket,
            region,
            endpoint,
            force_path_style,
            ..
        } = &self.connection;
        let key = encode_key(key);
        match (endpoint, force_path_style) {
            (Some(endpoint), true) => format!("{}/{bucket}/{key}", endpoint.trim_end_matches('/')),
            (Some(endpoint), false) => match endpoint.split_once("://") {
                Some((scheme, host)) => {
                    format!("{scheme}://{bucket}.{}/{key}", host.trim_end_matches('/'))
                }
                None => format!("{endpoint}/{bucket}/{key}"),
            },
            (None, true) => format!("https://s3.{region}.amazonaws.com/{bucket}/{key}"),
            (None, false) => format!("https://{bucket}.s3.{region}.amazonaws.com/{key}"),
        }
    }

    /// Stores a small object whole with one PutObject. S3 verifies `crc32c` (base64, as in
    /// `x-amz-checksum-crc32c`) and refuses the object if the bytes do not match.
    ///
    /// The payload is not hashed for the SigV4 signature (`UNSIGNED-PAYLOAD`): the CRC32C
    /// already protects the bytes end to end, and a SHA-256 of every byte would cost more CPU
    /// than the rest of the upload path together.
    pub async fn put_object(
        &self,
        key: &str,
        body: Bytes,
        content_type: &str,
        disposition: Option<&str>,
        crc32c: &str,
    ) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(self.bucket())
            .key(key)
            .content_type(content_type)
            .set_content_disposition(disposition.map(str::to_owned))
            .checksum_crc32_c(crc32c)
            .body(ByteStream::from(body))
            .customize()
            .disable_payload_signing()
            .send()
            .await
            .map(drop)
            .map_err(map_sdk_error)
    }

    /// Starts a multipart upload whose object checksum is the CRC32C of the whole object
    /// (`FULL_OBJECT`), so the value S3 stores is the one Hoist computed and returned, not a
    /// checksum of part checksums. Returns the upload id.
    pub async fn create_multipart_upload(
        &self,
        key: &str,
        content_type: &str,
        disposition: Option<&str>,
    ) -> Result<String, StorageError> {
        let output = self
            .client
            .create_multipart_upload()
            .bucket(self.bucket())
            .key(key)
            .content_type(content_type)
            .set_content_disposition(disposition.map(str::to_owned))
            .checksum_algorithm(ChecksumAlgorithm::Crc32C)
            .checksum_type(ChecksumType::FullObject)
            .send()
            .await
            .map_err(map_sdk_error)?;
        output
            .upload_id()
            .map(str::to_owned)
            .ok_or_else(|| StorageError::Backend {
                code: "MissingUploadId".into(),
                message: "CreateMultipartUpload answered without an upload id".into(),
            })
    }

    /// Sends one part with its CRC32C (S3 verifies it); returns the part's ETag.
    pub async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: i32,
        body: Bytes,
        crc32c: &str,
    ) -> Result<String, StorageError> {
        let output = self
            .client
            .upload_part()
            .bucket(self.bucket())
            .key(key)
            .upload_id(upload_id)
            .part_number(part_number)
            .checksum_crc32_c(crc32c)
            .body(ByteStream::from(body))
            .customize()
            .disable_payload_signing()
            .send()
            .await
            .map_err(map_sdk_error)?;
        part_etag(output.e_tag(), part_number)
    }

    /// Completes a multipart upload. `crc32c` is the CRC32C of the whole object, which S3
    /// checks against the parts it holds before the object appears.
    pub async fn complete_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[PartReceipt],
        crc32c: &str,
        size: u64,
    ) -> Result<(), StorageError> {
        let parts = parts
            .iter()
            .map(|part| {
                CompletedPart::builder()
                    .part_number(part.number)
                    .e_tag(&part.etag)
                    .checksum_crc32_c(&part.crc32c)
                    .build()
            })
            .collect();
        self.client
            .complete_multipart_upload()
            .bucket(self.bucket())
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .checksum_crc32_c(crc32c)
            .checksum_type(ChecksumType::FullObject)
            .mpu_object_size(i64::try_from(size).unwrap_or(i64::MAX))
            .send()
            .await
            .map(drop)
            .map_err(map_sdk_error)
    }

    /// A URL that lets its holder PUT this object for `lifetime`: the returned expiry is
    /// earlier when the alias's credentials (an assumed role's session)
    /// end first, since S3 refuses a URL signed by credentials that have expired. The
    /// content type, disposition and checksums are signed headers the uploader must send.
    pub async fn presign_put(
        &self,
        key: &str,
        put: SignedPut<'_>,
        lifetime: Lifetime,
    ) -> Result<SignedRequest, StorageError> {
        let (config, start, expires_in) = self.signing_window(lifetime).await?;
        let request = self
            .client
            .put_object()
            .bucket(self.bucket())
            .key(key)
            .content_type(put.content_type)
            .set_content_disposition(put.disposition.map(str::to_owned))
            .set_checksum_crc32_c(put.crc32c.map(str::to_owned))
            .set_checksum_sha256(put.sha256.map(str::to_owned))
            .presigned(config)
            .await
            .map_err(map_sdk_error)?;
        Ok(signed(&request, start, expires_in))
    }

    /// A URL that lets its holder GET this object for `lifetime` (see
    /// [`Self::presign_put`]).
    pub async fn presign_get(
        &self,
        key: &str,
        lifetime: Lifetime,
    ) -> Result<SignedRequest, StorageError> {
        let (config, start, expires_in) = self.signing_window(lifetime).await?;
        let request = self
            .client
            .get_object()
            .bucket(self.bucket())
            .key(key)
            .presigned(config)
            .await
            .map_err(map_sdk_error)?;
        Ok(signed(&request, start, expires_in))
    }

    /// The presigning config of a URL that lives `lifetime.wanted` from now, unless its
    /// `not_after` or the expiry of the credentials that sign comes first; with its start and
    /// length.
    async fn signing_window(
        &self,
        lifetime: Lifetime,
    ) -> Result<(PresigningConfig, SystemTime, Duration), StorageError> {
        let provider = self.signer.as_ref().ok_or_else(|| {
            StorageError::Unavailable("no credentials to sign the URL with".into())
        })?;
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|error| StorageError::Unavailable(Box::new(error)))?;
        let start = SystemTime::now();
        let mut end = (start + lifetime.wanted).min(lifetime.not_after);
        if let Some(expiry) = credentials.expiry() {
            end = end.min(expiry);
        }
        let expires_in = end
            .duration_since(start)
            .ok()
            .filter(|left| *left >= Duration::from_secs(1))
            .ok_or_else(|| {
                StorageError::Unavailable("the signing credentials expire within a second".into())
            })?;
        // Whole seconds, as X-Amz-Expires carries them.
        let expires_in = Duration::from_secs(expires_in.as_secs());
        Ok((presigning_config(start, expires_in)?, start, expires_in))
    }

    /// Abandons a multipart upload and the parts S3 holds for it.
    pub async fn abort_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
    ) -> Result<(), StorageError> {
        self.client
            .abort_multipart_upload()
            .bucket(self.bucket())
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
            .map(drop)
            .map_err(map_sdk_error)
    }

    /// Every object under `prefix` in S3's (lexical) order, at most `max_keys` of them, and
    /// whether more exist beyond that cap.
    pub async fn list_objects(
        &self,
        prefix: &str,
        max_keys: usize,
        folders: Option<&mut Vec<String>>,
    ) -> Result<(Vec<ObjectSummary>, bool), StorageError> {
        let mut objects = Vec::new();
        let mut continuation = None;
        // With a folder list to fill, S3 lists one level: objects directly in `prefix`, and
        // each deeper prefix once, as a common prefix.
        let delimiter = folders.is_some().then_some("/");
        let mut folders = folders;
        loop {
            let found = objects.len() + folders.as_ref().map_or(0, |f| f.len());
            let page_size = max_keys.saturating_sub(found).clamp(1, LIST_PAGE_SIZE);
            let output = self
                .client
                .list_objects_v2()
                .bucket(self.bucket())
                .prefix(prefix)
                .set_delimiter(delimiter.map(str::to_owned))
                .max_keys(i32::try_from(page_size).unwrap_or(1000))
                .set_continuation_token(continuation.take())
                .send()
                .await
                .map_err(map_sdk_error)?;
            if let Some(folders) = folders.as_deref_mut() {
                folders.extend(
                    output
                        .common_prefixes()
                        .iter()
                        .filter_map(|common| common.prefix().map(str::to_owned)),
                );
            }
            objects.extend(output.contents().iter().filter_map(|object| {
                Some(ObjectSummary {
                    key: object.key()?.to_owned(),
                    last_modified: object
                        .last_modified()
                        .and_then(|date| SystemTime::try_from(*date).ok())
                        .unwrap_or(SystemTime::UNIX_EPOCH),
                    size: object
                        .size()
                        .and_then(|size| u64::try_from(size).ok())
                        .unwrap_or(0),
                })
            }));
            let more = output.is_truncated().unwrap_or(false);
            if !more {
                return Ok((objects, false));
            }
            if objects.len() + folders.as_ref().map_or(0, |f| f.len()) >= max_keys {
                return Ok((objects, true));
            }
            continuation = output.next_continuation_token().map(str::to_owned);
            if continuation.is_none() {
                return Err(StorageError::Backend {
                    code: "MissingContinuationToken".into(),
                    message: "a truncated listing came without a continuation token".into(),
                });
            }
        }
    }

    /// One DeleteObjects call (at most 1000 keys, S3's limit), in verbose mode so S3 names
    /// every key it deleted as well as every key it could not.
    pub async fn delete_objects(&self, keys: &[String]) -> Result<DeleteOutcome, StorageError> {
        let objects = keys
            .iter()
            .map(|key| ObjectIdentifier::builder().key(key).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(build_error)?;
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(false)
            .build()
            .map_err(build_error)?;
        let output = self
            .client
            .delete_objects()
            .bucket(self.bucket())
            .delete(delete)
            .send()
            .await
            .map_err(map_sdk_error)?;
        Ok(delete_outcome(keys, &output))
    }

    /// Reads a whole object of at most `max_bytes` (audit batches); larger is an error.
    pub async fn get_object_bytes(&self, key: &str, max_bytes: u64) -> Result<Bytes, StorageError> {
        match self.get_versioned(key, max_bytes).await? {
            Some((bytes, _)) => Ok(bytes),
            None => Err(StorageError::Backend {
                code: "NoSuchKey".into(),
                message: format!("`{key}` does not exist"),
            }),
        }
    }

    /// A small object and its ETag, or `None` when there is no such key. A body that breaks
    /// off or fails its checksum is read again a few times.
    pub async fn get_versioned(
        &self,
        key: &str,
        max_bytes: u64,
    ) -> Result<Option<(Bytes, String)>, StorageError> {
        let mut retries = BODY_RETRIES.iter();
        loop {
            let output = match self
                .client
                .get_object()
                .bucket(self.bucket())
                .key(key)
                .send()
                .await
            {
                Ok(output) => output,
                Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                    return Ok(None);
                }
                Err(error) => return Err(map_sdk_error(error)),
            };
            if output
                .content_length()
                .is_some_and(|length| u64::try_from(length).unwrap_or(u64::MAX) > max_bytes)
            {
                return Err(StorageError::Backend {
                    code: "TooLarge".into(),
                    message: format!("`{key}` is larger than {max_bytes} bytes"),
                });
            }
            let etag = output.e_tag().unwrap_or_default().to_owned();
            match output.body.collect().await {
                Ok(data) => return Ok(Some((data.into_bytes(), etag))),
                // The body broke off or did not match the checksum the store sent with it
                // (a connection cut mid-body, bytes damaged on the way): again, a little
                // later each time.
                Err(_) if let Some(pause) = retries.next() => {
                    tokio::time::sleep(*pause).await;
                    continue;
                }
                Err(error) => return Err(StorageError::Unavailable(Box::new(error))),
            }
        }
    }

    /// Writes a small object only if the key is absent (`expected: None`) or still has the
    /// ETag `expected`: S3's conditional writes, so that of two writers that read the same
    /// version only one succeeds. Returns the new ETag, or `None` when the condition failed.
    pub async fn put_if(
        &self,
        key: &str,
        body: Bytes,
        content_type: &str,
        expected: Option<&str>,
    ) -> Result<Option<String>, StorageError> {
        let crc32c = super::checksum::Crc32c::of(&body);
        let request = self
            .client
            .put_object()
            .bucket(self.bucket())
            .key(key)
            .content_type(content_type)
            .checksum_crc32_c(crc32c)
            .body(ByteStream::from(body));
        let request = match expected {
            Some(etag) => request.if_match(etag),
            None => request.if_none_match("*"),
        };
        match request.send().await {
            Ok(output) => Ok(Some(output.e_tag().unwrap_or_default().to_owned())),
            // 412 when the version changed; 409 when another conditional write of the key was
            // in flight at the same moment.
            Err(error)
                if matches!(
                    error.as_service_error().and_then(|e| e.code()),
                    Some("PreconditionFailed" | "ConditionalRequestConflict")
                ) =>
            {
                Ok(None)
            }
            Err(error) => Err(map_sdk_error(error)),
        }
    }

    /// The incomplete multipart uploads of the bucket, at most `max` of them, oldest pages
    /// first as S3 lists them (by key, then by initiation). Stores that do not implement
    /// ListMultipartUploads (s3s-fs) answer `Backend { code: "NotImplemented" }`.
    pub async fn list_multipart_uploads(
        &self,
        max: usize,
    ) -> Result<Vec<IncompleteUpload>, StorageError> {
        let mut uploads = Vec::new();
        let mut key_marker = None;
        let mut upload_id_marker = None;
        loop {
            let output = self
                .client
                .list_multipart_uploads()
                .bucket(self.bucket())
                .set_key_marker(key_marker.take())
                .set_upload_id_marker(upload_id_marker.take())
                .send()
                .await
                .map_err(map_sdk_error)?;
            uploads.extend(output.uploads().iter().filter_map(|upload| {
                Some(IncompleteUpload {
                    key: upload.key()?.to_owned(),
                    upload_id: upload.upload_id()?.to_owned(),
                    initiated: upload
                        .initiated()
                        .and_then(|date| SystemTime::try_from(*date).ok())
                        .unwrap_or(SystemTime::UNIX_EPOCH),
                })
            }));
            if !output.is_truncated().unwrap_or(false) || uploads.len() >= max {
                uploads.truncate(max);
                return Ok(uploads);
            }
            key_marker = output.next_key_marker().map(str::to_owned);
            upload_id_marker = output.next_upload_id_marker().map(str::to_owned);
            if key_marker.is_none() {
                return Ok(uploads);
            }
        }
    }

    /// Creates the bucket unless it exists (embedded store and tests).
    pub async fn ensure_exists(&self) -> Result<(), StorageError> {
        if self.check_reachable().await.is_ok() {
            return Ok(());
        }
        match self
            .client
            .create_bucket()
            .bucket(self.bucket())
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error)
                if matches!(
                    error.code(),
                    Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists")
                ) =>
            {
                Ok(())
            }
            Err(error) => Err(map_sdk_error(error)),
        }
    }
}

/// S3 returns at most 1000 keys per ListObjectsV2 call.
const LIST_PAGE_SIZE: usize = 1000;

/// A part S3 accepted, as CompleteMultipartUpload needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartReceipt {
    pub number: i32,
    pub etag: String,
    /// CRC32C of the part, base64.
    pub crc32c: String,
}

/// What S3 said about each key of one DeleteObjects call. A key S3 named in neither list is
/// reported as a failure too: silence is not a confirmation.
fn delete_outcome(requested: &[String], output: &DeleteObjectsOutput) -> DeleteOutcome {
    let deleted: Vec<String> = output
        .deleted()
        .iter()
        .filter_map(|object| object.key().map(str::to_owned))
        .collect();
    let mut failures: Vec<KeyFailure> = output
        .errors()
        .iter()
        .map(|error| KeyFailure {
            key: error.key().unwrap_or_default().to_owned(),
            code: error.code().unwrap_or("Unknown").to_owned(),
            message: error.message().unwrap_or_default().to_owned(),
        })
        .collect();
    let answered: HashSet<String> = deleted
        .iter()
        .chain(failures.iter().map(|failure| &failure.key))
        .cloned()
        .collect();
    for key in requested {
        if !answered.contains(key) {
            failures.push(KeyFailure {
                key: key.clone(),
                code: "NotConfirmed".into(),
                message: "S3 reported this key neither deleted nor failed".into(),
            });
        }
    }
    DeleteOutcome {
        deleted,
        errors: failures,
    }
}

fn build_error(error: BuildError) -> StorageError {
    StorageError::Backend {
        code: "InvalidRequest".into(),
        message: error.to_string(),
    }
}

/// Percent-encodes a key for a URL path, keeping `/` and RFC 3986 unreserved characters.
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for byte in key.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// What a presigned PUT signs besides the key.
#[derive(Debug, Clone, Copy)]
pub struct SignedPut<'a> {
    pub content_type: &'a str,
    pub disposition: Option<&'a str>,
    /// Base64 digests S3 checks the uploaded bytes against.
    pub crc32c: Option<&'a str>,
    pub sha256: Option<&'a str>,
}

/// How long a presigned URL should live: `wanted` from signing, never past `not_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    /// Whole seconds.
    pub wanted: Duration,
    pub not_after: SystemTime,
}

/// A presigned request: the URL, the headers its sender must add, and when it stops working.
#[derive(Debug, Clone)]
pub struct SignedRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub expires_at: SystemTime,
    /// How long the URL lives from signing: `X-Amz-Expires`.
    pub lifetime: Duration,
}

fn presigning_config(
    start: SystemTime,
    expires_in: Duration,
) -> Result<PresigningConfig, StorageError> {
    PresigningConfig::builder()
        .start_time(start)
        .expires_in(expires_in)
        .build()
        .map_err(|error| StorageError::Backend {
            code: "InvalidPresign".into(),
            message: error.to_string(),
        })
}

fn signed(request: &PresignedRequest, start: SystemTime, lifetime: Duration) -> SignedRequest {
    SignedRequest {
        url: request.uri().to_owned(),
        headers: request
            .headers()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
            .collect(),
        expires_at: start + lifetime,
        lifetime,
    }
}

/// Transport trouble is `Unavailable`; an answer from S3 is `Backend` with its code.
/// The ETag an UploadPart answered with, which CompleteMultipartUpload needs.
fn part_etag(etag: Option<&str>, number: i32) -> Result<String, StorageError> {
    etag.map(str::to_owned)
        .ok_or_else(|| StorageError::Backend {
            code: "MissingETag".into(),
            message: format!("UploadPart {number} answered without an ETag"),
        })
}

fn map_sdk_error<E, R>(error: SdkError<E, R>) -> StorageError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match aws::call_failure(error) {
        CallFailure::Service { code, message } => StorageError::Backend { code, message },
        failure @ (CallFailure::Timeout(_) | CallFailure::Unreachable(_)) => {
            StorageError::Unavailable(Box::new(failure))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use tokio::task::JoinHandle;

    use super::*;
    use crate::storage::checksum::Crc32c;
    use crate::storage::embedded::EmbeddedS3;

    fn bucket(endpoint: Option<&str>, path_style: bool) -> S3Bucket {
        let sdk = SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        S3Bucket::new(
            &sdk,
            Connection {
                bucket: "acme".into(),
                region: "eu-west-1".into(),
                endpoint: endpoint.map(str::to_owned),
                force_path_style: path_style,
                credentials: None,
                embedded: false,
            },
        )
    }

    #[test]
    fn every_key_of_a_delete_answer_is_accounted_for() {
        use aws_sdk_s3::types::{DeletedObject, Error as S3KeyError};
        let output = DeleteObjectsOutput::builder()
            .deleted(DeletedObject::builder().key("gone").build())
            .errors(
                S3KeyError::builder()
                    .key("locked")
                    .code("AccessDenied")
                    .message("Access Denied")
                    .build(),
            )
            .build();
        let requested = ["gone", "locked", "unanswered"].map(String::from);
        let outcome = delete_outcome(&requested, &output);
        assert_eq!(outcome.deleted, ["gone"]);
        assert_eq!(
            outcome.errors,
            [
                KeyFailure {
                    key: "locked".into(),
                    code: "AccessDenied".into(),
                    message: "Access Denied".into(),
                },
                KeyFailure {
                    key: "unanswered".into(),
                    code: "NotConfirmed".into(),
                    message: "S3 reported this key neither deleted nor failed".into(),
                },
            ]
        );
    }

    /// A bucket on an embedded store of its own, and the folder to remove afterwards.
    async fn embedded_bucket(name: &str) -> (EmbeddedS3, S3Bucket, std::path::PathBuf) {
        let root = std::env::temp_dir().join(format!("hoist-{name}-{}", uuid::Uuid::new_v4()));
        let store = EmbeddedS3::start(&crate::config::EmbeddedStorage {
            enabled: true,
            root: root.clone(),
            bind: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        })
        .await
        .unwrap();
        let sdk = SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        let bucket = S3Bucket::new(
            &sdk,
            Connection {
                bucket: name.into(),
                region: "us-east-1".into(),
                endpoint: Some(store.endpoint.clone()),
                force_path_style: true,
                credentials: Some(store.credentials()),
                embedded: true,
            },
        );
        bucket.ensure_exists().await.unwrap();
        (store, bucket, root)
    }

    /// One version of the small object the replacement tests write: 2,048 digits.
    fn version(n: usize) -> Bytes {
        Bytes::from(format!("{n:0>2048}"))
    }

    /// Replaces `state.json` again and again until `done`, each write given the state the
    /// one before returned; the count of writes.
    fn keep_writing<S, F, Fut>(
        done: Arc<AtomicBool>,
        mut state: S,
        mut write: F,
    ) -> JoinHandle<usize>
    where
        S: Send + 'static,
        F: FnMut(usize, S) -> Fut + Send + 'static,
        Fut: Future<Output = S> + Send,
    {
        tokio::spawn(async move {
            let mut writes = 0;
            while !done.load(Ordering::Relaxed) {
                writes += 1;
                state = write(writes, state).await;
            }
            writes
        })
    }

    /// Reads `state.json` 60 times while `writer` keeps replacing it, each read a whole
    /// version, then stops the writer and checks that the writes overlapped the reads.
    async fn read_while_replaced(bucket: &S3Bucket, done: &AtomicBool, writer: JoinHandle<usize>) {
        for read in 0..60 {
            let (body, _) = bucket
                .get_versioned("state.json", 4096)
                .await
                .unwrap_or_else(|error| panic!("read {read} failed: {error:?}"))
                .expect("the object exists throughout");
            assert!(
                body.len() == 2048 && body.iter().all(u8::is_ascii_digit),
                "a whole version"
            );
        }
        done.store(true, Ordering::Relaxed);
        let writes = writer.await.unwrap();
        assert!(writes > 10, "the writes overlapped the reads ({writes})");
    }

    /// A reader of a small object that another request keeps replacing with conditional
    /// writes always gets one whole version. (s3s-fs alone renames the bytes first and writes
    /// their checksum after, so a read between the two saw a body that failed its checksum:
    /// the embedded store's key locks close that window.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_small_object_replaced_while_it_is_read_is_read_whole() {
        let (store, bucket, root) = embedded_bucket("torn").await;
        let etag = bucket
            .put_if("state.json", version(0), "application/json", None)
            .await
            .unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let writing = bucket.clone();
        let writer = keep_writing(done.clone(), etag, move |n, etag: Option<String>| {
            let bucket = writing.clone();
            async move {
                let written = bucket
                    .put_if(
                        "state.json",
                        version(n),
                        "application/json",
                        etag.as_deref(),
                    )
                    .await
                    .unwrap();
                Some(written.expect("one writer: the condition holds"))
            }
        });
        read_while_replaced(&bucket, &done, writer).await;
        drop(store);
        std::fs::remove_dir_all(root).unwrap();
    }

    /// The same with plain PutObjects, which hold the key's lock only from their last byte.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_small_object_put_again_and_again_is_read_whole() {
        let (store, bucket, root) = embedded_bucket("torn-put").await;
        let put = |bucket: S3Bucket, n: usize| async move {
            let body = version(n);
            let crc = Crc32c::of(&body);
            bucket
                .put_object("state.json", body, "application/json", None, &crc)
                .await
                .unwrap();
        };
        put(bucket.clone(), 0).await;
        let done = Arc::new(AtomicBool::new(false));
        let writing = bucket.clone();
        let writer = keep_writing(done.clone(), (), move |n, ()| put(writing.clone(), n));
        read_while_replaced(&bucket, &done, writer).await;
        drop(store);
        std::fs::remove_dir_all(root).unwrap();
    }

    /// Of writers that all read one version and write it back on that condition, exactly one
    /// wins, every round: on the embedded store the check and the write are one step, as
    /// the tus lease needs (two PATCHes of one upload on two replicas).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn of_conditional_writes_on_one_version_exactly_one_wins() {
        let (store, bucket, root) = embedded_bucket("cas").await;
        let mut etag = bucket
            .put_if("lease.json", version(0), "application/json", None)
            .await
            .unwrap()
            .expect("the key was absent");
        for round in 1..=30 {
            let writers = (0..6).map(|writer| {
                let (bucket, etag) = (bucket.clone(), etag.clone());
                tokio::spawn(async move {
                    bucket
                        .put_if(
                            "lease.json",
                            version(round * 10 + writer),
                            "application/json",
                            Some(&etag),
                        )
                        .await
                        .unwrap()
                })
            });
            let won: Vec<String> = futures_util::future::join_all(writers)
                .await
                .into_iter()
                .filter_map(|written| written.unwrap())
                .collect();
            assert_eq!(won.len(), 1, "round {round}: {} writers won", won.len());
            etag = won.into_iter().next().unwrap();
        }
        drop(store);
        std::fs::remove_dir_all(root).unwrap();
    }

    /// Uploads each `(number, body)` as a part of `id`, with its CRC32C; their receipts.
    async fn upload_parts(
        bucket: &S3Bucket,
        key: &str,
        id: &str,
        parts: &[(i32, &Bytes)],
    ) -> Vec<PartReceipt> {
        let mut receipts = Vec::new();
        for &(number, body) in parts {
            let crc32c = Crc32c::of(body);
            let etag = bucket
                .upload_part(key, id, number, body.clone(), &crc32c)
                .await
                .unwrap();
            receipts.push(PartReceipt {
                number,
                etag,
                crc32c,
            });
        }
        receipts
    }

    /// S3 completes any ascending list of part numbers; s3s-fs alone only 1, 2, 3, …, which
    /// a tus upload taken over from a dead replica does not have (it skips the numbers the
    /// dead one could still write). The embedded store renumbers.
    #[tokio::test]
    async fn the_embedded_store_completes_parts_numbered_with_gaps() {
        let (store, bucket, root) = embedded_bucket("gaps").await;
        let key = "gapped.bin";
        let first = Bytes::from(vec![b'a'; 5 * 1024 * 1024]);
        let unlisted = Bytes::from(vec![b'x'; 5 * 1024 * 1024]);
        let last = Bytes::from_static(b"the end");
        let id = bucket
            .create_multipart_upload(key, "application/octet-stream", None)
            .await
            .unwrap();
        // Part 2 is uploaded and left out of the list, as a dead PATCH's part would be: 4
        // moves to 1 and 9 over it to 2; S3 too drops a part the list leaves out.
        let mut receipts = upload_parts(
            &bucket,
            key,
            &id,
            &[(4, &first), (2, &unlisted), (9, &last)],
        )
        .await;
        receipts.retain(|receipt| receipt.number != 2);
        receipts.sort_by_key(|receipt| receipt.number);
        let whole = [first.as_ref(), last.as_ref()].concat();
        bucket
            .complete_multipart_upload(key, &id, &receipts, &Crc32c::of(&whole), whole.len() as u64)
            .await
            .expect("completed with parts 4 and 9");
        let stored = bucket
            .get_object_bytes(key, 16 * 1024 * 1024)
            .await
            .unwrap();
        assert!(
            stored == whole,
            "parts 4 and 9, in order, nothing of part 2"
        );

        // Out of order is refused, as on S3.
        let id = bucket
            .create_multipart_upload(key, "application/octet-stream", None)
            .await
            .unwrap();
        let mut receipts = upload_parts(&bucket, key, &id, &[(3, &first), (5, &last)]).await;
        receipts.reverse();
        let refused = bucket
            .complete_multipart_upload(key, &id, &receipts, &Crc32c::of(&whole), 0)
            .await
            .expect_err("descending part numbers");
        assert!(
            format!("{refused:?}").contains("InvalidPartOrder"),
            "{refused:?}"
        );
        drop(store);
        std::fs::remove_dir_all(root).unwrap();
    }

    /// S3 refuses a body that does not match its checksum before anything is stored; s3s-fs
    /// alone would put the bytes in place first (and check a part's not at all).
    #[tokio::test]
    async fn the_embedded_store_keeps_nothing_of_a_body_that_fails_its_checksum() {
        let (store, bucket, root) = embedded_bucket("digest").await;
        let put = |body: &'static [u8], crc32c: String| {
            let bucket = bucket.clone();
            async move {
                bucket
                    .put_object(
                        "doc.txt",
                        Bytes::from_static(body),
                        "text/plain",
                        None,
                        &crc32c,
                    )
                    .await
            }
        };
        put(b"version 1", Crc32c::of(b"version 1")).await.unwrap();
        let refused = put(b"version 2", Crc32c::of(b"something else"))
            .await
            .expect_err("a body that fails its CRC32C");
        assert!(format!("{refused:?}").contains("BadDigest"), "{refused:?}");
        let kept = bucket.get_object_bytes("doc.txt", 1024).await.unwrap();
        assert_eq!(kept.as_ref(), b"version 1", "the object as it was");
        // The same with the CRC32C as the trailer of an aws-chunked body.
        let (pieces, receiver) = tokio::sync::mpsc::channel(2);
        let body = b"version 3";
        pieces
            .send(aws_chunked::Piece::Data(Bytes::from_static(body)))
            .await
            .unwrap();
        pieces
            .send(aws_chunked::Piece::End {
                crc32c: Crc32c::of(b"something else"),
            })
            .await
            .unwrap();
        let refused = bucket
            .put_object_streamed(
                "doc.txt",
                "text/plain",
                None,
                body.len() as u64,
                aws_chunked::ChunkedBody::new(receiver, body.len() as u64),
            )
            .await
            .expect_err("a trailer that does not match");
        assert!(format!("{refused:?}").contains("BadDigest"), "{refused:?}");
        let kept = bucket.get_object_bytes("doc.txt", 1024).await.unwrap();
        assert_eq!(kept.as_ref(), b"version 1", "still the object as it was");

        let key = "parts.bin";
        let good = Bytes::from(vec![b'g'; 5 * 1024 * 1024]);
        let bad = Bytes::from(vec![b'b'; 5 * 1024 * 1024]);
        let last = Bytes::from_static(b"end");
        let id = bucket
            .create_multipart_upload(key, "application/octet-stream", None)
            .await
            .unwrap();
        let mut receipts = upload_parts(&bucket, key, &id, &[(1, &good)]).await;
        let refused = bucket
            .upload_part(key, &id, 1, bad, &Crc32c::of(&good))
            .await
            .expect_err("a part that fails its CRC32C");
        assert!(format!("{refused:?}").contains("BadDigest"), "{refused:?}");
        receipts.extend(upload_parts(&bucket, key, &id, &[(2, &last)]).await);
        let whole = [good.as_ref(), last.as_ref()].concat();
        bucket
            .complete_multipart_upload(key, &id, &receipts, &Crc32c::of(&whole), whole.len() as u64)
            .await
            .unwrap();
        let stored = bucket.get_object_bytes(key, 8 * 1024 * 1024).await.unwrap();
        assert!(stored == whole, "the first part 1, not the refused one");
        drop(store);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn object_urls_follow_the_addressing_style() {
        let key = "reports/Q1 2024/ü.pdf";
        assert_eq!(
            bucket(Some("http://127.0.0.1:9000/"), true).object_url(key),
            "http://127.0.0.1:9000/acme/reports/Q1%202024/%C3%BC.pdf"
        );
        assert_eq!(
            bucket(None, false).object_url("a+b"),
            "https://acme.s3.eu-west-1.amazonaws.com/a%2Bb"
        );
        assert_eq!(
            bucket(None, true).object_url("a"),
            "https://s3.eu-west-1.amazonaws.com/acme/a"
        );
        assert_eq!(
            bucket(Some("https://minio.example.com"), false).object_url("a"),
            "https://acme.minio.example.com/a"
        );
    }
}
