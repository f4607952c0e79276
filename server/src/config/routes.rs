//! The declarative part of the configuration (`routes.toml`): bucket aliases and routes.

use serde::Deserialize;

/// `[buckets.<alias>]`: one bucket clients may name by its alias.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BucketRoute {
    /// The real bucket name; defaults to the alias.
    pub name: Option<String>,
    /// Region of the bucket; defaults to `[aws] region`.
    pub region: Option<String>,
    /// S3 endpoint for this alias only; defaults to `[aws] endpoint`.
    pub endpoint: Option<String>,
    pub force_path_style: Option<bool>,
    /// Role assumed through STS for this alias's calls.
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    /// STS session name; defaults to `hoist`.
    pub session_name: Option<String>,
}

/// `[files]`: the file upload routes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FilesRoute {
    /// Alias used when a request names no bucket.
    pub default_bucket: Option<String>,
}

/// `[images]`: the base64 image route (`POST /images`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ImagesRoute {
    /// Alias images are stored in; `[files] default_bucket` when unset.
    pub bucket: Option<String>,
    /// Content types accepted; each must be a format `crate::images::ImageKind` recognizes.
    pub allowed: Vec<String>,
    /// Largest decoded image, in bytes. The route's request body limit is derived from it.
    pub max_size: u64,
    /// Key prefix for stored images, normalized like a client prefix.
    pub prefix: Option<String>,
}

impl Default for ImagesRoute {
    fn default() -> Self {
        Self {
            bucket: None,
            allowed: vec!["image/gif".into(), "image/png".into(), "image/jpeg".into()],
            max_size: 10 * 1024 * 1024,
            prefix: None,
        }
    }
}
