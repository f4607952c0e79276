//! The S3 client of one bucket alias. aws-sdk-s3 types stay in this file; everything above
//! sees Hoist's own types and [`StorageError`].

use std::time::Duration;

use aws_config::SdkConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::Region;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use super::StorageError;

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

/// Transport trouble is `Unavailable`; an answer from S3 is `Backend` with its code.
pub(super) fn map_sdk_error<E, R>(error: SdkError<E, R>) -> StorageError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match &error {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            StorageError::Backend {
                code: inner.code().unwrap_or("Unknown").to_owned(),
                message: inner.message().unwrap_or_default().to_owned(),
            }
        }
        _ => StorageError::Unavailable(DisplayErrorContext(&error).to_string()),
    }
}
