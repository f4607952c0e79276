//! Object keys: prefix normalization and the checks that keep hostile keys out.

use super::StorageError;

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
    if segment.chars().any(char::is_control) {
        return Err(StorageError::InvalidKey(
            "control characters are not allowed".into(),
        ));
    }
    Ok(())
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
