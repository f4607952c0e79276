//! The S3 client of one bucket alias. aws-sdk-s3 types stay in this file; everything above
//! sees Hoist's own types and [`StorageError`].

use std::time::Duration;

use aws_config::SdkConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::Region;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;

use super::StorageError;
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
}

/// A bucket and the client that reaches it.
#[derive(Debug, Clone)]
pub struct S3Bucket {
    client: Client,
    connection: Connection,
}

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
        Self {
            client: Client::from_conf(config.build()),
            connection,
        }
    }

    pub fn bucket(&self) -> &str {
        &self.connection.bucket
    }

    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// Whether the bucket answers, within a few seconds.
    pub async fn check_reachable(&self) -> Result<(), StorageError> {
        let probe = self.client.head_bucket().bucket(self.bucket()).send();
        match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
            Ok(result) => result.map(drop).map_err(map_sdk_error),
            Err(_) => Err(StorageError::Unavailable(format!(
                "no answer within {PROBE_TIMEOUT:?}"
            ))),
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
    pub async fn put_object(
        &self,
        key: &str,
        body: Bytes,
        content_type: &str,
        crc32c: &str,
    ) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(self.bucket())
            .key(key)
            .content_type(content_type)
            .checksum_crc32_c(crc32c)
            .body(ByteStream::from(body))
            .send()
            .await
            .map(drop)
            .map_err(map_sdk_error)
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

/// Transport trouble is `Unavailable`; an answer from S3 is `Backend` with its code.
pub(super) fn map_sdk_error<E, R>(error: SdkError<E, R>) -> StorageError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match aws::call_failure(error) {
        CallFailure::Service { code, message } => StorageError::Backend { code, message },
        CallFailure::Timeout(cause) | CallFailure::Unreachable(cause) => {
            StorageError::Unavailable(cause)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            },
        )
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
