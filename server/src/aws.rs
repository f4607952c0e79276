//! The one place that builds AWS SDK configuration: region, endpoint (emulators), static or
//! assumed-role credentials, timeouts and retries. Service clients start from what it makes.

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use secrecy::{ExposeSecret, SecretString};

use crate::config::AwsSettings;

/// The shared SDK configuration every AWS client derives from.
pub async fn sdk_config(settings: &AwsSettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(settings.region.clone()))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(settings.connect_timeout)
                .operation_attempt_timeout(settings.attempt_timeout)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts));
    if let Some(endpoint) = &settings.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    if let (Some(id), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key) {
        loader = loader.credentials_provider(static_credentials(id, secret));
    }
    loader.load().await
}

/// Fixed credentials, for emulators and the embedded store.
pub fn static_credentials(id: &str, secret: &SecretString) -> SharedCredentialsProvider {
    SharedCredentialsProvider::new(Credentials::new(
        id,
        secret.expose_secret(),
        None,
        None,
        "hoist-config",
    ))
}

/// Credentials from STS AssumeRole. The SDK caches them and refreshes them before expiry;
/// STS calls go wherever `sdk` points (moto in tests).
pub async fn assumed_role(
    sdk: &SdkConfig,
    role_arn: &str,
    session_name: &str,
    external_id: Option<&str>,
) -> SharedCredentialsProvider {
    let mut builder = AssumeRoleProvider::builder(role_arn)
        .session_name(session_name)
        .configure(sdk);
    if let Some(region) = sdk.region() {
        builder = builder.region(region.clone());
    }
    if let Some(external_id) = external_id {
        builder = builder.external_id(external_id);
    }
    SharedCredentialsProvider::new(builder.build().await)
}
