//! Test support for Hoist's end-to-end suite: servers started in-process or as the real
//! binary, the answers they give, the moto servers the suite runner started, local peers for
//! triggers, and independent AWS clients that read ground truth without going through Hoist.

pub mod answer;
pub mod binary;
pub mod form;
pub mod moto;
pub mod peers;
pub mod presign;
pub mod proxy;
pub mod server;
pub mod soak;
pub mod store;

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use bytes::Bytes;

pub use answer::{Answer, assert_client_error, assert_error, send};
pub use server::{TestServer, test_settings};
pub use store::StandaloneStore;

/// The value of the Prometheus sample named exactly `series` (its name and labels, as
/// `/metrics` writes them) in `metrics`, or `None` when there is no such sample.
pub fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        line.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

/// `len` bytes that differ with `seed` and do not repeat at part boundaries (xorshift).
pub fn test_bytes(len: usize, seed: u64) -> Bytes {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out.into()
}

/// CRC32C as S3 spells it (base64 of the big-endian value), computed here, not by Hoist.
pub fn crc32c_base64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(crc32c::crc32c(data).to_be_bytes())
}

/// SHA-256 as S3 spells it (base64).
pub fn sha256_base64(data: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(data))
}

/// A request body streamed from `chunks`: sent chunked, without a `Content-Length`.
pub fn stream_body(chunks: Vec<Bytes>) -> reqwest::Body {
    reqwest::Body::wrap_stream(futures_util::stream::iter(
        chunks.into_iter().map(Ok::<_, std::io::Error>),
    ))
}

/// `data` as a streamed body in pieces of `chunk` bytes.
pub fn chunked(data: &Bytes, chunk: usize) -> reqwest::Body {
    stream_body(
        (0..data.len())
            .step_by(chunk)
            .map(|start| data.slice(start..(start + chunk).min(data.len())))
            .collect(),
    )
}

/// Polls until `check` holds, for at most 30 s: a bounded wait for something the test
/// caused, not a timing assertion.
pub async fn eventually<F: Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    for _ in 0..600 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen within 30 s");
}

/// The repository root (where `configs/` and `routes.toml` live).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .to_path_buf()
}

/// An S3 client of its own, for reading ground truth past Hoist.
pub fn s3_client(endpoint: &str, access_key: &str, secret_key: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(Credentials::new(access_key, secret_key, None, None, "test"))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}
