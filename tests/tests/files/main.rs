//! End-to-end tests of the file routes: uploads of every size through both routes and both
//! field orders, client checksums, listing order and paging, batch delete, hostile input,
//! and what happens when an upload goes wrong (too large, client gone, store gone) or a role
//! must be assumed. Ground truth is always read with an S3 client of the test's own: on the
//! embedded store, or on moto, whose ListMultipartUploads shows what an upload left behind.

mod assumed_role;
mod checksums;
mod delete;
mod failures;
mod hostile;
mod list;
mod upload;

use aws_sdk_s3::types::ChecksumMode;
use bytes::Bytes;
use hoist_tests::{TestServer, moto};

/// The smallest part S3 accepts; tests use it so multipart uploads stay small.
const PART: usize = 5 * 1024 * 1024;

/// Hoist on the embedded store with 5 MiB parts and room for files of a few parts.
async fn small_parts() -> TestServer {
    TestServer::start_with(|settings| {
        settings.upload.part_size = PART as u64;
        settings.upload.max_file_size = 64 * 1024 * 1024;
    })
    .await
}

/// Hoist in front of a fresh moto bucket (the default alias `uploads`), with 5 MiB parts.
async fn on_moto(
    name: &str,
    configure: impl FnOnce(&mut hoist_server::Settings),
) -> (TestServer, aws_sdk_s3::Client, String) {
    let bucket = moto::unique_bucket(name);
    let s3 = moto::create_bucket(&bucket).await;
    let server = TestServer::start_with(|settings| {
        moto::use_bucket_on(settings, &moto::endpoint(), "uploads", &bucket);
        settings.upload.part_size = PART as u64;
        configure(settings);
    })
    .await;
    (server, s3, bucket)
}

fn real_bucket(server: &TestServer, alias: &str) -> String {
    server.state.buckets.get(alias).expect("alias").name.clone()
}

/// The object as the embedded store holds it under the `uploads` alias: bytes, type, and
/// the CRC32C S3 stored (when it stored one).
async fn object(server: &TestServer, key: &str) -> Option<(Bytes, String, Option<String>)> {
    let s3 = server.embedded_s3();
    let bucket = real_bucket(server, "uploads");
    let got = s3.get_object().bucket(&bucket).key(key).send().await.ok()?;
    let content_type = got.content_type().unwrap_or_default().to_owned();
    let body = got.body.collect().await.expect("object body").into_bytes();
    let head = s3
        .head_object()
        .bucket(&bucket)
        .key(key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("head object");
    Some((
        body,
        content_type,
        head.checksum_crc32_c().map(str::to_owned),
    ))
}

/// Every key under `prefix` of `alias` on the embedded store.
async fn keys_in(server: &TestServer, alias: &str, prefix: &str) -> Vec<String> {
    server
        .stored_keys(&real_bucket(server, alias), prefix)
        .await
}

/// Whether `key` exists in `bucket`, asked with the test's own client.
async fn exists(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> bool {
    s3.head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .is_ok()
}
