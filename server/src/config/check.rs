//! Semantic checks of loaded settings: everything serde cannot say, listed all at once.

use std::fmt;

use super::{AuthAlgorithm, ImagesRoute, Settings};
use crate::aws::Arn;
use crate::images::{ImageKind, normalize_media_type};
use crate::storage::keys;

/// One thing wrong with the configuration, named by its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub key: String,
    pub message: String,
}

impl ConfigProblem {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }

    pub(super) fn from_figment(error: figment::Error) -> Self {
        let key = if error.path.is_empty() {
            error
                .metadata
                .as_ref()
                .map(|m| m.name.to_string())
                .unwrap_or_else(|| "(configuration)".into())
        } else {
            error.path.join(".")
        };
        let mut message = error.kind.to_string();
        if let Some(source) = error.metadata.as_ref().and_then(|m| m.source.as_ref()) {
            message = format!("{message} (from {source})");
        }
        Self { key, message }
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// S3 requires parts of at least 5 MiB (except the last).
const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
const MAX_PARTS: u64 = 10_000;

/// Every semantic problem of `settings` for environment `env`.
pub fn check(settings: &Settings, env: &str) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    let mut problem = |key: String, message: String| problems.push(ConfigProblem { key, message });
    let production = env == "production";

    let auth = &settings.auth;
    match auth.algorithm {
        AuthAlgorithm::HS256 => {
            if auth.secret.is_none() {
                problem(
                    "auth.secret".into(),
                    "HS256 needs a secret (set HOIST_AUTH__SECRET)".into(),
                );
            }
        }
        AuthAlgorithm::RS256 | AuthAlgorithm::ES256 => {
            if auth.public_key.is_none() && auth.public_key_file.is_none() {
                problem(
                    "auth.public_key".into(),
                    format!("{:?} needs public_key or public_key_file", auth.algorithm),
                );
            }
            if auth.dev_tokens {
                problem(
                    "auth.dev_tokens".into(),
                    "dev tokens can only be minted with HS256".into(),
                );
            }
        }
    }
    if production && auth.dev_tokens {
        problem("auth.dev_tokens".into(), "must be off in production".into());
    }

    if !is_valid_region(&settings.aws.region) {
        problem(
            "aws.region".into(),
            format!("`{}` is not an AWS region", settings.aws.region),
        );
    }
    if let Some(endpoint) = &settings.aws.endpoint
        && let Err(message) = check_endpoint(endpoint)
    {
        problem("aws.endpoint".into(), message);
    }
    if let Some(endpoint) = &settings.telemetry.otlp_endpoint
        && let Err(message) = check_endpoint(endpoint)
    {
        problem("telemetry.otlp_endpoint".into(), message);
    }
    if settings.aws.access_key_id.is_some() != settings.aws.secret_access_key.is_some() {
        problem(
            "aws.access_key_id".into(),
            "access_key_id and secret_access_key must be set together".into(),
        );
    }
    if settings.aws.max_attempts == 0 {
        problem("aws.max_attempts".into(), "must be at least 1".into());
    }

    if settings.buckets.is_empty() {
        problem(
            "buckets".into(),
            "no bucket alias is configured in routes.toml".into(),
        );
    }
    for (alias, route) in &settings.buckets {
        let key = |field: &str| format!("buckets.{alias}.{field}");
        if !is_valid_alias(alias) {
            problem(
                format!("buckets.{alias}"),
                "an alias uses only letters, digits, `-` and `_`".into(),
            );
        }
        let name = route.name.as_deref().unwrap_or(alias);
        if !is_valid_bucket_name(name) {
            problem(
                key("name"),
                format!("`{name}` is not a valid S3 bucket name"),
            );
        }
        if let Some(region) = &route.region
            && !is_valid_region(region)
        {
            problem(key("region"), format!("`{region}` is not an AWS region"));
        }
        if let Some(endpoint) = &route.endpoint
            && let Err(message) = check_endpoint(endpoint)
        {
            problem(key("endpoint"), message);
        }
        if let Some(arn) = &route.role_arn {
            if !is_valid_role_arn(arn) {
                problem(
                    key("role_arn"),
                    format!("`{arn}` is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"),
                );
            }
        } else if route.external_id.is_some() || route.session_name.is_some() {
            problem(
                key("role_arn"),
                "external_id and session_name need a role_arn".into(),
            );
        }
    }
    let mut alias_ref = |key: &str, alias: &Option<String>| {
        if let Some(alias) = alias
            && !settings.buckets.contains_key(alias)
        {
            problem(
                key.into(),
                format!("names bucket alias `{alias}`, which is not configured"),
            );
        }
    };
    alias_ref("files.default_bucket", &settings.files.default_bucket);
    alias_ref("images.bucket", &settings.images.bucket);
    if settings.images.bucket.is_none() && settings.files.default_bucket.is_none() {
        problems.push(ConfigProblem::new(
            "images.bucket",
            "images need a bucket: set [images] bucket or [files] default_bucket",
        ));
    }
    problems.extend(check_images(&settings.images));

    let upload = &settings.upload;
    if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&upload.part_size) {
        problems.push(ConfigProblem::new(
            "upload.part_size",
            format!("must be between {MIN_PART_SIZE} (5 MiB) and {MAX_PART_SIZE} (5 GiB) bytes"),
        ));
    } else if upload.max_file_size.div_ceil(upload.part_size) >= MAX_PARTS {
        problems.push(ConfigProblem::new(
            "upload.max_file_size",
            format!(
                "needs {} parts of part_size; S3 allows fewer than {MAX_PARTS}",
                upload.max_file_size.div_ceil(upload.part_size)
            ),
        ));
    }
    if upload.max_buffer_bytes < upload.part_size {
        problems.push(ConfigProblem::new(
            "upload.max_buffer_bytes",
            "must hold at least one part (part_size)",
        ));
    }
    if upload.parts_in_flight == 0 {
        problems.push(ConfigProblem::new(
            "upload.parts_in_flight",
            "must be at least 1",
        ));
    }
    if upload.read_timeout.is_zero() {
        problems.push(ConfigProblem::new(
            "upload.read_timeout",
            "must be longer than zero",
        ));
    }
    let list = &settings.list;
    if list.max_limit == 0 || list.default_limit == 0 || list.default_limit > list.max_limit {
        problems.push(ConfigProblem::new(
            "list.default_limit",
            "limits must satisfy 0 < default_limit <= max_limit",
        ));
    }
    if list.max_keys == 0 {
        problems.push(ConfigProblem::new("list.max_keys", "must be at least 1"));
    }
    if settings.delete.max_keys == 0 {
        problems.push(ConfigProblem::new("delete.max_keys", "must be at least 1"));
    }
    problems.extend(crate::triggers::check(&settings.triggers));
    problems
}

/// Longest `[images] prefix`: with a sanitized name, a UUID and an extension a key stays far
/// below S3's 1024 bytes.
const MAX_IMAGES_PREFIX: usize = 512;

/// Largest `[images] max_size`: a base64 image is read, decoded and stored from memory, so
/// each request briefly holds a few times this much (body, JSON string, decoded bytes).
const MAX_IMAGES_SIZE: u64 = 100 * 1024 * 1024;

/// `[images]`: every allowed type is a format Hoist recognizes, and keys can be built.
fn check_images(images: &ImagesRoute) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    if images.allowed.is_empty() {
        problems.push(ConfigProblem::new(
            "images.allowed",
            "lists no content type, so every image would be refused",
        ));
    }
    for entry in &images.allowed {
        if ImageKind::from_media_type(&normalize_media_type(entry)).is_none() {
            let known: Vec<&str> = ImageKind::ALL.iter().map(|k| k.media_type()).collect();
            problems.push(ConfigProblem::new(
                "images.allowed",
                format!(
                    "`{entry}` is not an image type Hoist can verify; known: {}",
                    known.join(", ")
                ),
            ));
        }
    }
    if !(1..=MAX_IMAGES_SIZE).contains(&images.max_size) {
        problems.push(ConfigProblem::new(
            "images.max_size",
            format!(
                "must be between 1 and {MAX_IMAGES_SIZE} bytes (images are held in memory \
                 whole; larger files belong on /files, which streams)"
            ),
        ));
    }
    if let Some(prefix) = &images.prefix {
        match keys::normalize_prefix(prefix) {
            Ok(normalized) if normalized.len() > MAX_IMAGES_PREFIX => {
                problems.push(ConfigProblem::new(
                    "images.prefix",
                    format!("is at most {MAX_IMAGES_PREFIX} bytes"),
                ));
            }
            Ok(_) => {}
            Err(error) => problems.push(ConfigProblem::new("images.prefix", error.to_string())),
        }
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

/// A bucket alias or trigger name: clients send it in query strings and paths, so it is kept
/// to letters, digits, `-` and `_`.
pub fn is_valid_alias(alias: &str) -> bool {
    !alias.is_empty()
        && alias
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// S3's rules: 3–63 characters of lowercase letters, digits, `.` and `-`, starting and
/// ending with a letter or digit.
fn is_valid_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && !name.contains("..")
}

fn is_valid_role_arn(arn: &str) -> bool {
    Arn::parse(arn).is_some_and(|arn| {
        arn.service == "iam"
            && arn.region.is_empty()
            && !arn.account.is_empty()
            && arn
                .resource
                .strip_prefix("role/")
                .is_some_and(|name| !name.is_empty())
    })
}

pub fn check_endpoint(endpoint: &str) -> Result<(), String> {
    match url::Url::parse(endpoint) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
        Ok(_) => Err(format!("`{endpoint}` is not an http(s) URL")),
        Err(error) => Err(format!("`{endpoint}` is not a URL: {error}")),
    }
}

#[cfg(test)]
mod tests {
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
    fn role_arns() {
        assert!(is_valid_role_arn(
            "arn:aws:iam::123456789012:role/tmol-upload"
        ));
        assert!(is_valid_role_arn(
            "arn:aws-us-gov:iam::123456789012:role/path/x"
        ));
        assert!(!is_valid_role_arn("arn:aws:iam::12345:role/x"));
        assert!(!is_valid_role_arn("arn:aws:s3:::bucket"));
        assert!(!is_valid_role_arn("arn:aws:iam::123456789012:user/x"));
    }

    #[test]
    fn images_settings() {
        assert!(check_images(&ImagesRoute::default()).is_empty());
        let broken = ImagesRoute {
            bucket: None,
            allowed: vec!["image/svg+xml".into(), "Image/PNG".into()],
            max_size: 0,
            prefix: Some("avatars/../secrets".into()),
        };
        let keys: Vec<String> = check_images(&broken).into_iter().map(|p| p.key).collect();
        assert_eq!(keys, ["images.allowed", "images.max_size", "images.prefix"]);
        let long = ImagesRoute {
            prefix: Some("p/".repeat(300)),
            ..ImagesRoute::default()
        };
        assert_eq!(check_images(&long).len(), 1);
        let empty = ImagesRoute {
            allowed: vec![],
            ..ImagesRoute::default()
        };
        assert_eq!(check_images(&empty).len(), 1);
        let huge = ImagesRoute {
            max_size: MAX_IMAGES_SIZE + 1,
            ..ImagesRoute::default()
        };
        assert_eq!(check_images(&huge)[0].key, "images.max_size");
    }

    #[test]
    fn bucket_names() {
        assert!(is_valid_bucket_name("acme-uploads-prod"));
        assert!(!is_valid_bucket_name("Acme"));
        assert!(!is_valid_bucket_name("ab"));
        assert!(!is_valid_bucket_name("a..b"));
        assert!(!is_valid_bucket_name("-abc"));
    }
}
