//! Base64 image uploads (`POST /images`): the declared type must be on a whitelist and match
//! the bytes, the size is bounded before decoding, the key gets a safe name and a UUID, and
//! the image is stored whole with one PutObject whose CRC32C S3 verifies. What `[images]`
//! allows is checked and resolved once, at start-up, into [`ImageRules`].

mod decode;
mod error;
mod kind;
mod name;
mod rules;

pub use decode::{Decoded, body_limit, decode};
pub use error::ImageError;
pub use kind::{ImageKind, normalize_media_type};
pub use name::{MAX_NAME_LEN, object_key, sanitize};
pub use rules::{ImageRules, check};

use bytes::Bytes;

use crate::storage::checksum::Crc32c;
use crate::storage::upload::{Stored, Uploads};
use crate::storage::{Buckets, keys};

/// An image as a client sent it.
#[derive(Debug)]
pub struct NewImage {
    /// Base64 or a base64 data URL.
    pub base64: String,
    /// The declared media type.
    pub content_type: String,
    pub file_name: Option<String>,
}

/// An image that passed every check, with the key it will be stored under.
#[derive(Debug)]
pub struct CheckedImage {
    pub key: String,
    pub kind: ImageKind,
    pub bytes: Bytes,
    pub checksum: String,
}

/// Every check, cheapest first: the whitelist, the size (from the encoded length, before
/// decoding), the base64 itself, a data URL's own type, then the magic bytes. Then the key.
pub fn verify(rules: &ImageRules, image: &NewImage) -> Result<CheckedImage, ImageError> {
    let kind = rules.accepted_kind(&image.content_type)?;
    let Decoded {
        bytes,
        data_url_type,
    } = decode(&image.base64, rules.max_size)?;
    if let Some(data_url_type) = data_url_type
        && data_url_type != kind.media_type()
    {
        return Err(ImageError::DataUrlMismatch {
            data_url: data_url_type,
            declared: kind.media_type().to_owned(),
        });
    }
    if !kind.matches(&bytes) {
        return Err(ImageError::ContentTypeMismatch {
            declared: kind.media_type(),
            detected: kind::describe(&bytes),
        });
    }
    let key = object_key(&rules.prefix, image.file_name.as_deref(), kind);
    keys::validate_key(&key)
        .map_err(|error| ImageError::Internal(format!("generated key `{key}`: {error}")))?;
    let checksum = Crc32c::of(&bytes);
    Ok(CheckedImage {
        key,
        kind,
        bytes: Bytes::from(bytes),
        checksum,
    })
}

/// Checks one image and stores it; the outcome is counted with every other upload's.
pub async fn store<'a>(
    rules: &ImageRules,
    buckets: &'a Buckets,
    uploads: &Uploads,
    image: NewImage,
) -> Result<Stored<'a>, ImageError> {
    uploads
        .counted(async {
            // The alias was checked at start-up, when the rules were made.
            let bucket = buckets.resolve(Some(&rules.bucket))?;
            // Decoding, sniffing and checksumming up to `max_size` bytes is CPU work of
            // milliseconds: kept off the async workers so other requests do not wait behind it.
            let checked = {
                let rules = rules.clone();
                tokio::task::spawn_blocking(move || verify(&rules, &image))
                    .await
                    .map_err(ImageError::Check)??
            };
            let content_type = checked.kind.media_type();
            let object = bucket
                .put_whole(checked.key, checked.bytes, content_type, checked.checksum)
                .await?;
            tracing::info!(
                bucket = bucket.alias,
                key = object.key,
                size = object.size,
                content_type,
                "image stored"
            );
            Ok(Stored { bucket, object })
        })
        .await
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;
    use crate::config::{FilesRoute, ImagesRoute};

    const PNG: &[u8] = include_bytes!("../../tests/fixtures/images/pixel.png");
    const GIF: &[u8] = include_bytes!("../../tests/fixtures/images/pixel.gif");

    fn rules(images: ImagesRoute) -> ImageRules {
        let files = FilesRoute {
            default_bucket: Some("uploads".into()),
        };
        ImageRules::from_settings(&images, &files, &BTreeMap::new()).unwrap()
    }

    fn image(bytes: &[u8], content_type: &str) -> NewImage {
        NewImage {
            base64: STANDARD.encode(bytes),
            content_type: content_type.into(),
            file_name: Some("Holiday Photo.png".into()),
        }
    }

    #[test]
    fn a_real_image_passes_with_its_key_and_checksum() {
        let policy = rules(ImagesRoute {
            prefix: Some("/avatars//2024".into()),
            ..ImagesRoute::default()
        });
        let checked = verify(&policy, &image(PNG, "image/png")).unwrap();
        assert_eq!(checked.bytes, PNG);
        assert_eq!(checked.kind, ImageKind::Png);
        assert_eq!(checked.checksum, Crc32c::of(PNG));
        assert!(
            checked.key.starts_with("avatars/2024/Holiday_Photo_") && checked.key.ends_with(".png"),
            "{}",
            checked.key
        );
    }

    #[test]
    fn the_whitelist_comes_first_and_ignores_case_and_parameters() {
        let policy = rules(ImagesRoute::default());
        assert!(verify(&policy, &image(PNG, "IMAGE/PNG; charset=binary")).is_ok());
        for refused in ["image/webp", "image/svg+xml", "text/html", "image/jpg", ""] {
            // Even invalid base64 is refused for its type first.
            let mut bad = image(PNG, refused);
            bad.base64 = "!!!".into();
            assert!(
                matches!(
                    verify(&policy, &bad),
                    Err(ImageError::UnsupportedContentType { .. })
                ),
                "{refused}"
            );
        }
        // A known format becomes acceptable only when the operator allows it.
        let webp = rules(ImagesRoute {
            allowed: vec!["image/webp".into()],
            ..ImagesRoute::default()
        });
        assert!(webp.accepted_kind("image/webp").is_ok());
        assert!(webp.accepted_kind("image/png").is_err());
    }

    #[test]
    fn the_bytes_must_be_what_the_type_says() {
        let policy = rules(ImagesRoute::default());
        match verify(&policy, &image(PNG, "image/jpeg")) {
            Err(ImageError::ContentTypeMismatch { declared, detected }) => {
                assert_eq!(declared, "image/jpeg");
                assert_eq!(detected, Some("image/png"));
            }
            other => panic!("a PNG declared as JPEG: {other:?}"),
        }
        assert!(matches!(
            verify(&policy, &image(b"%PDF-1.4\n%...", "image/png")),
            Err(ImageError::ContentTypeMismatch { .. })
        ));
        // A data URL that says GIF for a PNG declared PNG: two declarations disagree.
        let mut mixed = image(PNG, "image/png");
        mixed.base64 = format!("data:image/gif;base64,{}", STANDARD.encode(PNG));
        assert!(matches!(
            verify(&policy, &mixed),
            Err(ImageError::DataUrlMismatch { .. })
        ));
        let mut agreeing = image(GIF, "image/gif");
        agreeing.base64 = format!("data:image/gif;base64,{}", STANDARD.encode(GIF));
        assert!(verify(&policy, &agreeing).is_ok());
    }

    #[test]
    fn max_size_is_inclusive() {
        let exact = rules(ImagesRoute {
            max_size: PNG.len() as u64,
            ..ImagesRoute::default()
        });
        assert!(verify(&exact, &image(PNG, "image/png")).is_ok());
        let smaller = rules(ImagesRoute {
            max_size: PNG.len() as u64 - 1,
            ..ImagesRoute::default()
        });
        assert!(matches!(
            verify(&smaller, &image(PNG, "image/png")),
            Err(ImageError::TooLarge { .. })
        ));
    }
}
