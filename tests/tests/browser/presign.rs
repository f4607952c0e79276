//! Presigned URLs as a browser or phone uses them: bytes PUT to the URL (with exactly the
//! headers Hoist returned) are read back with the test's own S3 client, a GET URL serves them,
//! the lifetime is capped by the token, and the refusals of an upload apply. On the embedded
//! store (s3s checks SigV4 signatures) a request that changes a signed header is refused by
//! the store itself.

use std::time::{Duration, SystemTime};

use hoist_tests::presign::{presign, use_url};
use hoist_tests::{TestServer, moto, send, sha256_base64, test_bytes};
use serde_json::json;

fn seconds_until(rfc3339: &str) -> i64 {
    let at = humantime::parse_rfc3339(rfc3339).expect("expiresAt is RFC 3339");
    match at.duration_since(SystemTime::now()) {
        Ok(left) => left.as_secs() as i64,
        Err(past) => -(past.duration().as_secs() as i64),
    }
}

async fn on_moto() -> (TestServer, String) {
    let bucket = moto::unique_bucket("presign");
    moto::create_bucket(&bucket).await;
    let server = TestServer::start_with(|settings| {
        moto::use_bucket_on(settings, &moto::endpoint(), "direct", &bucket);
        settings.files.default_bucket = Some("direct".into());
    })
    .await;
    (server, bucket)
}

#[tokio::test]
async fn bytes_put_to_a_presigned_url_are_stored_and_a_get_url_serves_them() {
    let (server, bucket) = on_moto().await;
    let token = server
        .state
        .auth
        .mint(Some("browser".into()), true, Duration::from_secs(7200))
        .expect("dev tokens");
    let data = test_bytes(300_000, 7);
    let issued = presign(
        &server,
        &token,
        json!({"key": "direct/report.pdf", "method": "PUT", "contentType": "application/pdf"}),
    )
    .await;
    let put = issued.data();
    assert_eq!(put["method"], "PUT");
    assert_eq!(put["headers"]["content-type"], "application/pdf");
    let left = seconds_until(put["expiresAt"].as_str().unwrap());
    assert!((890..=900).contains(&left), "the default 15 min: {left}");
    assert!(!put["url"].as_str().unwrap().contains("Bearer"));
    let response = use_url(put, Some(data.to_vec())).await;
    assert!(response.status().is_success(), "{}", response.status());

    let object = moto::s3()
        .get_object()
        .bucket(&bucket)
        .key("direct/report.pdf")
        .send()
        .await
        .expect("moto has the object");
    assert_eq!(object.content_type(), Some("application/pdf"));
    let stored = object.body.collect().await.unwrap().into_bytes();
    assert!(stored == data, "byte-identical");

    let issued = presign(
        &server,
        &token,
        json!({"key": "direct/report.pdf", "method": "GET", "expiresIn": 60}),
    )
    .await;
    let get = issued.data();
    assert_eq!(get["expiresIn"], 60);
    let response = use_url(get, None).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.bytes().await.unwrap() == data,
        "served through the URL"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_url_never_outlives_the_token_or_the_maximum() {
    let (server, _) = on_moto().await;
    let short = server
        .state
        .auth
        .mint(Some("phone".into()), true, Duration::from_secs(120))
        .expect("dev tokens");
    let issued = presign(
        &server,
        &short,
        json!({"key": "a/b.bin", "method": "PUT", "expiresIn": 3000}),
    )
    .await;
    let left = seconds_until(issued.data()["expiresAt"].as_str().unwrap());
    assert!(
        (110..=120).contains(&left),
        "capped by the 120 s token: {left}"
    );
    let url = issued.data()["url"].as_str().unwrap().to_owned();
    let expires = url
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("X-Amz-Expires="))
        .expect("a SigV4 presigned URL");
    assert!(expires.parse::<u64>().unwrap() <= 120, "{url}");

    let long = presign(
        &server,
        &server.token(true),
        json!({"key": "a/b.bin", "method": "GET", "expiresIn": 86_400}),
    )
    .await;
    // The test token lives 600 s, under the 1 h maximum.
    assert!(long.data()["expiresIn"].as_u64().unwrap() <= 600);
    server.stop().await;
}

#[tokio::test]
async fn the_checks_of_an_upload_apply_and_only_supreme_tokens_presign() {
    let (server, _) = on_moto().await;
    let token = server.token(true);
    for (body, status, code) in [
        (
            json!({"key": "../etc/passwd", "method": "PUT"}),
            400,
            "invalid-key",
        ),
        (
            json!({"key": "a/../b", "method": "GET"}),
            400,
            "invalid-key",
        ),
        (
            json!({"key": "a.txt", "method": "PUT", "bucketName": "nope"}),
            400,
            "unknown-bucket",
        ),
        (
            json!({"key": "a.txt", "method": "PUT", "expiresIn": 0}),
            400,
            "bad-request",
        ),
        (
            json!({"key": "a.txt", "method": "DELETE"}),
            400,
            "bad-request",
        ),
        (
            json!({"key": "a.txt", "method": "PUT", "contentType": "not a type"}),
            400,
            "invalid-content-type",
        ),
        (
            json!({"key": "a.txt", "method": "PUT", "checksumSha256": "short"}),
            400,
            "invalid-checksum",
        ),
        (
            json!({"key": "a.txt", "method": "GET", "contentType": "text/plain"}),
            400,
            "bad-request",
        ),
    ] {
        presign(&server, &token, body.clone())
            .await
            .assert_error(status, code);
    }
    let body = json!({"key": "a.txt", "method": "GET"});
    presign(&server, &server.token(false), body.clone())
        .await
        .assert_error(403, "forbidden");
    send(server.http().post(server.url("/files/presign")).json(&body))
        .await
        .assert_error(401, "unauthorized");
    server.stop().await;
}

#[tokio::test]
async fn the_store_refuses_a_request_that_changes_what_was_signed() {
    // The embedded s3s store checks SigV4 signatures, as S3 does.
    let server = TestServer::start().await;
    let token = server.token(true);
    let issued = presign(
        &server,
        &token,
        json!({"key": "signed/page.html", "method": "PUT", "contentType": "text/html"}),
    )
    .await;
    let put = issued.data().clone();
    // Active content gets the attachment disposition, which the uploader must send too.
    assert_eq!(
        put["headers"]["content-disposition"],
        "attachment; filename=\"page.html\""
    );
    let mut tampered = reqwest::Client::new()
        .put(put["url"].as_str().unwrap())
        .header("content-type", "text/plain");
    tampered = tampered.body("<script>alert(1)</script>");
    let refused = tampered.send().await.unwrap();
    assert_eq!(
        refused.status(),
        403,
        "another content type breaks the signature"
    );
    assert!(
        server
            .stored_keys("hoist-uploads", "signed/")
            .await
            .is_empty(),
        "nothing stored"
    );
    let response = use_url(&put, Some(b"<p>hello</p>".to_vec())).await;
    assert!(response.status().is_success(), "{}", response.status());
    let object = server
        .embedded_s3()
        .head_object()
        .bucket("hoist-uploads")
        .key("signed/page.html")
        .send()
        .await
        .expect("stored");
    assert_eq!(object.content_type(), Some("text/html"));
    assert_eq!(
        object.content_disposition(),
        Some("attachment; filename=\"page.html\"")
    );

    // A URL signed with a SHA-256: the store refuses other bytes.
    let good = test_bytes(10_000, 3);
    let issued = presign(
        &server,
        &token,
        json!({"key": "signed/data.bin", "method": "PUT", "checksumSha256": sha256_base64(&good)}),
    )
    .await;
    let put = issued.data().clone();
    assert_eq!(
        put["headers"]["x-amz-checksum-sha256"],
        sha256_base64(&good)
    );
    let wrong = use_url(&put, Some(test_bytes(10_000, 4).to_vec())).await;
    assert_eq!(wrong.status(), 400);
    assert!(wrong.text().await.unwrap().contains("BadDigest"));
    // (s3s-fs 0.14.1 keeps the refused bytes on disk, where S3 stores nothing; the right
    // bytes then replace them.)
    let right = use_url(&put, Some(good.to_vec())).await;
    assert!(right.status().is_success(), "{}", right.status());
    let stored = server
        .embedded_s3()
        .get_object()
        .bucket("hoist-uploads")
        .key("signed/data.bin")
        .send()
        .await
        .expect("stored")
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    assert!(stored == good, "the signed bytes");
    server.stop().await;
}
