//! The browser-facing sections: `[cors]` (which web origins may call Hoist from a page) and
//! `[presign]` (how long presigned URLs may live). What the values mean is checked by the
//! modules that use them (`http::cors`, `storage::presign`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Request headers of the tus 1.0.0 protocol (core, creation, checksum, termination) that a
/// browser client such as tus-js-client sends.
pub const TUS_REQUEST_HEADERS: &[&str] = &[
    "tus-resumable",
    "upload-length",
    "upload-offset",
    "upload-metadata",
    "upload-checksum",
    "upload-defer-length",
    "upload-concat",
    "x-http-method-override",
];

/// Response headers of the tus 1.0.0 protocol a browser client must be able to read.
pub const TUS_RESPONSE_HEADERS: &[&str] = &[
    "tus-resumable",
    "tus-version",
    "tus-extension",
    "tus-max-size",
    "tus-checksum-algorithm",
    "upload-offset",
    "upload-length",
    "upload-metadata",
    "upload-expires",
    "upload-defer-length",
    "upload-concat",
];

/// `[cors]`: cross-origin access for browser apps served from other origins.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct CorsSettings {
    /// Exact origins (`scheme://host[:port]`) whose pages may call Hoist. Empty (the default)
    /// turns CORS off: no `Access-Control-*` header is ever sent.
    pub allowed_origins: Vec<String>,
    /// Request headers a page may send (answered in `Access-Control-Allow-Headers`).
    pub allowed_headers: Vec<String>,
    /// Response headers a page may read (`Access-Control-Expose-Headers`).
    pub expose_headers: Vec<String>,
    /// How long a browser may cache a preflight answer (`Access-Control-Max-Age`).
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
}

impl Default for CorsSettings {
    fn default() -> Self {
        let allowed = [
            "authorization",
            "content-type",
            "x-correlation-id",
            "idempotency-key",
            "x-amz-checksum-crc32c",
            "x-amz-checksum-sha256",
        ];
        let exposed = ["x-correlation-id", "x-truncated", "location", "retry-after"];
        Self {
            allowed_origins: Vec::new(),
            allowed_headers: allowed
                .iter()
                .chain(TUS_REQUEST_HEADERS)
                .map(|h| (*h).to_owned())
                .collect(),
            expose_headers: exposed
                .iter()
                .chain(TUS_RESPONSE_HEADERS)
                .map(|h| (*h).to_owned())
                .collect(),
            max_age: Duration::from_secs(600),
        }
    }
}

/// `[presign]`: how long the URLs of `POST /files/presign` may live.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct PresignSettings {
    /// The lifetime of a URL when the request names none (`expiresIn`).
    #[serde(with = "humantime_serde")]
    pub default_expiry: Duration,
    /// The longest lifetime of a URL, whatever the request asks; the caller's token expiry
    /// caps it further.
    #[serde(with = "humantime_serde")]
    pub max_expiry: Duration,
}

impl Default for PresignSettings {
    fn default() -> Self {
        Self {
            default_expiry: Duration::from_secs(15 * 60),
            max_expiry: Duration::from_secs(3600),
        }
    }
}

/// `[tus]`: resumable uploads at `/tus`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct TusSettings {
    /// An unfinished upload is kept this long after its creation (`Upload-Expires`), then
    /// refused (410) and removed by the janitor or on its next request.
    #[serde(with = "humantime_serde")]
    pub expiry: Duration,
    /// How long one PATCH holds an upload against others; renewed with every part it stores.
    /// A PATCH that has stored nothing for this long (its replica died) can be taken over.
    #[serde(with = "humantime_serde")]
    pub lease: Duration,
}

impl Default for TusSettings {
    fn default() -> Self {
        Self {
            expiry: Duration::from_secs(24 * 3600),
            lease: Duration::from_secs(120),
        }
    }
}
