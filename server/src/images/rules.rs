//! `[images]` checked and resolved once, at start-up, into [`ImageRules`]: the formats it
//! accepts, the size bound, the normalized key prefix and the alias images go to. Requests
//! read the rules and never look at the section again.

use std::collections::BTreeMap;

use super::error::ImageError;
use super::kind::{ImageKind, normalize_media_type};
use crate::config::{BucketRoute, ConfigProblem, FilesRoute, ImagesRoute};
use crate::storage::{alias_problem, keys};

/// Longest `[images] prefix`: with a sanitized name, a UUID and an extension a key stays far
/// below S3's 1024 bytes.
const MAX_IMAGES_PREFIX: usize = 512;

/// Largest `[images] max_size`: a base64 image is read, decoded and stored from memory, so
/// each request briefly holds a few times this much (body, JSON string, decoded bytes).
const MAX_IMAGES_SIZE: u64 = 100 * 1024 * 1024;

/// What `POST /images` accepts and where it stores, from a valid `[images]` section.
#[derive(Debug, Clone)]
pub struct ImageRules {
    /// The formats of `[images] allowed`.
    kinds: Vec<ImageKind>,
    /// `[images] allowed` as the operator wrote it, for telling refused clients what is
    /// accepted.
    allowed: Vec<String>,
    /// Largest decoded image, in bytes.
    pub max_size: u64,
    /// Key prefix of stored images, normalized.
    pub prefix: String,
    /// The alias images are stored in: `[images] bucket`, else `[files] default_bucket`.
    pub bucket: String,
}

impl ImageRules {
    /// The rules of `[images]`, or every problem of the section: each allowed type is a
    /// format Hoist recognizes, the size is bounded, keys can be built under the prefix, and
    /// the images have a configured alias to go to.
    pub fn from_settings(
        images: &ImagesRoute,
        files: &FilesRoute,
        buckets: &BTreeMap<String, BucketRoute>,
    ) -> Result<Self, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        if let Some(alias) = &images.bucket {
            problems.extend(alias_problem(buckets, "images.bucket", alias));
        }
        let bucket = images.bucket.as_ref().or(files.default_bucket.as_ref());
        // With no alias at all (a binary started with no routes) every upload is refused
        // anyway; the images route is not singled out.
        if bucket.is_none() && !buckets.is_empty() {
            problems.push(ConfigProblem::new(
                "images.bucket",
                "images need a bucket: set [images] bucket or [files] default_bucket",
            ));
        }
        if images.allowed.is_empty() {
            problems.push(ConfigProblem::new(
                "images.allowed",
                "lists no content type, so every image would be refused",
            ));
        }
        let mut kinds = Vec::new();
        for entry in &images.allowed {
            match ImageKind::from_media_type(&normalize_media_type(entry)) {
                Some(kind) => kinds.push(kind),
                None => {
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
        let prefix = match keys::normalize_prefix(images.prefix.as_deref().unwrap_or_default()) {
            Ok(prefix) if prefix.len() > MAX_IMAGES_PREFIX => {
                problems.push(ConfigProblem::new(
                    "images.prefix",
                    format!("is at most {MAX_IMAGES_PREFIX} bytes"),
                ));
                None
            }
            Ok(prefix) => Some(prefix),
            Err(error) => {
                problems.push(ConfigProblem::new("images.prefix", error.to_string()));
                None
            }
        };
        // With no alias at all the images route names none, and resolving it refuses every
        // request as it refuses every file upload (no default bucket).
        let bucket = bucket
            .cloned()
            .or_else(|| buckets.is_empty().then(String::new));
        match (bucket, prefix) {
            (Some(bucket), Some(prefix)) if problems.is_empty() => Ok(Self {
                kinds,
                allowed: images.allowed.clone(),
                max_size: images.max_size,
                prefix,
                bucket,
            }),
            _ => Err(problems),
        }
    }

    /// The format of a declared media type, if `[images] allowed` accepts it. Matching
    /// ignores case and parameters (`Image/PNG; charset=x` is `image/png`).
    pub fn accepted_kind(&self, declared: &str) -> Result<ImageKind, ImageError> {
        match ImageKind::from_media_type(&normalize_media_type(declared)) {
            Some(kind) if self.kinds.contains(&kind) => Ok(kind),
            _ => Err(ImageError::UnsupportedContentType {
                declared: declared.to_owned(),
                allowed: self.allowed.clone(),
            }),
        }
    }
}

/// Every problem of `[images]` (see [`ImageRules::from_settings`]).
pub fn check(
    images: &ImagesRoute,
    files: &FilesRoute,
    buckets: &BTreeMap<String, BucketRoute>,
) -> Vec<ConfigProblem> {
    ImageRules::from_settings(images, files, buckets)
        .err()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(images: &ImagesRoute) -> Vec<String> {
        let files = FilesRoute {
            default_bucket: Some("uploads".into()),
        };
        let buckets = BTreeMap::from([("uploads".to_owned(), BucketRoute::default())]);
        check(images, &files, &buckets)
            .into_iter()
            .map(|p| p.key)
            .collect()
    }

    #[test]
    fn images_settings() {
        assert!(problems(&ImagesRoute::default()).is_empty());
        let broken = ImagesRoute {
            bucket: None,
            allowed: vec!["image/svg+xml".into(), "Image/PNG".into()],
            max_size: 0,
            prefix: Some("avatars/../secrets".into()),
        };
        assert_eq!(
            problems(&broken),
            ["images.allowed", "images.max_size", "images.prefix"]
        );
        let long = ImagesRoute {
            prefix: Some("p/".repeat(300)),
            ..ImagesRoute::default()
        };
        assert_eq!(problems(&long).len(), 1);
        let empty = ImagesRoute {
            allowed: vec![],
            ..ImagesRoute::default()
        };
        assert_eq!(problems(&empty).len(), 1);
        let huge = ImagesRoute {
            max_size: MAX_IMAGES_SIZE + 1,
            ..ImagesRoute::default()
        };
        assert_eq!(problems(&huge), ["images.max_size"]);
    }

    #[test]
    fn images_need_a_configured_alias() {
        let elsewhere = ImagesRoute {
            bucket: Some("nowhere".into()),
            ..ImagesRoute::default()
        };
        assert_eq!(problems(&elsewhere), ["images.bucket"]);
        let one_alias = BTreeMap::from([("uploads".to_owned(), BucketRoute::default())]);
        let no_default = check(&ImagesRoute::default(), &FilesRoute::default(), &one_alias);
        assert_eq!(no_default[0].key, "images.bucket");
        assert!(no_default[0].message.contains("need a bucket"));
        // With no alias at all every upload is refused; images are not singled out.
        let none = check(
            &ImagesRoute::default(),
            &FilesRoute::default(),
            &BTreeMap::new(),
        );
        assert!(none.is_empty(), "{none:?}");
    }

    #[test]
    fn the_rules_hold_the_resolved_section() {
        let images = ImagesRoute {
            prefix: Some("/avatars//2024".into()),
            ..ImagesRoute::default()
        };
        let files = FilesRoute {
            default_bucket: Some("uploads".into()),
        };
        let rules = ImageRules::from_settings(&images, &files, &BTreeMap::new()).unwrap();
        assert_eq!(rules.prefix, "avatars/2024/");
        assert_eq!(rules.bucket, "uploads");
        assert_eq!(rules.max_size, images.max_size);
    }
}
