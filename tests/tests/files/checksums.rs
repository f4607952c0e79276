//! Client checksums (`x-amz-checksum-crc32c`, `x-amz-checksum-sha256`): checked before
//! anything is stored, on a single PutObject (whole or streamed) and on a multipart upload,
//! and the full-object CRC32C the store keeps is the one Hoist reports.

use aws_sdk_s3::types::{ChecksumMode, ChecksumType};
use hoist_tests::{
    assert_client_error, chunked, crc32c_base64, moto, send, sha256_base64, test_bytes,
};
use reqwest::Method;

use super::{PART, exists, keys_in, object, on_moto, small_parts};

#[tokio::test]
async fn client_checksums_are_checked_before_anything_is_stored() {
    let server = small_parts().await;
    let client = server.client();
    for (seed, size) in [(1, 1000), (2, 2 * PART + 5)] {
        let data = test_bytes(size, seed);
        let right_crc = crc32c_base64(&data);
        let right_sha = sha256_base64(&data);
        let wrong_crc = crc32c_base64(b"other bytes");
        let wrong_sha = sha256_base64(b"other bytes");

        let key = format!("sum/right-{size}");
        let stored = client
            .put_file_object(
                None,
                None,
                &key,
                Some(&right_crc),
                Some(&right_sha),
                data.clone(),
            )
            .await
            .expect("matching checksums are accepted")
            .into_inner()
            .data;
        assert_eq!(stored.checksum, right_crc);

        for (crc, sha) in [
            (Some(&wrong_crc), None),
            (None, Some(&wrong_sha)),
            (Some(&right_crc), Some(&wrong_sha)),
        ] {
            let key = format!("sum/wrong-{size}");
            // With a declared length (one PutObject, streamed past a part: its last chunk is
            // held back until the checksums match) ...
            assert_client_error(
                client
                    .put_file_object(
                        None,
                        None,
                        &key,
                        crc.map(String::as_str),
                        sha.map(String::as_str),
                        data.clone(),
                    )
                    .await,
                400,
                "checksum-mismatch",
            );
            assert!(object(&server, &key).await.is_none(), "nothing stored");
            // ... and without one (a multipart upload past a part, aborted).
            let mut request = server
                .supreme(Method::PUT, &format!("/files/object?key={key}"))
                .body(chunked(&data, 1 << 20));
            if let Some(crc) = crc {
                request = request.header("x-amz-checksum-crc32c", crc);
            }
            if let Some(sha) = sha {
                request = request.header("x-amz-checksum-sha256", sha);
            }
            send(request).await.assert_error(400, "checksum-mismatch");
            assert!(object(&server, &key).await.is_none(), "nothing stored");
        }
        let answer = send(
            server
                .supreme(Method::PUT, "/files/object?key=sum/garbled")
                .header("x-amz-checksum-crc32c", "not-base64!")
                .body(data.clone()),
        )
        .await;
        answer.assert_error(400, "invalid-checksum");
    }
    server.uploads_idle().await;
    assert_eq!(
        server.state.metrics.multipart_aborts.get(),
        3,
        "each refused multipart upload was aborted"
    );
    assert_eq!(keys_in(&server, "uploads", "sum/").await.len(), 2);
}

#[tokio::test]
async fn a_wrong_checksum_on_a_multipart_upload_leaves_nothing() {
    let (server, s3, bucket) = on_moto("checksum", |_| {}).await;
    let data = test_bytes(2 * PART + 5, 4);
    // Streamed without a declared length, so Hoist uses a multipart upload.
    send(
        server
            .supreme(Method::PUT, "/files/object?key=sum/wrong.bin")
            .header("x-amz-checksum-sha256", sha256_base64(b"else"))
            .body(chunked(&data, 1 << 20)),
    )
    .await
    .assert_error(400, "checksum-mismatch");
    assert!(moto::multipart_uploads(&s3, &bucket).await.is_empty());
    assert!(!exists(&s3, &bucket, "sum/wrong.bin").await);

    // The same upload with the right SHA-256 is stored, and moto's own full-object CRC32C
    // of what it holds is the checksum Hoist returned.
    let stored = send(
        server
            .supreme(Method::PUT, "/files/object?key=sum/right.bin")
            .header("x-amz-checksum-sha256", sha256_base64(&data))
            .body(chunked(&data, 1 << 20)),
    )
    .await;
    assert_eq!(stored.status, 200, "{stored:?}");
    let checksum = stored.data()["checksum"].as_str().unwrap().to_owned();
    assert_eq!(checksum, crc32c_base64(&data));
    let head = s3
        .head_object()
        .bucket(&bucket)
        .key("sum/right.bin")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.checksum_crc32_c(), Some(checksum.as_str()));
    assert_eq!(head.checksum_type(), Some(&ChecksumType::FullObject));
    assert_eq!(head.content_length(), Some(data.len() as i64));
}
