//! Content safety per bucket alias: the types an alias accepts (`allowed_types`), and types a
//! browser would run or render as a page stored as downloads (`Content-Disposition:
//! attachment`) unless the alias sets `inline_active_content`.
//!
//! Why: an object served from the bucket's own URL (a presigned GET, a public bucket, a CDN)
//! is rendered by the browser according to its stored type, on that origin. An uploaded HTML
//! or SVG file with a script is stored XSS unless it is a download.

/// The type stored when nothing better is known.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// A pattern of `allowed_types`: `type/subtype`, or `type/*` for every subtype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypePattern {
    kind: String,
    /// `None` for `type/*`.
    subtype: Option<String>,
}

impl TypePattern {
    /// Parses `image/png` or `image/*` (case ignored, no parameters).
    pub fn parse(pattern: &str) -> Result<Self, String> {
        let lower = pattern.trim().to_ascii_lowercase();
        let (kind, subtype) = lower
            .split_once('/')
            .ok_or_else(|| format!("`{pattern}` is not `type/subtype` or `type/*`"))?;
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
        };
        if !token(kind) || !(subtype == "*" || token(subtype)) {
            return Err(format!("`{pattern}` is not `type/subtype` or `type/*`"));
        }
        Ok(Self {
            kind: kind.to_owned(),
            subtype: (subtype != "*").then(|| subtype.to_owned()),
        })
    }

    fn matches(&self, essence: &str) -> bool {
        let Some((kind, subtype)) = essence.split_once('/') else {
            return false;
        };
        kind == self.kind && self.subtype.as_deref().is_none_or(|s| s == subtype)
    }
}

/// `Text/HTML; charset=utf-8` → `text/html`.
pub fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Types a browser renders as a document that can run script, or runs as script: HTML,
/// XHTML, SVG, XML (which can carry XHTML or an XSLT that produces HTML), JavaScript and the
/// old plug-in and script types. Any `+xml` type counts, since browsers render many of them
/// as XML documents.
pub fn is_active(essence: &str) -> bool {
    matches!(
        essence,
        "text/html"
            | "application/xhtml+xml"
            | "image/svg+xml"
            | "text/xml"
            | "application/xml"
            | "text/xsl"
            | "text/javascript"
            | "text/x-javascript"
            | "application/javascript"
            | "application/x-javascript"
            | "text/ecmascript"
            | "application/ecmascript"
            | "text/jscript"
            | "text/vbscript"
            | "application/x-shockwave-flash"
            | "multipart/x-mixed-replace"
    ) || essence.ends_with("+xml")
}

/// Whether the first bytes look like a document a browser would render as HTML or XML if it
/// sniffed them (the WHATWG patterns, as `infer` implements them), or an SVG.
pub fn sniffs_active(first_bytes: &[u8]) -> bool {
    let bytes = first_bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(first_bytes);
    let trimmed = bytes
        .iter()
        .position(|b| !matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' '))
        .map_or(&[][..], |start| &bytes[start..]);
    infer::text::is_html(trimmed)
        || infer::text::is_xml(trimmed)
        || trimmed
            .get(..4)
            .is_some_and(|head| head.eq_ignore_ascii_case(b"<svg"))
}

/// An alias's content rules, from `allowed_types` and `inline_active_content`.
#[derive(Debug, Clone, Default)]
pub struct ContentPolicy {
    /// `None`: every type is accepted.
    allowed: Option<Vec<TypePattern>>,
    inline_active: bool,
}

/// What is stored with an object: its type and, for active content, a disposition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredType {
    pub content_type: String,
    pub disposition: Option<String>,
}

/// A type the alias does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{content_type}` is not accepted by this bucket alias; it accepts {allowed}")]
pub struct TypeRefused {
    pub content_type: String,
    pub allowed: String,
}

impl ContentPolicy {
    pub fn new(allowed: Option<Vec<TypePattern>>, inline_active: bool) -> Self {
        Self {
            allowed,
            inline_active,
        }
    }

    /// Refuses a type `allowed_types` does not list.
    pub fn check(&self, content_type: &str) -> Result<(), TypeRefused> {
        let Some(allowed) = &self.allowed else {
            return Ok(());
        };
        let essence = essence(content_type);
        if allowed.iter().any(|pattern| pattern.matches(&essence)) {
            return Ok(());
        }
        let listed: Vec<String> = allowed
            .iter()
            .map(|p| format!("{}/{}", p.kind, p.subtype.as_deref().unwrap_or("*")))
            .collect();
        Err(TypeRefused {
            content_type: essence,
            allowed: listed.join(", "),
        })
    }

    /// The stored type of an upload to `key`: the declared one unless it is absent or the
    /// generic `application/octet-stream`; then the sniffed one, unless that is active (a
    /// sniffed guess never makes an object something a browser runs), else
    /// `application/octet-stream`. Active content, declared or sniffed, gets an `attachment`
    /// disposition unless the alias allows it inline.
    pub fn resolve(
        &self,
        declared: Option<&str>,
        first_bytes: &[u8],
        key: &str,
    ) -> Result<StoredType, TypeRefused> {
        let declared = declared
            .map(str::trim)
            .filter(|given| !given.is_empty() && essence(given) != OCTET_STREAM);
        let content_type = match declared {
            Some(given) => given.to_owned(),
            None => infer::get(first_bytes)
                .map(|kind| kind.mime_type())
                .filter(|sniffed| !is_active(sniffed))
                .unwrap_or(OCTET_STREAM)
                .to_owned(),
        };
        self.check(&content_type)?;
        let active = is_active(&essence(&content_type)) || sniffs_active(first_bytes);
        Ok(StoredType {
            disposition: (active && !self.inline_active).then(|| attachment(key)),
            content_type,
        })
    }
}

/// `attachment; filename="q1.pdf"`, with an RFC 6266 `filename*` when the name is not plain
/// ASCII: the quoted name keeps printable ASCII (`"` and `\` escaped), anything else becomes
/// `_`.
pub fn attachment(key: &str) -> String {
    let name = key.rsplit('/').next().unwrap_or(key);
    let mut fallback = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '"' | '\\' => {
                fallback.push('\\');
                fallback.push(c);
            }
            ' '..='~' => fallback.push(c),
            _ => fallback.push('_'),
        }
    }
    let mut value = format!("attachment; filename=\"{fallback}\"");
    if !name.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        value.push_str("; filename*=UTF-8''");
        value.push_str(&percent_encoding::utf8_percent_encode(name, ATTR_CHAR).to_string());
    }
    value
}

/// Everything but RFC 5987's `attr-char` is percent-encoded.
const ATTR_CHAR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allowed: &[&str], inline: bool) -> ContentPolicy {
        let allowed = (!allowed.is_empty()).then(|| {
            allowed
                .iter()
                .map(|p| TypePattern::parse(p).unwrap())
                .collect()
        });
        ContentPolicy::new(allowed, inline)
    }

    #[test]
    fn patterns() {
        let p = TypePattern::parse("Image/*").unwrap();
        assert!(p.matches("image/png"));
        assert!(!p.matches("text/png"));
        assert!(
            TypePattern::parse("application/pdf")
                .unwrap()
                .matches("application/pdf")
        );
        for bad in ["image", "*/*", "image/", "/png", "a b/c", "image/png; x=1"] {
            assert!(TypePattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn allowed_types_refuse_the_rest() {
        let p = policy(&["image/*", "application/pdf"], false);
        assert!(p.check("IMAGE/PNG; q=1").is_ok());
        assert!(p.check("application/pdf").is_ok());
        let refused = p.check("text/html").unwrap_err();
        assert_eq!(refused.content_type, "text/html");
        assert_eq!(refused.allowed, "image/*, application/pdf");
        assert!(policy(&[], false).check("text/html").is_ok());
    }

    #[test]
    fn active_content_is_an_attachment() {
        let p = policy(&[], false);
        for active in [
            "text/html",
            "image/svg+xml",
            "application/xhtml+xml",
            "text/xml",
            "application/javascript",
            "application/rss+xml",
        ] {
            let stored = p.resolve(Some(active), b"", "a/b.x").unwrap();
            assert_eq!(stored.content_type, active);
            assert_eq!(
                stored.disposition.as_deref(),
                Some("attachment; filename=\"b.x\"")
            );
        }
        let stored = p
            .resolve(Some("application/pdf"), b"%PDF-1.7", "q1.pdf")
            .unwrap();
        assert_eq!(stored.disposition, None);
        let inline = policy(&[], true)
            .resolve(Some("text/html"), b"<html>", "i.html")
            .unwrap();
        assert_eq!(inline.disposition, None);
    }

    #[test]
    fn sniffing_never_upgrades_to_active() {
        let p = policy(&[], false);
        let html = b"  <!DOCTYPE html><html><script>alert(1)</script>";
        let declared = p.resolve(Some("image/png"), html, "x.png").unwrap();
        assert_eq!(declared.content_type, "image/png");
        assert!(declared.disposition.is_some(), "HTML bytes are a download");
        let sniffed = p.resolve(None, html, "x").unwrap();
        assert_eq!(sniffed.content_type, OCTET_STREAM);
        let generic = p
            .resolve(Some("application/octet-stream"), b"<?xml version", "x")
            .unwrap();
        assert_eq!(generic.content_type, OCTET_STREAM);
        assert!(sniffs_active(b"\xEF\xBB\xBF<svg xmlns='x'>"));
        assert!(!sniffs_active(b"plain text"));
        let png = p
            .resolve(None, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "p")
            .unwrap();
        assert_eq!(
            (png.content_type.as_str(), png.disposition),
            ("image/png", None)
        );
    }

    #[test]
    fn dispositions_quote_and_encode_names() {
        assert_eq!(
            attachment("a/b\"c\\d.html"),
            r#"attachment; filename="b\"c\\d.html""#
        );
        assert_eq!(
            attachment("café.svg"),
            "attachment; filename=\"caf_.svg\"; filename*=UTF-8''caf%C3%A9.svg"
        );
        assert_eq!(
            attachment("a,b c.html"),
            "attachment; filename=\"a,b c.html\""
        );
    }
}
