//! Base64 as clients send it: a bare string or a data URL, standard or URL-safe alphabet,
//! padded or not, wrapped in line breaks or not. The decoded size is known from the encoded
//! length, so an oversized image is refused before anything is decoded.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::error::ImageError;
use super::kind::normalize_media_type;

/// Lenient where encoders differ harmlessly: padding is optional (URL-safe encoders often
/// drop it), and non-zero bits after the last byte are ignored, as browsers' `atob` and
/// Node's `Buffer.from` (the old service) ignore them.
const CONFIG: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, CONFIG);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, CONFIG);

/// Fixed room in a request body besides the base64 itself: the JSON around it, `contentType`,
/// `fileName` and a data URL header.
const BODY_OVERHEAD: u64 = 64 * 1024;

/// The largest request body `POST /images` reads for images of at most `max_size` bytes:
/// the base64 length of `max_size`, plus an eighth for line breaks (JSON-escaped `\r\n`
/// every 64 characters adds 6.25%) and `\/` escapes, plus [`BODY_OVERHEAD`]. About
/// 1.5 × `max_size`.
pub fn body_limit(max_size: u64) -> u64 {
    let encoded = max_size.div_ceil(3).saturating_mul(4);
    encoded
        .saturating_add(encoded / 8)
        .saturating_add(BODY_OVERHEAD)
}

/// A decoded image and what its data URL, if any, declared.
#[derive(Debug)]
pub struct Decoded {
    pub bytes: Vec<u8>,
    /// The normalized media type of a `data:` URL; `None` for bare base64 or `data:;base64,`.
    pub data_url_type: Option<String>,
}

/// Decodes `input`, refusing it with [`ImageError::TooLarge`] before decoding when it would
/// yield more than `max_size` bytes.
pub fn decode(input: &str, max_size: u64) -> Result<Decoded, ImageError> {
    let (data_url_type, payload) = split_data_url(input)?;
    let payload = payload.as_bytes();

    let mut symbols: u64 = 0;
    let mut has_whitespace = false;
    let mut url_safe = false;
    for &byte in payload {
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => has_whitespace = true,
            b'=' => {}
            b'-' | b'_' => {
                url_safe = true;
                symbols += 1;
            }
            _ => symbols += 1,
        }
    }
    // Every 4 symbols carry 3 bytes; a trailing 2 or 3 carry 1 or 2 (a trailing 1 is invalid
    // and refused by the decoder). Exact for valid input, so the limit is exact too.
    let size = symbols / 4 * 3 + (symbols % 4).saturating_sub(1);
    if size > max_size {
        return Err(ImageError::TooLarge {
            size,
            max: max_size,
        });
    }
    if symbols == 0 {
        return Err(ImageError::InvalidBase64("there is no image data".into()));
    }

    // Copy only when whitespace has to go; most clients send one unbroken line.
    let compact: std::borrow::Cow<'_, [u8]> = if has_whitespace {
        payload
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect::<Vec<u8>>()
            .into()
    } else {
        payload.into()
    };
    // A string with `-` or `_` is URL-safe; one mixing both alphabets fails on the first
    // symbol of the other.
    let engine = if url_safe { &URL_SAFE } else { &STANDARD };
    let bytes = engine.decode(&compact).map_err(describe_error)?;
    Ok(Decoded {
        bytes,
        data_url_type,
    })
}

/// Splits `data:[<media type>][;params];base64,<data>` into its media type and data; any
/// other input is all data.
fn split_data_url(input: &str) -> Result<(Option<String>, &str), ImageError> {
    let trimmed = input.trim_start();
    let is_data_url = trimmed
        .get(..5)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("data:"));
    if !is_data_url {
        return Ok((None, input));
    }
    let Some((header, data)) = trimmed[5..].split_once(',') else {
        return Err(ImageError::InvalidBase64(
            "the data URL has no `,` before its data".into(),
        ));
    };
    let mut parts = header.split(';').map(str::trim);
    let media_type = parts.next().unwrap_or_default();
    if !parts
        .next_back()
        .is_some_and(|last| last.eq_ignore_ascii_case("base64"))
    {
        return Err(ImageError::InvalidBase64(
            "the data URL is not base64-encoded (`;base64,` is missing)".into(),
        ));
    }
    let media_type = (!media_type.is_empty()).then(|| normalize_media_type(media_type));
    Ok((media_type, data))
}

/// The decoder's complaint in words. Positions count symbols, whitespace left out.
fn describe_error(error: base64::DecodeError) -> ImageError {
    let symbol = |byte: u8| {
        if byte.is_ascii_graphic() {
            format!("`{}`", char::from(byte))
        } else {
            format!("byte 0x{byte:02X}")
        }
    };
    ImageError::InvalidBase64(match error {
        base64::DecodeError::InvalidByte(at, b'=') => {
            format!("padding `=` in the middle of the data (at symbol {at})")
        }
        base64::DecodeError::InvalidByte(at, byte) => {
            format!("{} at symbol {at} is not a base64 symbol", symbol(byte))
        }
        base64::DecodeError::InvalidLength(_) => {
            "the length is not that of any base64 data (truncated?)".to_owned()
        }
        base64::DecodeError::InvalidLastSymbol(at, byte) => {
            format!("{} at symbol {at} cannot end base64 data", symbol(byte))
        }
        base64::DecodeError::InvalidPadding => "the padding is malformed".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose;

    use super::*;

    const PNG: &[u8] = include_bytes!("../../tests/fixtures/images/pixel.png");
    const MAX: u64 = 1024 * 1024;

    fn ok(input: &str) -> Decoded {
        decode(input, MAX).unwrap_or_else(|e| panic!("{input:?}: {e}"))
    }

    fn invalid(input: &str) -> String {
        match decode(input, MAX) {
            Err(ImageError::InvalidBase64(message)) => message,
            other => panic!("{input:?}: expected invalid base64, got {other:?}"),
        }
    }

    #[test]
    fn every_common_spelling_decodes_to_the_same_bytes() {
        // 0xFB 0xFF encodes to `+/8` or `-_8`, so the alphabets really differ here.
        let bytes: Vec<u8> = [PNG, &[0xFB, 0xFF, 0xFE][..]].concat();
        let standard = general_purpose::STANDARD.encode(&bytes);
        assert!(standard.contains('+') && standard.contains('/'));
        let url_safe = general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        assert!(url_safe.contains('-') && url_safe.contains('_'));
        let wrapped: String = standard
            .as_bytes()
            .chunks(76)
            .map(|line| format!("{}\r\n", std::str::from_utf8(line).unwrap()))
            .collect();
        for input in [
            standard.clone(),
            standard.trim_end_matches('=').to_owned(),
            url_safe.clone(),
            general_purpose::URL_SAFE.encode(&bytes),
            wrapped.clone(),
            format!("  \n{standard}\n  "),
            format!("data:image/png;base64,{standard}"),
            format!("DATA:image/png;BASE64,{url_safe}"),
            format!("data:image/png;name=a.png;base64,{wrapped}"),
        ] {
            assert_eq!(ok(&input).bytes, bytes, "{input:?}");
        }
    }

    #[test]
    fn data_urls_report_their_media_type() {
        assert_eq!(
            ok("data:Image/PNG;base64,AAAA").data_url_type.as_deref(),
            Some("image/png")
        );
        assert_eq!(ok("data:;base64,AAAA").data_url_type, None);
        assert_eq!(ok("AAAA").data_url_type, None);
        assert!(invalid("data:image/png,%89PNG").contains("not base64-encoded"));
        assert!(invalid("data:image/png;base64").contains("no `,`"));
    }

    #[test]
    fn broken_base64_is_refused_with_a_reason() {
        assert!(invalid("AAA*AAAA").contains("`*` at symbol 3"));
        assert!(invalid("AA==AAAA").contains("padding"));
        assert!(invalid("AAAAA").contains("length"));
        assert!(invalid("").contains("no image data"));
        assert!(invalid(" \r\n ").contains("no image data"));
        assert!(invalid("data:image/png;base64,").contains("no image data"));
        // One string cannot use both alphabets.
        assert!(invalid("ab+/ab-_").contains("not a base64 symbol"));
        assert!(invalid("héllo==").contains("byte 0xC3"));
    }

    #[test]
    fn size_is_checked_exactly_before_decoding() {
        let bytes = vec![7u8; 1000];
        for encoded in [
            general_purpose::STANDARD.encode(&bytes),
            general_purpose::STANDARD_NO_PAD.encode(&bytes),
        ] {
            assert_eq!(decode(&encoded, 1000).unwrap().bytes, bytes);
            match decode(&encoded, 999) {
                Err(ImageError::TooLarge { size, max }) => assert_eq!((size, max), (1000, 999)),
                other => panic!("expected too large, got {other:?}"),
            }
        }
        // Decoding never starts: data that is not even base64 is refused for its size.
        let garbage = "*".repeat(4000);
        assert!(matches!(
            decode(&garbage, 1000),
            Err(ImageError::TooLarge { size: 3000, .. })
        ));
        // Whitespace and padding do not count towards the size.
        let padded = format!("{}\n\n====", general_purpose::STANDARD.encode([1u8; 3]));
        assert!(matches!(
            decode(&padded, 2),
            Err(ImageError::TooLarge { size: 3, .. })
        ));
    }

    #[test]
    fn the_body_limit_admits_every_image_of_the_maximum_size() {
        let max: u64 = 10 * 1024 * 1024;
        let encoded = max.div_ceil(3) * 4;
        // A JSON-escaped CRLF every 64 symbols and every `/` escaped still fit.
        let wrapped = encoded + encoded / 64 * 4 + encoded / 64;
        assert!(body_limit(max) > wrapped + 1024);
        // ... and the limit is a bound, not a formality: about 1.5 times the image size.
        assert!(body_limit(max) < max * 3 / 2 + 2 * BODY_OVERHEAD);
        assert_eq!(body_limit(u64::MAX), u64::MAX);
    }
}
