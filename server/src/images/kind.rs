//! The image formats Hoist can accept: their media types, key extensions and signatures.
//!
//! A client's declared type is only trusted when the bytes start with that format's
//! signature, so an HTML page or a PDF cannot be stored as `image/png`. The signatures are
//! checked here rather than with `infer`'s matchers, which accept any data starting with `GIF`
//! or `BM`; `infer` only names what the data looks like in error messages.

/// An image format Hoist knows how to recognize and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Gif,
    Png,
    Jpeg,
    Webp,
    Avif,
}

impl ImageKind {
    /// Every known format; `[images] allowed` may list any of their media types.
    pub const ALL: [Self; 5] = [Self::Gif, Self::Png, Self::Jpeg, Self::Webp, Self::Avif];

    /// The format of a normalized media type (see [`normalize_media_type`]).
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.media_type() == media_type)
    }

    /// The canonical media type, stored as the object's `Content-Type`.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Gif => "image/gif",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
            Self::Avif => "image/avif",
        }
    }

    /// The extension of stored keys, as the old service named them (`jpg`, not `jpeg`).
    pub fn extension(self) -> &'static str {
        match self {
            Self::Gif => "gif",
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Webp => "webp",
            Self::Avif => "avif",
        }
    }

    /// Whether `bytes` start with this format's signature.
    pub fn matches(self, bytes: &[u8]) -> bool {
        match self {
            // The GIF header names its version; nothing else starts this way.
            Self::Gif => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
            // The 8-byte signature, then the IHDR chunk, which the format requires first.
            Self::Png => {
                bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.get(12..16) == Some(b"IHDR")
            }
            // Start-of-image, then the first marker's 0xFF.
            Self::Jpeg => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
            // A RIFF container of type WEBP whose first chunk is VP8, VP8L or VP8X.
            Self::Webp => {
                bytes.starts_with(b"RIFF")
                    && bytes.get(8..12) == Some(b"WEBP")
                    && bytes.get(12..15) == Some(b"VP8")
            }
            // An ISO-BMFF `ftyp` box naming avif/avis as major or compatible brand.
            Self::Avif => infer::image::is_avif(bytes),
        }
    }
}

/// A media type as compared with `[images] allowed`: parameters dropped, trimmed, lowercase
/// (`Image/PNG; q=1` → `image/png`).
pub fn normalize_media_type(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// What the data appears to be, for telling the client why it was refused.
pub fn describe(bytes: &[u8]) -> Option<&'static str> {
    infer::get(bytes).map(|kind| kind.mime_type())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = include_bytes!("../../tests/fixtures/images/pixel.png");
    const GIF: &[u8] = include_bytes!("../../tests/fixtures/images/pixel.gif");
    const JPEG: &[u8] = include_bytes!("../../tests/fixtures/images/pixel.jpg");
    const WEBP: &[u8] = include_bytes!("../../tests/fixtures/images/pixel.webp");
    const AVIF: &[u8] = include_bytes!("../../tests/fixtures/images/pixel.avif");

    #[test]
    fn each_real_image_matches_its_own_kind_only() {
        let samples = [
            (ImageKind::Png, PNG),
            (ImageKind::Gif, GIF),
            (ImageKind::Jpeg, JPEG),
            (ImageKind::Webp, WEBP),
            (ImageKind::Avif, AVIF),
        ];
        for (kind, bytes) in samples {
            for other in ImageKind::ALL {
                assert_eq!(
                    other.matches(bytes),
                    other == kind,
                    "{:?} data checked as {:?}",
                    kind,
                    other
                );
            }
        }
    }

    #[test]
    fn lookalikes_are_not_images() {
        let html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>";
        let pdf = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< >>\nendobj\n";
        for bytes in [
            &html[..],
            &pdf[..],
            b"GIF",
            b"GIFt text",
            b"\x89PNG",
            b"",
            b"BM",
        ] {
            for kind in ImageKind::ALL {
                assert!(!kind.matches(bytes), "{kind:?} accepted {bytes:?}");
            }
        }
        // A truncated PNG signature without its IHDR is not taken for a PNG.
        assert!(!ImageKind::Png.matches(&PNG[..12]));
        // A RIFF container that is not WEBP (a WAV file) is not WEBP.
        assert!(!ImageKind::Webp.matches(b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0"));
    }

    #[test]
    fn media_types_are_normalized_and_named() {
        assert_eq!(normalize_media_type(" Image/PNG ; q=1"), "image/png");
        assert_eq!(normalize_media_type("image/jpeg"), "image/jpeg");
        assert_eq!(
            ImageKind::from_media_type("image/jpeg"),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(ImageKind::from_media_type("image/jpg"), None);
        assert_eq!(ImageKind::from_media_type("image/svg+xml"), None);
        assert_eq!(ImageKind::Jpeg.extension(), "jpg");
        for kind in ImageKind::ALL {
            assert_eq!(ImageKind::from_media_type(kind.media_type()), Some(kind));
        }
    }

    #[test]
    fn refusals_can_name_what_the_data_is() {
        assert_eq!(describe(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(describe(PNG), Some("image/png"));
    }
}
