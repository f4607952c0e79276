//! End-to-end tests of failing closed: the binary deployed with nothing but a secret and an
//! S3 endpoint (production by default, JSON logs, no dev tokens), its refusals to start,
//! check-config listing every problem, tokens not valid yet or for several audiences, keys
//! with invisible characters or commas, content a browser would run stored as a download,
//! and keys the embedded store cannot hold. Ground truth comes from S3 clients of the tests'
//! own, on moto or the embedded store.

mod content;
mod deploy;
mod embedded;
mod keys;
mod tokens;

use std::time::{SystemTime, UNIX_EPOCH};

/// A bearer token signed with `secret` (HS256) carrying `claims`, as an identity provider
/// would issue it.
fn sign(secret: &str, claims: &serde_json::Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("a token")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}
