//! The checks of `[aws]`, and the validators of regions and endpoints that the bucket aliases,
//! the trigger kinds and the telemetry section share.

use crate::config::{AwsSettings, ConfigProblem};

/// Every problem of `[aws]`.
pub fn check(aws: &AwsSettings) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    if !is_valid_region(&aws.region) {
        problems.push(ConfigProblem::new(
            "aws.region",
            format!("`{}` is not an AWS region", aws.region),
        ));
    }
    if let Some(endpoint) = &aws.endpoint
        && let Err(message) = check_endpoint(endpoint)
    {
        problems.push(ConfigProblem::new("aws.endpoint", message));
    }
    if aws.access_key_id.is_some() != aws.secret_access_key.is_some() {
        problems.push(ConfigProblem::new(
            "aws.access_key_id",
            "access_key_id and secret_access_key must be set together",
        ));
    }
    if aws.max_attempts == 0 {
        problems.push(ConfigProblem::new("aws.max_attempts", "must be at least 1"));
    }
    problems
}

/// `us-east-1`, `us-gov-west-1`, `ap-southeast-4`, `cn-north-1`: letters, then a number.
pub fn is_valid_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// An endpoint Hoist can call: an http(s) URL with a host.
pub fn check_endpoint(endpoint: &str) -> Result<(), String> {
    match url::Url::parse(endpoint) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
        Ok(_) => Err(format!("`{endpoint}` is not an http(s) URL")),
        Err(error) => Err(format!("`{endpoint}` is not a URL: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    #[test]
    fn regions() {
        for ok in [
            "us-east-1",
            "us-gov-west-1",
            "ap-southeast-4",
            "cn-north-1",
            "eu-central-2",
        ] {
            assert!(is_valid_region(ok), "{ok}");
        }
        for bad in [
            "mars",
            "us-east",
            "US-EAST-1",
            "us-east-1x",
            "us--1",
            "",
            "us-east-",
        ] {
            assert!(!is_valid_region(bad), "{bad}");
        }
    }

    #[test]
    fn endpoints() {
        assert!(check_endpoint("http://127.0.0.1:5000").is_ok());
        assert!(check_endpoint("https://s3.example.com/base").is_ok());
        for bad in ["ftp://x.example", "127.0.0.1:5000", "not a url", "http://"] {
            assert!(check_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn aws_settings() {
        assert!(check(&AwsSettings::default()).is_empty());
        let broken = AwsSettings {
            region: "mars".into(),
            endpoint: Some("localhost".into()),
            secret_access_key: Some(SecretString::from("s")),
            max_attempts: 0,
            ..AwsSettings::default()
        };
        let keys: Vec<String> = check(&broken).into_iter().map(|p| p.key).collect();
        assert_eq!(
            keys,
            [
                "aws.region",
                "aws.endpoint",
                "aws.access_key_id",
                "aws.max_attempts"
            ]
        );
    }
}
