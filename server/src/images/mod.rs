//! Base64 image uploads (`POST /images`): the declared type must be on a whitelist and match
//! the bytes, the size is bounded before decoding, the key gets a safe name and a UUID, and
//! the image is stored whole with one PutObject whose CRC32C S3 verifies.

mod decode;
mod error;
mod kind;
mod name;

pub use decode::{Decoded, body_limit, decode};
pub use error::ImageError;
pub use kind::{ImageKind, normalize_media_type};
pub use name::{MAX_NAME_LEN, object_key, sanitize};

use bytes::Bytes;

use crate::config::ImagesRoute;
use crate::storage::checksum::Crc32c;
use crate::storage::upload::{Stored, Uploads};
use crate::storage::{Bucket, Buckets, keys};

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

/// The format of a declared media type, if `[images] allowed` accepts it. Matching ignores
/// case and parameters (`Image/PNG; charset=x` is `image/png`).
pub fn accepted_kind(route: &ImagesRoute, declared: &str) -> Result<ImageKind, ImageError> {
    let normalized = normalize_media_type(declared);
    let allowed = route
        .allowed
        .iter()
        .any(|entry| normalize_media_type(entry) == normalized);
    match ImageKind::from_media_type(&normalized) {
        Some(kind) if allowed => Ok(kind),
        _ => Err(ImageError::UnsupportedContentType {
            declared: declared.to_owned(),
            allowed: route.allowed.clone(),
        }),
    }
}

/// Every check, cheapest first: the whitelist, the size (from the encoded length, before
/// decoding), the base64 itself, a data URL's own type, then the magic bytes. Then the key.
pub fn check(route: &ImagesRoute, image: &NewImage) -> Result<CheckedImage, ImageError> {
    let kind = accepted_kind(route, &image.content_type)?;
    let Decoded {
        bytes,
        data_url_type,
    } = decode(&image.base64, route.max_size)?;
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
    let prefix = keys::normalize_prefix(route.prefix.as_deref().unwrap_or_default())
        .map_err(|error| ImageError::Internal(format!("[images] prefix: {error}")))?;
    let key = object_key(&prefix, image.file_name.as_deref(), kind);
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

/// The bucket images go to: the `[images] bucket` alias, else the default alias.
pub fn bucket<'a>(route: &ImagesRoute, buckets: &'a Buckets) -> Result<&'a Bucket, ImageError> {
    match route.bucket.as_deref() {
        Some(alias) => buckets.get(alias).ok_or_else(|| {
            ImageError::Internal(format!("[images] bucket `{alias}` is not a bucket alias"))
        }),
        None => buckets.resolve(None).map_err(|_| {
            ImageError::Internal("neither [images] bucket nor [files] default_bucket is set".into())
        }),
    }
}

/// Checks one image and stores it; the outcome is counted with every other upload's.
pub async fn store<'a>(
    route: &ImagesRoute,
    buckets: &'a Buckets,
    uploads: &Uploads,
    image: NewImage,
) -> Result<Stored<'a>, ImageError> {
    uploads
        .counted(async {
            let bucket = bucket(route, buckets)?;
            // Decoding, sniffing and checksumming up to `max_size` bytes is CPU work of
            // milliseconds: kept off the async workers so other requests do not wait behind it.
            let checked = {
                let route = route.clone();
                tokio::task::spawn_blocking(move || check(&route, &image))
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
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    const PNG: &[u8] = include_bytes!("../../tests/fixtures/images/pixel.png");
    const GIF: &[u8] = include_bytes!("../../tests/fixtures/images/pixel.gif");

    fn image(bytes: &[u8], content_type: &str) -> NewImage {
        NewImage {
            base64: STANDARD.encode(bytes),
            content_type: content_type.into(),
            file_name: Some("Holiday Photo.png".into()),
        }
    }

    #[test]
    fn a_real_image_passes_with_its_key_and_checksum() {
        let route = ImagesRoute {
            prefix: Some("/avatars//2024".into()),
            ..ImagesRoute::default()
        };
        let checked = check(&route, &image(PNG, "image/png")).unwrap();
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
        let route = ImagesRoute::default();
        assert!(check(&route, &image(PNG, "IMAGE/PNG; charset=binary")).is_ok());
        for refused in ["image/webp", "image/svg+xml", "text/html", "image/jpg", ""] {
            // Even invalid base64 is refused for its type first.
            let mut bad = image(PNG, refused);
            bad.base64 = "!!!".into();
            assert!(
                matches!(
                    check(&route, &bad),
                    Err(ImageError::UnsupportedContentType { .. })
                ),
                "{refused}"
            );
        }
        // A known format becomes acceptable only when the operator allows it.
        let webp = ImagesRoute {
            allowed: vec!["image/webp".into()],
            ..ImagesRoute::default()
        };
        assert!(accepted_kind(&webp, "image/webp").is_ok());
        assert!(accepted_kind(&webp, "image/png").is_err());
    }

    #[test]
    fn the_bytes_must_be_what_the_type_says() {
        let route = ImagesRoute::default();
        match check(&route, &image(PNG, "image/jpeg")) {
            Err(ImageError::ContentTypeMismatch { declared, detected }) => {
                assert_eq!(declared, "image/jpeg");
                assert_eq!(detected, Some("image/png"));
            }
            other => panic!("a PNG declared as JPEG: {other:?}"),
        }
        assert!(matches!(
            check(&route, &image(b"%PDF-1.4\n%...", "image/png")),
            Err(ImageError::ContentTypeMismatch { .. })
        ));
        // A data URL that says GIF for a PNG declared PNG: two declarations disagree.
        let mut mixed = image(PNG, "image/png");
        mixed.base64 = format!("data:image/gif;base64,{}", STANDARD.encode(PNG));
        assert!(matches!(
            check(&route, &mixed),
            Err(ImageError::DataUrlMismatch { .. })
        ));
        let mut agreeing = image(GIF, "image/gif");
        agreeing.base64 = format!("data:image/gif;base64,{}", STANDARD.encode(GIF));
        assert!(check(&route, &agreeing).is_ok());
    }

    #[test]
    fn max_size_is_inclusive() {
        let exact = ImagesRoute {
            max_size: PNG.len() as u64,
            ..ImagesRoute::default()
        };
        assert!(check(&exact, &image(PNG, "image/png")).is_ok());
        let smaller = ImagesRoute {
            max_size: PNG.len() as u64 - 1,
            ..ImagesRoute::default()
        };
        assert!(matches!(
            check(&smaller, &image(PNG, "image/png")),
            Err(ImageError::TooLarge { .. })
        ));
    }
}
