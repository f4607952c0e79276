//! One PutObject or UploadPart whose body streams while it is sent: bytes of known length go
//! to S3 as they arrive, with no buffer, and S3 checks the CRC32C that travels after them.

use aws_runtime::auth::PayloadSigningOverride;
use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::BoxError;
use aws_sdk_s3::primitives::ByteStream;

use super::aws_chunked::{self, ChunkedBody};
use super::{S3Bucket, map_sdk_error, part_etag};
use crate::storage::StorageError;

impl S3Bucket {
    /// Stores the `length` bytes `body` carries as one object. The object appears only if the
    /// body ends with all of them and their CRC32C (see [`aws_chunked`]); a body given up
    /// before that fails the request, and S3 keeps nothing of it.
    ///
    /// The call lasts as long as its body: no attempt timeout applies (what bounds it is the
    /// pace the caller feeds the body at), and it is never retried (the bytes are gone).
    pub async fn put_object_streamed(
        &self,
        key: &str,
        content_type: &str,
        disposition: Option<&str>,
        length: u64,
        body: ChunkedBody,
    ) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(self.bucket())
            .key(key)
            .content_type(content_type)
            .set_content_disposition(disposition.map(str::to_owned))
            .content_length(wire_length(length))
            .body(ByteStream::from_body_1_x(body))
            .customize()
            .config_override(streaming_overrides())
            .interceptor(self.unsigned_trailer(length))
            .send()
            .await
            .map(drop)
            .map_err(map_sdk_error)
    }

    /// Sends part `number` of a multipart upload as its bytes arrive, like
    /// [`Self::put_object_streamed`]; S3 keeps the part only if it is whole and its CRC32C
    /// matches. Returns the part's ETag.
    pub async fn upload_part_streamed(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        length: u64,
        body: ChunkedBody,
    ) -> Result<String, StorageError> {
        let output = self
            .client
            .upload_part()
            .bucket(self.bucket())
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .content_length(wire_length(length))
            .body(ByteStream::from_body_1_x(body))
            .customize()
            .config_override(streaming_overrides())
            .interceptor(self.unsigned_trailer(length))
            .send()
            .await
            .map_err(map_sdk_error)?;
        part_etag(output.e_tag(), number)
    }

    fn unsigned_trailer(&self, length: u64) -> UnsignedTrailer {
        UnsignedTrailer {
            length,
            encoding_header: !self.connection.embedded,
        }
    }
}

/// `Content-Length` of a streamed body of `length` bytes.
fn wire_length(length: u64) -> i64 {
    i64::try_from(aws_chunked::encoded_length(length)).unwrap_or(i64::MAX)
}

/// No attempt timeout (the body's pace bounds the call), and no checksum of the SDK's own:
/// ours is the trailer, and the SDK's would wrap the body in a second encoding.
fn streaming_overrides() -> aws_sdk_s3::config::Builder {
    aws_sdk_s3::config::Builder::default()
        .timeout_config(
            TimeoutConfig::builder()
                .disable_operation_timeout()
                .disable_operation_attempt_timeout()
                .build(),
        )
        .request_checksum_calculation(aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired)
}

/// Marks the request as an unsigned aws-chunked body with a trailer: the headers S3 reads to
/// decode it, and the `x-amz-content-sha256` value the signature covers.
#[derive(Debug)]
struct UnsignedTrailer {
    length: u64,
    /// `Content-Encoding: aws-chunked`, as AWS documents it; left out for the embedded store,
    /// which tells the encoding from `x-amz-content-sha256` and would keep the header.
    encoding_header: bool,
}

impl Intercept for UnsignedTrailer {
    fn name(&self) -> &'static str {
        "UnsignedTrailer"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let headers = context.request_mut().headers_mut();
        if self.encoding_header {
            headers.insert("content-encoding", "aws-chunked");
        }
        headers.insert("x-amz-decoded-content-length", self.length.to_string());
        headers.insert("x-amz-trailer", aws_chunked::TRAILER);
        cfg.interceptor_state()
            .store_put(PayloadSigningOverride::StreamingUnsignedPayloadTrailer);
        Ok(())
    }
}
