//! Object keys: prefix normalization and the checks that keep hostile keys out.

use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory, NoncharacterCodePoint};
use icu_properties::{CodePointMapData, CodePointSetData};

use super::StorageError;

/// Keys under this prefix hold Hoist's own state (tus uploads): no client may name them, and
/// listings do not show them.
pub const RESERVED_PREFIX: &str = ".hoist/";

/// Whether `key` (or a normalized prefix) lies in Hoist's reserved prefix.
pub fn is_reserved(key: &str) -> bool {
    key.starts_with(RESERVED_PREFIX) || key == RESERVED_PREFIX.trim_end_matches('/')
}

fn refuse_reserved(key: &str) -> Result<(), StorageError> {
    if is_reserved(key) {
        return Err(StorageError::InvalidKey(format!(
            "keys under `{RESERVED_PREFIX}` are reserved for Hoist's own state"
        )));
    }
    Ok(())
}

/// S3's limit on a key, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// Normalizes a client prefix: leading and repeated `/` removed, exactly one trailing `/`
/// (none for an empty prefix). Refuses `.`/`..` segments and control characters.
pub fn normalize_prefix(prefix: &str) -> Result<String, StorageError> {
    let segments: Vec<&str> = prefix.split('/').filter(|s| !s.is_empty()).collect();
    for segment in &segments {
        check_segment(segment)?;
    }
    let mut normalized = segments.join("/");
    if !normalized.is_empty() {
        normalized.push('/');
    }
    check_length(&normalized)?;
    refuse_reserved(&normalized)?;
    Ok(normalized)
}

/// Checks a full key as a client gave it (for raw uploads and deletes): not empty, no
/// `.`/`..` segment, no control character, no leading `/`, at most 1024 bytes.
pub fn validate_key(key: &str) -> Result<(), StorageError> {
    if key.is_empty() {
        return Err(StorageError::InvalidKey("the key is empty".into()));
    }
    if key.starts_with('/') {
        return Err(StorageError::InvalidKey(
            "a key does not start with `/`".into(),
        ));
    }
    if key.ends_with('/') {
        return Err(StorageError::InvalidKey(
            "a key does not end with `/`".into(),
        ));
    }
    for segment in key.split('/') {
        check_segment(segment)?;
    }
    refuse_reserved(key)?;
    check_length(key)
}

/// `prefix` (normalized) + a file name, checked as a whole.
pub fn join(prefix: &str, name: &str) -> Result<String, StorageError> {
    if name.is_empty() || name.contains('/') {
        return Err(StorageError::InvalidKey(
            "a file name is not empty and has no `/`".into(),
        ));
    }
    let key = format!("{}{name}", normalize_prefix(prefix)?);
    validate_key(&key)?;
    Ok(key)
}

fn check_segment(segment: &str) -> Result<(), StorageError> {
    if segment == "." || segment == ".." {
        return Err(StorageError::InvalidKey(
            "`.` and `..` are not allowed as path segments".into(),
        ));
    }
    if let Some((c, why)) = segment
        .chars()
        .find_map(|c| forbidden(c).map(|why| (c, why)))
    {
        return Err(StorageError::InvalidKey(format!(
            "U+{:04X} is {why}; keys must show what they name",
            u32::from(c)
        )));
    }
    Ok(())
}

/// Why `c` may not be in a key: characters that are invisible or change how the rest is
/// shown, so a listing would show another name than the key's (`a\u{202E}fdp.exe` reads as
/// `aexe.pdf`). Control characters (Cc), format characters (Cf: bidirectional controls,
/// zero-width characters, the byte order mark, soft hyphen), line and paragraph separators
/// (Zl, Zp), the other default-ignorable code points (variation selectors, Hangul fillers,
/// the combining grapheme joiner) and noncharacters.
///
/// Other characters are kept byte for byte: a key is not normalized (NFC and NFD spellings
/// of one name are two keys, as in S3), so the key a client sent is the key it reads back.
fn forbidden(c: char) -> Option<&'static str> {
    match CodePointMapData::<GeneralCategory>::new().get(c) {
        GeneralCategory::Control => return Some("a control character"),
        GeneralCategory::Format => {
            return Some(
                "an invisible format character (a bidirectional control, a zero-width \
                 character or a byte order mark)",
            );
        }
        GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator => {
            return Some("a line or paragraph separator");
        }
        _ => {}
    }
    if CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c) {
        return Some("an invisible character");
    }
    if CodePointSetData::new::<NoncharacterCodePoint>().contains(c) {
        return Some("a Unicode noncharacter");
    }
    None
}

fn check_length(key: &str) -> Result<(), StorageError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(StorageError::InvalidKey(format!(
            "keys are at most {MAX_KEY_BYTES} bytes"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_normalized() {
        assert_eq!(normalize_prefix("").unwrap(), "");
        assert_eq!(normalize_prefix("/").unwrap(), "");
        assert_eq!(normalize_prefix("uploads").unwrap(), "uploads/");
        assert_eq!(normalize_prefix("//a//b/").unwrap(), "a/b/");
        assert_eq!(normalize_prefix("/a/b").unwrap(), "a/b/");
    }

    #[test]
    fn the_reserved_prefix_is_refused_everywhere() {
        for key in [".hoist/tus/x/state.json", ".hoist", ".hoist/x"] {
            assert!(validate_key(key).is_err(), "{key}");
        }
        for prefix in [".hoist", "/.hoist/", ".hoist/tus"] {
            assert!(normalize_prefix(prefix).is_err(), "{prefix}");
        }
        assert!(validate_key("a/.hoist/b").is_ok());
        assert!(validate_key(".hoistery").is_ok());
        assert!(join(".hoist", "x").is_err());
    }

    #[test]
    fn hostile_keys_are_refused() {
        for bad in ["..", "a/../b", "./a", "a/./b", "a\u{0}b", "a\nb", "a\u{7f}"] {
            assert!(validate_key(bad).is_err(), "{bad:?}");
        }
        for bad in ["a/..", "../etc", "x/\u{1b}[2J"] {
            assert!(normalize_prefix(bad).is_err(), "{bad:?}");
        }
        assert!(validate_key(&"k".repeat(1025)).is_err());
        assert!(validate_key(&"k".repeat(1024)).is_ok());
        assert!(validate_key("").is_err());
        assert!(validate_key("/abs").is_err());
        assert!(join("p", "").is_err());
        assert!(join("p", "a/b").is_err());
    }

    #[test]
    fn invisible_characters_are_refused() {
        for c in [
            '\u{202E}',
            '\u{202A}',
            '\u{2066}',
            '\u{200E}',
            '\u{200F}',
            '\u{061C}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{2028}',
            '\u{2029}',
            '\u{034F}',
            '\u{115F}',
            '\u{3164}',
            '\u{FE0F}',
            '\u{180E}',
            '\u{E0041}',
            '\u{FFFE}',
            '\u{85}',
        ] {
            let key = format!("a{c}fdp.exe");
            let error = validate_key(&key).unwrap_err().to_string();
            assert!(
                error.contains(&format!("U+{:04X}", u32::from(c))),
                "{error}"
            );
            assert!(normalize_prefix(&format!("p{c}/")).is_err(), "{c:?}");
        }
    }

    #[test]
    fn keys_are_kept_as_sent_without_normalization() {
        let nfc = "caf\u{E9}.txt";
        let nfd = "cafe\u{301}.txt";
        assert!(validate_key(nfc).is_ok());
        assert!(validate_key(nfd).is_ok(), "a combining mark is visible");
        assert_eq!(join("", nfd).unwrap(), nfd, "no normalization");
        assert!(
            validate_key("a b,c\u{3000}d.txt").is_ok(),
            "spaces and commas are fine"
        );
    }

    #[test]
    fn ordinary_keys_pass() {
        assert!(validate_key("a/b/c.txt").is_ok());
        assert!(
            validate_key("..hidden/file..txt").is_ok(),
            "dots inside names are fine"
        );
        assert!(validate_key("ünïcödé/файл.pdf").is_ok());
        assert_eq!(
            join("/reports//2024", "q1.pdf").unwrap(),
            "reports/2024/q1.pdf"
        );
        assert_eq!(join("", "q1.pdf").unwrap(), "q1.pdf");
    }
}
