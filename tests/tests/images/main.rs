//! End-to-end tests of `POST /images`: real images round-trip byte-identical (read back with
//! an independent S3 client), every refusal leaves the bucket empty, keys are fresh and safe,
//! and oversized bodies are refused without being read.

mod body_limits;
mod refusals;
mod upload;

use hoist_tests::{Answer, TestServer, send};
use reqwest::Method;
use serde_json::Value;

const PNG: &[u8] = include_bytes!("../../../server/tests/fixtures/images/pixel.png");
const GIF: &[u8] = include_bytes!("../../../server/tests/fixtures/images/pixel.gif");
const JPEG: &[u8] = include_bytes!("../../../server/tests/fixtures/images/pixel.jpg");

/// The real bucket behind the `images` alias in the checked-in routes.toml.
const IMAGES_BUCKET: &str = "hoist-images";

/// `POST /images` of `body`, with `token` when there is one.
async fn post_image(server: &TestServer, token: Option<&str>, body: &Value) -> Answer {
    send(server.request(Method::POST, "/images", token).json(body)).await
}

/// Every key in the images bucket, read past Hoist.
async fn stored_keys(server: &TestServer) -> Vec<String> {
    server.stored_keys(IMAGES_BUCKET, "").await
}

/// Whether `name` is `{safe}_{uuid}.{ext}` with `safe` from the sanitizer's alphabet.
fn is_safe_name(name: &str, ext: &str) -> bool {
    let Some(stem) = name.strip_suffix(&format!(".{ext}")) else {
        return false;
    };
    let Some((safe, uuid)) = stem.rsplit_once('_').filter(|(_, uuid)| uuid.len() == 36) else {
        return false;
    };
    uuid::Uuid::parse_str(uuid).is_ok()
        && !safe.is_empty()
        && safe
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
