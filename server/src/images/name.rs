//! Image keys: `{prefix}{name}_{uuid}.{ext}`, where `name` is the client's file name reduced
//! to a safe subset. The UUID makes keys collision-free; the name only helps people.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use uuid::Uuid;

use super::kind::ImageKind;

/// Longest `name` part of a key, in bytes (it is ASCII). Keeps keys far below S3's 1024.
pub const MAX_NAME_LEN: usize = 100;

/// The name used when the client gave none, or nothing of it survives sanitizing.
pub const FALLBACK_NAME: &str = "image";

/// Reduces a client's file name to ASCII letters, digits, `-` and `_`.
///
/// Only the last path segment counts (`C:\fakepath\a.png` and `../../etc/passwd` are
/// paths, not names) and its extension is dropped (the key's comes from the content type).
/// Accents are folded (`Été` → `Ete`); every run of anything else (spaces, dots, brackets,
/// other scripts) becomes one `_`, and none is kept at either end.
pub fn sanitize(file_name: Option<&str>) -> String {
    let base = file_name
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let stem = base.rfind('.').map_or(base, |dot| &base[..dot]);
    let mut name = String::new();
    let mut separated = false;
    for c in stem.nfkd().filter(|c| !is_combining_mark(*c)) {
        if !(c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            separated = true;
            continue;
        }
        let separator = separated && !name.is_empty();
        // Stop before the limit rather than cut after it, so no `_` is left dangling.
        if name.len() + usize::from(separator) + 1 > MAX_NAME_LEN {
            break;
        }
        if separator {
            name.push('_');
        }
        separated = false;
        name.push(c);
    }
    if name.is_empty() {
        FALLBACK_NAME.to_owned()
    } else {
        name
    }
}

/// A fresh key for an image; `prefix` is already normalized (empty or ending in `/`).
pub fn object_key(prefix: &str, file_name: Option<&str>, kind: ImageKind) -> String {
    format!(
        "{prefix}{}_{}.{}",
        sanitize(file_name),
        Uuid::new_v4(),
        kind.extension()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_the_safe_subset() {
        for (given, expected) in [
            (Some("Holiday Photo.png"), "Holiday_Photo"),
            (Some("photo.jpg"), "photo"),
            (Some("no-extension_here"), "no-extension_here"),
            (Some("archive.tar.gz"), "archive_tar"),
            (Some("Holiday Photo (1).png"), "Holiday_Photo_1"),
            (Some("  spaced   out  .png"), "spaced_out"),
            (Some("tab\tand\nnewline\u{0}.gif"), "tab_and_newline"),
            (Some("Été à Paris.jpeg"), "Ete_a_Paris"),
            (Some("Fotó Ünïcödé.png"), "Foto_Unicode"),
            (Some("ＦＵＬＬ ﬁle.png"), "FULL_file"),
            (Some("照片 2024.png"), "2024"),
            (Some("照片.png"), FALLBACK_NAME),
            (Some("😀.png"), FALLBACK_NAME),
            (Some(".png"), FALLBACK_NAME),
            (Some(""), FALLBACK_NAME),
            (Some("   "), FALLBACK_NAME),
            (None, FALLBACK_NAME),
        ] {
            assert_eq!(sanitize(given), expected, "{given:?}");
        }
    }

    #[test]
    fn paths_give_their_last_segment_only() {
        for (given, expected) in [
            (Some("../../etc/passwd"), "passwd"),
            (Some("a/b.png"), "b"),
            (Some("C:\\fakepath\\Holiday Photo.png"), "Holiday_Photo"),
            (Some("/absolute/"), FALLBACK_NAME),
            (Some(".."), FALLBACK_NAME),
            (Some("../.."), FALLBACK_NAME),
            (Some("..\\..\\boot.ini"), "boot"),
        ] {
            assert_eq!(sanitize(given), expected, "{given:?}");
        }
    }

    #[test]
    fn names_are_bounded() {
        let long = format!("{}.png", "a".repeat(5000));
        assert_eq!(sanitize(Some(&long)).len(), MAX_NAME_LEN);
        // A separator that would land at the cut is not left dangling.
        let edge = format!("{} b.png", "a".repeat(MAX_NAME_LEN - 1));
        assert_eq!(sanitize(Some(&edge)), "a".repeat(MAX_NAME_LEN - 1));
    }

    #[test]
    fn keys_are_fresh_and_well_formed() {
        let first = object_key("avatars/", Some("Me.png"), ImageKind::Png);
        let second = object_key("avatars/", Some("Me.png"), ImageKind::Png);
        assert_ne!(first, second);
        let rest = first.strip_prefix("avatars/Me_").expect("prefix and name");
        let uuid = rest.strip_suffix(".png").expect("extension");
        assert!(Uuid::parse_str(uuid).is_ok(), "{first}");
        assert!(object_key("", None, ImageKind::Jpeg).starts_with("image_"));
        assert!(object_key("", None, ImageKind::Jpeg).ends_with(".jpg"));
    }
}
