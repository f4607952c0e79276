//! The one place that builds AWS SDK configuration: region, endpoint (emulators), static or
//! assumed-role credentials, timeouts and retries. Service clients start from what it makes.
//! Also the ARN parser that configuration checks and the trigger plugins share, and (in
//! `check`) the checks of `[aws]` with the region and endpoint validators.

mod check;

pub use check::{check, check_endpoint, is_valid_region};

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
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

/// Timeouts for the client of one trigger: the connection limit of `[aws]`, and the trigger's
/// own budget for the whole call. A single attempt may use the whole budget, so a call that
/// timed out is not sent again (a retried Lambda invocation would run the function twice).
pub fn call_timeouts(settings: &AwsSettings, budget: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(settings.connect_timeout.min(budget))
        .operation_timeout(budget)
        .operation_attempt_timeout(budget)
        .build()
}

/// How an AWS call failed, in Hoist's terms rather than the SDK's. The SDK's error stays the
/// source of a timeout or transport failure, for the log.
#[derive(Debug, thiserror::Error)]
pub enum CallFailure {
    /// No answer within the client's timeouts.
    #[error("no answer in time")]
    Timeout(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// No usable answer: connection refused, DNS, TLS, a response that does not parse.
    #[error("unreachable")]
    Unreachable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The service answered with an error code (`ResourceNotFoundException`, ...).
    #[error("{code}: {message}")]
    Service { code: String, message: String },
}

/// Classifies an SDK error of any AWS service.
pub fn call_failure<E, R>(error: SdkError<E, R>) -> CallFailure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match &error {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            CallFailure::Service {
                code: inner.code().unwrap_or("Unknown").to_owned(),
                message: inner.message().unwrap_or_default().to_owned(),
            }
        }
        SdkError::TimeoutError(_) => CallFailure::Timeout(Box::new(error)),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => {
            CallFailure::Timeout(Box::new(error))
        }
        _ => CallFailure::Unreachable(Box::new(error)),
    }
}

/// The parts of an ARN: `arn:<partition>:<service>:<region>:<account>:<resource>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    /// Empty for global services (IAM).
    pub region: &'a str,
    /// Twelve digits, or empty for resources without an account (S3 buckets).
    pub account: &'a str,
    /// Everything after the account, colons included (`function:name:alias`).
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits `text` into its parts; `None` unless it has the six parts, an `aws…` partition,
    /// a service, an empty or twelve-digit account and a resource.
    pub fn parse(text: &'a str) -> Option<Self> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let arn = Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        };
        let account_ok = arn.account.is_empty()
            || (arn.account.len() == 12 && arn.account.bytes().all(|b| b.is_ascii_digit()));
        (arn.partition.starts_with("aws")
            && !arn.service.is_empty()
            && account_ok
            && !arn.resource.is_empty())
        .then_some(arn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_split_into_their_parts() {
        let arn = Arn::parse("arn:aws:lambda:eu-west-1:123456789012:function:fn:live").unwrap();
        assert_eq!(arn.service, "lambda");
        assert_eq!(arn.region, "eu-west-1");
        assert_eq!(arn.account, "123456789012");
        assert_eq!(arn.resource, "function:fn:live");
        let role = Arn::parse("arn:aws-us-gov:iam::123456789012:role/x").unwrap();
        assert_eq!((role.partition, role.region), ("aws-us-gov", ""));
        for bad in [
            "",
            "arn:aws:lambda:eu-west-1:123456789012",
            "arn:aws:lambda:eu-west-1:123:function:fn",
            "arn:gcp:lambda:eu-west-1:123456789012:function:fn",
            "nra:aws:lambda:eu-west-1:123456789012:function:fn",
            "arn:aws::eu-west-1:123456789012:function:fn",
        ] {
            assert_eq!(Arn::parse(bad), None, "{bad}");
        }
    }
}
