//! A raw-body upload (`PUT /files/object`): everything is known before the first byte, so the
//! body streams to S3 at once.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::{ByteStream, Expected, Paced, Stored, UploadError, UploadSpec, Uploads};
use crate::storage::{Buckets, keys};

/// What a raw upload names and claims, from its query string and headers.
#[derive(Debug)]
pub struct RawUpload {
    pub bucket_name: Option<String>,
    pub key: String,
    pub content_type: Option<String>,
    /// `x-amz-checksum-crc32c`, as sent.
    pub crc32c: Option<String>,
    /// `x-amz-checksum-sha256`, as sent.
    pub sha256: Option<String>,
    /// The declared body length.
    pub content_length: Option<u64>,
}

/// Checks what the upload names and claims, streams `body` into the bucket and stores it.
pub async fn receive<'a, S>(
    buckets: &'a Buckets,
    uploads: &Uploads,
    upload: RawUpload,
    body: S,
) -> Result<Stored<'a>, UploadError>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
{
    let _running = uploads.begin();
    uploads
        .counted(async {
            let expected =
                Expected::from_headers(upload.crc32c.as_deref(), upload.sha256.as_deref())?;
            let bucket = buckets.resolve(upload.bucket_name.as_deref())?;
            keys::validate_key(&upload.key)?;
            uploads.check_declared_size(upload.content_length)?;
            let body: ByteStream =
                Box::pin(body.map(|chunk| chunk.map_err(|error| UploadError::Body(error.into()))));
            let source: ByteStream = Box::pin(Paced::new(body, uploads.limits().pace));
            let spec = UploadSpec {
                key: upload.key,
                content_type: upload.content_type,
                expected,
                size_hint: upload.content_length,
                length: upload.content_length,
            };
            let staged = bucket.upload(uploads, spec, source).await?;
            let object = staged.commit().await?;
            Ok(Stored { bucket, object })
        })
        .await
}
