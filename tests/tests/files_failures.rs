//! End-to-end tests of what happens when uploads go wrong (too large, client gone, store
//! gone, checksum wrong), of per-key delete failures, and of STS-assumed roles. Most run on
//! moto, whose ListMultipartUploads shows what an upload left behind; the STS test runs on a
//! moto of its own with signature checks switched on.

use std::io;
use std::time::Duration;

use aws_sdk_s3::types::{ChecksumMode, ChecksumType};
use bytes::Bytes;
use futures_util::stream;
use hoist_server::config::BucketRoute;
use hoist_tests::assert_error;
use hoist_tests::form::{self, Field};
use hoist_tests::moto::{self, DedicatedMoto};
use hoist_tests::proxy::KillableProxy;
use hoist_tests::{
    StandaloneStore, TestServer, crc32c_base64, s3_client, sha256_base64, test_bytes,
};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PART: usize = 5 * 1024 * 1024;

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

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("an answer");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn chunked(data: &Bytes, chunk: usize) -> reqwest::Body {
    let chunks: Vec<Result<Bytes, io::Error>> = (0..data.len())
        .step_by(chunk)
        .map(|start| Ok(data.slice(start..(start + chunk).min(data.len()))))
        .collect();
    reqwest::Body::wrap_stream(stream::iter(chunks))
}

async fn exists(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> bool {
    s3.head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .is_ok()
}

/// Polls ground truth until `check` holds; a bounded wait for something the test caused, not
/// a timing assertion.
async fn eventually<F: Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    for _ in 0..600 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen within 30 s");
}

#[tokio::test]
async fn an_oversized_upload_is_refused_with_413_and_leaves_nothing() {
    let (server, s3, bucket) = on_moto("oversize", |settings| {
        settings.upload.max_file_size = 2 * PART as u64 + 100;
    })
    .await;
    let data = test_bytes(3 * PART, 1);
    let supreme = server.token(true);

    // Raw, streamed without a length: refused when the limit is crossed, in the third part.
    let (status, body) = send(
        server
            .http()
            .put(server.url("/files/object?key=big/raw.bin"))
            .bearer_auth(&supreme)
            .body(chunked(&data, 256 * 1024)),
    )
    .await;
    assert_error(status, &body, 413, "file-too-large");
    assert!(
        moto::multipart_uploads(&s3, &bucket).await.is_empty(),
        "the multipart upload was aborted before the answer"
    );

    // A form, destination first (streamed) and file first (spooled).
    let file = Field::file("form.bin", None, data.clone());
    for fields in [
        vec![
            Field::text("prefix", "big"),
            Field::text("bucketName", ""),
            file.clone(),
        ],
        vec![
            file.clone(),
            Field::text("prefix", "big"),
            Field::text("bucketName", ""),
        ],
    ] {
        let (status, body) = send(
            server
                .http()
                .post(server.url("/files"))
                .bearer_auth(&supreme)
                .header("content-type", form::content_type())
                .body(form::streamed(&fields, 256 * 1024)),
        )
        .await;
        assert_error(status, &body, 413, "file-too-large");
        assert!(moto::multipart_uploads(&s3, &bucket).await.is_empty());
    }

    // A declared length over the limit is refused before a single body byte is sent.
    let mut socket = TcpStream::connect(server.base_url.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = format!(
        "PUT /files/object?key=big/declared.bin HTTP/1.1\r\nHost: hoist\r\n\
         Authorization: Bearer {supreme}\r\nContent-Length: 10737418240\r\n\
         Expect: 100-continue\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 12];
    socket.read_exact(&mut answer).await.unwrap();
    assert_eq!(
        &answer, b"HTTP/1.1 413",
        "answered without reading the body"
    );
    drop(socket);

    server.uploads_idle().await;
    assert!(moto::multipart_uploads(&s3, &bucket).await.is_empty());
    let listed = s3.list_objects_v2().bucket(&bucket).send().await.unwrap();
    assert!(listed.contents().is_empty(), "nothing was stored");
    assert_eq!(
        server.state.metrics.multipart_aborts.get(),
        2,
        "the two streamed uploads had started multipart uploads, both aborted"
    );
    let metrics = server.state.metrics.render();
    assert!(
        metrics.contains(r#"hoist_upload_failures_total{reason="file-too-large"} 4"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_client_that_disconnects_mid_upload_leaves_nothing() {
    let (server, s3, bucket) = on_moto("disconnect", |_| {}).await;
    let key = "gone/half.bin";
    let data = test_bytes(4 * PART, 2);
    let mut socket = TcpStream::connect(server.base_url.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = format!(
        "PUT /files/object?key={key} HTTP/1.1\r\nHost: hoist\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        server.token(true),
        data.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&data[..2 * PART + 1000]).await.unwrap();
    // Wait until Hoist has a multipart upload going, so the disconnect hits one.
    eventually("a multipart upload in moto", || {
        let (s3, bucket) = (s3.clone(), bucket.clone());
        async move { moto::multipart_uploads(&s3, &bucket).await == [key] }
    })
    .await;
    drop(socket);

    server.uploads_idle().await;
    assert!(
        moto::multipart_uploads(&s3, &bucket).await.is_empty(),
        "the multipart upload was aborted"
    );
    assert!(!exists(&s3, &bucket, key).await, "no object appeared");
    assert_eq!(server.state.metrics.multipart_aborts.get(), 1);
    assert_eq!(
        server.state.metrics.upload_buffer_bytes.get(),
        0,
        "buffers released"
    );
}

#[tokio::test]
async fn a_store_that_dies_mid_upload_gives_502_without_hanging() {
    let store = StandaloneStore::start("flaky-store").await;
    let proxy = KillableProxy::start(store.store.addr).await;
    let server = TestServer::start_with(|settings| {
        settings.upload.part_size = PART as u64;
        store.route(settings, "flaky", "flaky-store", &proxy.endpoint());
    })
    .await;

    // The body is fed by hand so the store can die while it is still being sent.
    let (feed, chunks) = tokio::sync::mpsc::channel::<Result<Bytes, io::Error>>(4);
    let body = reqwest::Body::wrap_stream(stream::unfold(chunks, |mut chunks| async move {
        chunks.recv().await.map(|chunk| (chunk, chunks))
    }));
    let request = tokio::spawn(
        server
            .http()
            .put(server.url("/files/object?bucketName=flaky&key=lost.bin"))
            .bearer_auth(server.token(true))
            .body(body)
            .send(),
    );
    let data = test_bytes(5 * PART, 3);
    let mut proxy = Some(proxy);
    let feeding = async {
        for (index, chunk) in data.chunks(256 * 1024).enumerate() {
            if index * 256 * 1024 >= 2 * PART
                && let Some(proxy) = proxy.take()
            {
                // Part 1 is on its way to the store when the store disappears.
                eventually("part 1 reaching the store", || {
                    let forwarded = proxy.forwarded_bytes();
                    async move { forwarded >= PART as u64 }
                })
                .await;
                proxy.kill().await;
            }
            if feed.send(Ok(Bytes::copy_from_slice(chunk))).await.is_err() {
                break;
            }
        }
        drop(feed);
    };
    // A hang guard, not a timing assertion: the point is that an answer comes at all.
    tokio::time::timeout(Duration::from_secs(120), feeding)
        .await
        .expect("Hoist keeps reading or stops; it does not hang the client");
    let response = tokio::time::timeout(Duration::from_secs(120), request)
        .await
        .expect("Hoist answers when its store dies")
        .unwrap()
        .expect("an HTTP answer, not a broken connection");
    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "storage-unavailable", "{body}");
    assert!(
        !body.to_string().contains("flaky-store"),
        "the cause stays in the logs: {body}"
    );
    assert!(!exists(&store.s3, "flaky-store", "lost.bin").await);
    assert_eq!(server.state.metrics.upload_buffer_bytes.get(), 0);
}

#[tokio::test]
async fn a_wrong_checksum_on_a_multipart_upload_leaves_nothing() {
    let (server, s3, bucket) = on_moto("checksum", |_| {}).await;
    let client = server.client();
    let data = test_bytes(2 * PART + 5, 4);
    match client
        .put_file_object(
            None,
            None,
            "sum/wrong.bin",
            None,
            Some(&sha256_base64(b"else")),
            data.clone(),
        )
        .await
    {
        Err(hoist_client::Error::ErrorResponse(response)) => {
            assert_eq!(response.status().as_u16(), 400);
            assert_eq!(response.error.code, "checksum-mismatch");
        }
        other => panic!("expected checksum-mismatch, got {other:?}"),
    }
    assert!(moto::multipart_uploads(&s3, &bucket).await.is_empty());
    assert!(!exists(&s3, &bucket, "sum/wrong.bin").await);

    // The same upload with the right SHA-256 is stored, and moto's own full-object CRC32C
    // of what it holds is the checksum Hoist returned.
    let stored = client
        .put_file_object(
            None,
            None,
            "sum/right.bin",
            None,
            Some(&sha256_base64(&data)),
            data.clone(),
        )
        .await
        .expect("stored")
        .into_inner()
        .data;
    assert_eq!(stored.checksum, crc32c_base64(&data));
    let head = s3
        .head_object()
        .bucket(&bucket)
        .key("sum/right.bin")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.checksum_crc32_c(), Some(stored.checksum.as_str()));
    assert_eq!(head.checksum_type(), Some(&ChecksumType::FullObject));
    assert_eq!(head.content_length(), Some(data.len() as i64));
}

#[tokio::test]
async fn per_key_delete_failures_reach_the_client() {
    let (server, s3, bucket) = on_moto("perkey", |_| {}).await;
    // moto honours bucket policies in DeleteObjects, answering AccessDenied per key.
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:DeleteObject",
            "Resource": format!("arn:aws:s3:::{bucket}/locked/*"),
        }],
    });
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    for key in ["locked/a.txt", "free/b.txt"] {
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(Bytes::from_static(b"x").into())
            .send()
            .await
            .unwrap();
    }
    let report = server
        .client()
        .delete_files(None, Some("locked/a.txt,free/b.txt"))
        .await
        .expect("a partial delete is a 200 with its failures listed")
        .into_inner()
        .data;
    assert_eq!(report.deleted, ["free/b.txt"]);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(report.errors[0].key, "locked/a.txt");
    assert_eq!(report.errors[0].code, "AccessDenied");
    assert!(!report.errors[0].message.is_empty());
    assert!(exists(&s3, &bucket, "locked/a.txt").await);
    assert!(!exists(&s3, &bucket, "free/b.txt").await);
}

/// One IAM query-protocol call to a moto that does not check signatures yet. The
/// Authorization header only tells moto which service is meant.
async fn iam(endpoint: &str, params: &[(&str, &str)]) -> String {
    let response = reqwest::Client::new()
        .post(endpoint)
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=setup/20240101/us-east-1/iam/aws4_request, \
             SignedHeaders=host, Signature=0",
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params)
                .append_pair("Version", "2010-05-08")
                .finish(),
        )
        .send()
        .await
        .expect("moto IAM answers");
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "IAM {params:?}: {status} {text}");
    text
}

fn xml_value<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
        + open.len();
    let end = xml[start..].find(&format!("</{tag}>")).unwrap() + start;
    &xml[start..end]
}

#[tokio::test]
async fn an_alias_with_a_role_arn_signs_its_calls_with_assumed_role_credentials() {
    let moto = DedicatedMoto::start().await;
    let endpoint = moto.endpoint.clone();
    // A user who may assume the role and read objects, but not write them.
    iam(
        &endpoint,
        &[("Action", "CreateUser"), ("UserName", "hoist")],
    )
    .await;
    let keys = iam(
        &endpoint,
        &[("Action", "CreateAccessKey"), ("UserName", "hoist")],
    )
    .await;
    let access_key = xml_value(&keys, "AccessKeyId").to_owned();
    let secret_key = xml_value(&keys, "SecretAccessKey").to_owned();
    let user_policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["sts:AssumeRole", "s3:GetObject", "s3:ListBucket"],
            "Resource": "*",
        }],
    });
    iam(
        &endpoint,
        &[
            ("Action", "PutUserPolicy"),
            ("UserName", "hoist"),
            ("PolicyName", "assume-and-read"),
            ("PolicyDocument", &user_policy.to_string()),
        ],
    )
    .await;
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:user/hoist"},
            "Action": "sts:AssumeRole",
        }],
    });
    iam(
        &endpoint,
        &[
            ("Action", "CreateRole"),
            ("RoleName", "tmol-upload"),
            ("AssumeRolePolicyDocument", &trust.to_string()),
        ],
    )
    .await;
    let role_policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    });
    iam(
        &endpoint,
        &[
            ("Action", "PutRolePolicy"),
            ("RoleName", "tmol-upload"),
            ("PolicyName", "s3"),
            ("PolicyDocument", &role_policy.to_string()),
        ],
    )
    .await;
    s3_client(&endpoint, moto::ACCESS_KEY, moto::SECRET_KEY)
        .create_bucket()
        .bucket("tmol-shared")
        .send()
        .await
        .unwrap();
    moto.require_signatures().await;

    let server = TestServer::start_with(|settings| {
        moto::use_bucket_on(settings, &endpoint, "plain", "tmol-shared");
        settings.upload.part_size = PART as u64;
        settings.aws.access_key_id = Some(access_key.clone());
        settings.aws.secret_access_key = Some(secret_key.clone().into());
        settings.buckets.insert(
            "tmol".into(),
            BucketRoute {
                name: Some("tmol-shared".into()),
                role_arn: Some("arn:aws:iam::123456789012:role/tmol-upload".into()),
                session_name: Some("hoist-e2e".into()),
                ..BucketRoute::default()
            },
        );
    })
    .await;
    let client = server.client();

    // The user's own credentials may not write: moto checks, and refuses.
    match client
        .put_file_object(
            Some("plain"),
            None,
            "denied.txt",
            None,
            None,
            Bytes::from_static(b"no"),
        )
        .await
    {
        Err(hoist_client::Error::ErrorResponse(response)) => {
            assert_eq!(response.status().as_u16(), 502);
            assert_eq!(response.error.code, "storage-unavailable");
        }
        other => panic!("writing without the role must fail, got {other:?}"),
    }

    // Through the role, a single PutObject and a multipart upload both land.
    let reader = s3_client(&endpoint, &access_key, &secret_key);
    for (key, size) in [("role/small.txt", 1000), ("role/large.bin", 2 * PART + 9)] {
        let data = test_bytes(size, size as u64);
        let stored = client
            .put_file_object(Some("tmol"), None, key, None, None, data.clone())
            .await
            .unwrap_or_else(|e| panic!("{key} through the role: {e:?}"))
            .into_inner()
            .data;
        assert_eq!(stored.bucket, "tmol");
        let got = reader
            .get_object()
            .bucket("tmol-shared")
            .key(key)
            .send()
            .await
            .expect("the user may read")
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes();
        assert!(got == data, "{key} byte-identical");
    }
    let listed = client
        .list_files(Some("tmol"), Some("role"))
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(listed.len(), 2);
    let report = client
        .delete_files(Some("tmol"), Some("role/small.txt"))
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(report.deleted, ["role/small.txt"]);

    // The checks are real: a forged signature is refused.
    let forger = s3_client(&endpoint, &access_key, "not-the-secret");
    let forged = forger
        .get_object()
        .bucket("tmol-shared")
        .key("role/large.bin")
        .send()
        .await;
    let code = forged
        .expect_err("moto must refuse a bad signature")
        .into_service_error()
        .meta()
        .code()
        .map(str::to_owned);
    assert_eq!(code.as_deref(), Some("SignatureDoesNotMatch"));
}
