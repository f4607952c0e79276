//! End-to-end tests of `POST /images`: real images round-trip byte-identical (read back with
//! an independent S3 client), every refusal leaves the bucket empty, keys are fresh and safe,
//! and oversized bodies are refused without being read.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_s3::types::ChecksumMode;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hoist_tests::TestServer;
use hoist_tests::assert_error;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PNG: &[u8] = include_bytes!("../../server/tests/fixtures/images/pixel.png");
const GIF: &[u8] = include_bytes!("../../server/tests/fixtures/images/pixel.gif");
const JPEG: &[u8] = include_bytes!("../../server/tests/fixtures/images/pixel.jpg");

/// The real bucket behind the `images` alias in the checked-in routes.toml.
const IMAGES_BUCKET: &str = "hoist-images";

const GIB: u64 = 1024 * 1024 * 1024;

async fn post_image(server: &TestServer, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = server.http().post(server.url("/images")).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the request is answered");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// Every key in the images bucket, read past Hoist.
async fn stored_keys(server: &TestServer) -> Vec<String> {
    let listing = server
        .embedded_s3()
        .list_objects_v2()
        .bucket(IMAGES_BUCKET)
        .send()
        .await
        .expect("the store lists the bucket");
    listing
        .contents()
        .iter()
        .filter_map(|object| object.key().map(str::to_owned))
        .collect()
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

#[tokio::test]
async fn real_images_round_trip_byte_identical() {
    let server = TestServer::start().await;
    let user = server.token(false);
    let s3 = server.embedded_s3();
    for (bytes, content_type, file_name, ext) in [
        (PNG, "image/png", "Red Pixel.png", "png"),
        (GIF, "image/gif", "red-pixel.gif", "gif"),
        (JPEG, "image/jpeg", "red_pixel.jpeg", "jpg"),
    ] {
        let (status, body) = post_image(
            &server,
            Some(&user),
            &json!({
                "base64": STANDARD.encode(bytes),
                "contentType": content_type,
                "fileName": file_name,
            }),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let data = &body["data"];
        let key = data["key"].as_str().unwrap();
        let stem = file_name.split('.').next().unwrap().replace(' ', "_");
        assert!(key.starts_with(&format!("{stem}_")), "{key}");
        assert!(is_safe_name(key, ext), "{key}");
        assert_eq!(data["name"], key, "no prefix is configured");
        assert_eq!(data["bucket"], "images");
        assert_eq!(data["size"], bytes.len());
        assert_eq!(data["contentType"], content_type);
        assert!(
            data["url"].as_str().unwrap().ends_with(&format!("/{key}")),
            "{data}"
        );

        let object = s3
            .get_object()
            .bucket(IMAGES_BUCKET)
            .key(key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .expect("the object exists in the images bucket");
        assert_eq!(object.content_type(), Some(content_type));
        assert_eq!(
            object.checksum_crc32_c(),
            data["checksum"].as_str(),
            "the store holds the checksum Hoist reported"
        );
        let stored = object.body.collect().await.unwrap().into_bytes();
        assert_eq!(&stored[..], bytes, "{content_type} is byte-identical");
    }
    assert_eq!(stored_keys(&server).await.len(), 3);
}

#[tokio::test]
async fn the_generated_client_uploads_a_data_url() {
    let server = TestServer::start().await;
    // A data URL with MIME line breaks, as some encoders produce.
    let wrapped: Vec<String> = STANDARD
        .encode(GIF)
        .as_bytes()
        .chunks(16)
        .map(|line| String::from_utf8(line.to_vec()).unwrap())
        .collect();
    let upload = hoist_client::types::ImageUpload {
        base64: format!("data:image/gif;base64,{}", wrapped.join("\r\n")),
        content_type: "image/gif".into(),
        file_name: None,
    };
    let stored = server
        .client()
        .upload_image(&upload)
        .await
        .expect("the image is stored")
        .into_inner()
        .data;
    assert!(stored.key.starts_with("image_"), "{}", stored.key);
    assert!(is_safe_name(&stored.key, "gif"), "{}", stored.key);
    assert_eq!(stored.size, GIF.len() as u64);

    let object = server
        .embedded_s3()
        .get_object()
        .bucket(IMAGES_BUCKET)
        .key(&stored.key)
        .send()
        .await
        .unwrap();
    assert_eq!(&object.body.collect().await.unwrap().into_bytes()[..], GIF);

    // Refusals reach the generated client as the error envelope.
    let mismatch = hoist_client::types::ImageUpload {
        base64: URL_SAFE_NO_PAD.encode(PNG),
        content_type: "image/gif".into(),
        file_name: Some("not really.gif".into()),
    };
    match server.client().upload_image(&mismatch).await {
        Err(hoist_client::Error::ErrorResponse(response)) => {
            assert_eq!(response.status().as_u16(), 415);
            assert_eq!(response.error.code, "content-type-mismatch");
        }
        other => panic!("expected a 415 error envelope, got {other:?}"),
    }
    assert_eq!(stored_keys(&server).await, [stored.key]);
}

#[tokio::test]
async fn every_refusal_stores_nothing() {
    // A small maximum, so an oversized image is a few bytes.
    let server = TestServer::start_with(|settings| settings.images.max_size = 64).await;
    let user = server.token(false);
    // Both under the 64-byte maximum, so they are refused for what they are.
    let html = b"<html><script>alert(document.cookie)</script></html>";
    let pdf = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n";
    let cases = [
        (
            json!({"base64": STANDARD.encode(GIF), "contentType": "image/svg+xml"}),
            415,
            "unsupported-content-type",
        ),
        (
            json!({"base64": STANDARD.encode(GIF), "contentType": "text/html"}),
            415,
            "unsupported-content-type",
        ),
        (
            json!({"base64": STANDARD.encode(GIF), "contentType": "image/jpeg"}),
            415,
            "content-type-mismatch",
        ),
        (
            json!({"base64": STANDARD.encode(pdf), "contentType": "image/gif"}),
            415,
            "content-type-mismatch",
        ),
        (
            json!({"base64": STANDARD.encode(html), "contentType": "image/gif", "fileName": "cat.gif"}),
            415,
            "content-type-mismatch",
        ),
        (
            json!({"base64": format!("data:image/png;base64,{}", STANDARD.encode(GIF)), "contentType": "image/gif"}),
            415,
            "content-type-mismatch",
        ),
        (
            // The 69-byte PNG is over the 64-byte maximum.
            json!({"base64": STANDARD.encode(PNG), "contentType": "image/png"}),
            413,
            "file-too-large",
        ),
        (
            json!({"base64": "R0lGOD!!", "contentType": "image/gif"}),
            400,
            "invalid-base64",
        ),
        (
            json!({"base64": "", "contentType": "image/gif"}),
            400,
            "invalid-base64",
        ),
        (json!({"base64": STANDARD.encode(GIF)}), 400, "bad-request"),
        (json!({"contentType": "image/gif"}), 400, "bad-request"),
        (
            json!({"base64": ["R0lGODdh"], "contentType": "image/gif"}),
            400,
            "bad-request",
        ),
    ];
    for (body, status, code) in &cases {
        let (got_status, got) = post_image(&server, Some(&user), body).await;
        assert_eq!(
            (got_status, &got["error"]["code"]),
            (*status, &json!(code)),
            "{body}"
        );
        assert_error(got_status, &got, *status, code);
    }
    let (status, body) = post_image(
        &server,
        None,
        &json!({"base64": STANDARD.encode(GIF), "contentType": "image/gif"}),
    )
    .await;
    assert_error(status, &body, 401, "unauthorized");
    let (status, body) = post_image(
        &server,
        Some("not.a.jwt"),
        &json!({"base64": STANDARD.encode(GIF), "contentType": "image/gif"}),
    )
    .await;
    assert_error(status, &body, 401, "invalid-token");

    assert!(
        stored_keys(&server).await.is_empty(),
        "a refusal stores nothing"
    );
    // The refusals are counted by reason.
    let metrics = server.metrics().await;
    assert!(
        metrics.contains(r#"hoist_upload_failures_total{reason="content-type-mismatch"} 4"#),
        "{metrics}"
    );

    // The same image within the limit is stored: the refusals above were for their reasons.
    let (status, body) = post_image(
        &server,
        Some(&user),
        &json!({"base64": STANDARD.encode(GIF), "contentType": "image/gif"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(stored_keys(&server).await.len(), 1);
}

#[tokio::test]
async fn the_same_file_name_twice_gets_two_keys() {
    let server = TestServer::start().await;
    let user = server.token(false);
    let upload = json!({
        "base64": STANDARD.encode(PNG),
        "contentType": "image/png",
        "fileName": "avatar.png",
    });
    let (_, first) = post_image(&server, Some(&user), &upload).await;
    let (_, second) = post_image(&server, Some(&user), &upload).await;
    let first = first["data"]["key"].as_str().unwrap().to_owned();
    let second = second["data"]["key"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert!(first.starts_with("avatar_") && second.starts_with("avatar_"));
    let mut stored = stored_keys(&server).await;
    stored.sort();
    let mut expected = vec![first, second];
    expected.sort();
    assert_eq!(stored, expected, "both images are kept");
}

#[tokio::test]
async fn hostile_file_names_give_safe_keys_under_the_prefix() {
    let server = TestServer::start_with(|settings| {
        settings.images.prefix = Some("/avatars//2024".into());
    })
    .await;
    let user = server.token(false);
    let cases = [
        ("../../etc/passwd", "passwd"),
        ("a/b.png", "b"),
        ("..\\..\\windows\\win.ini", "win"),
        ("Fotó Ünïcödé.png", "Foto_Unicode"),
        ("照片.png", "image"),
        ("..", "image"),
        ("x\u{0}\r\nSet-Cookie: a=b.png", "x_Set-Cookie_a_b"),
        ("%2e%2e%2fsecret.png", "2e_2e_2fsecret"),
    ];
    let mut keys = Vec::new();
    for (file_name, expected) in cases {
        let (status, body) = post_image(
            &server,
            Some(&user),
            &json!({
                "base64": STANDARD.encode(PNG),
                "contentType": "image/png",
                "fileName": file_name,
            }),
        )
        .await;
        assert_eq!(status, 200, "{file_name:?}: {body}");
        let key = body["data"]["key"].as_str().unwrap().to_owned();
        let name = key
            .strip_prefix("avatars/2024/")
            .unwrap_or_else(|| panic!("{key} is under the normalized prefix"));
        assert!(is_safe_name(name, "png"), "{file_name:?} gave {key}");
        assert!(
            name.starts_with(&format!("{expected}_")),
            "{file_name:?} gave {key}"
        );
        assert_eq!(body["data"]["name"], name);
        keys.push(key);
    }
    let mut stored = stored_keys(&server).await;
    stored.sort();
    keys.sort();
    assert_eq!(
        stored, keys,
        "every image is where its key says, nowhere else"
    );
}

/// Sends a request by hand and reads the answer until the server closes the connection.
async fn raw_exchange(server: &TestServer, head: &str, body: &[u8]) -> (u16, Value) {
    let address = server.base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8(response).expect("a text response");
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    (status, serde_json::from_str(body).expect("a JSON body"))
}

#[tokio::test]
async fn a_body_declared_too_large_is_refused_unread() {
    let server = TestServer::start().await;
    let user = server.token(false);
    // 1 GiB announced, not a byte sent: the answer can only come from the header.
    let head = format!(
        "POST /images HTTP/1.1\r\nHost: hoist\r\nAuthorization: Bearer {user}\r\n\
         Content-Type: application/json\r\nContent-Length: {GIB}\r\n\r\n"
    );
    let (status, body) = raw_exchange(&server, &head, b"").await;
    assert_error(status, &body, 413, "file-too-large");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("request body"),
        "{body}"
    );

    // Without a valid token the same request is turned away before its size matters.
    let anonymous = format!(
        "POST /images HTTP/1.1\r\nHost: hoist\r\nContent-Type: application/json\r\n\
         Content-Length: {GIB}\r\n\r\n"
    );
    let (status, body) = raw_exchange(&server, &anonymous, b"").await;
    assert_error(status, &body, 401, "unauthorized");
    assert!(stored_keys(&server).await.is_empty());
}

#[tokio::test]
async fn a_streamed_body_is_cut_off_at_the_limit() {
    let server = TestServer::start_with(|settings| settings.images.max_size = 1024 * 1024).await;
    let limit = hoist_server::images::body_limit(1024 * 1024);
    // A chunked body (no Content-Length) that would be 1 GiB of JSON if read to the end.
    let sent = Arc::new(AtomicU64::new(0));
    let chunk = bytes::Bytes::from(vec![b'A'; 64 * 1024]);
    let counter = sent.clone();
    let start = bytes::Bytes::from_static(br#"{"contentType":"image/png","base64":""#);
    let chunks = std::iter::once(start).chain(std::iter::repeat_n(chunk, (GIB / 65536) as usize));
    let stream = futures_util::stream::iter(chunks.map(move |chunk| {
        counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        Ok::<_, std::io::Error>(chunk)
    }));
    let response = server
        .http()
        .post(server.url("/images"))
        .bearer_auth(server.token(false))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .expect("the refusal arrives before the body is sent");
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_error(status, &body, 413, "file-too-large");
    let sent = sent.load(Ordering::Relaxed);
    assert!(sent > limit, "the client got to send more than the limit");
    assert!(
        sent < 64 * 1024 * 1024,
        "the server stopped reading near the limit ({limit} bytes), not after {sent}"
    );
    assert!(stored_keys(&server).await.is_empty());
}

#[tokio::test]
async fn a_compressed_body_is_limited_by_its_inflated_size() {
    use std::io::Write;
    let server = TestServer::start_with(|settings| settings.images.max_size = 1024 * 1024).await;
    // About 100 MiB of JSON that gzip packs into about 100 KiB.
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(br#"{"contentType":"image/png","base64":""#)
        .unwrap();
    let block = vec![b'A'; 1024 * 1024];
    for _ in 0..100 {
        gzip.write_all(&block).unwrap();
    }
    gzip.write_all(br#""}"#).unwrap();
    let compressed = gzip.finish().unwrap();
    assert!(compressed.len() < 1024 * 1024);

    let response = server
        .http()
        .post(server.url("/images"))
        .bearer_auth(server.token(false))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(compressed)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_error(status, &body, 413, "file-too-large");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("request body"),
        "refused while inflating, not after: {body}"
    );
}
