//! Content safety per alias, on moto (whose HEAD shows `Content-Disposition`): what a
//! browser would run is stored as a download, sniffing never turns a declared type into an
//! active one, and `allowed_types` refuses every other type on every upload route.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use hoist_tests::form::{self, Field};
use hoist_tests::{TestServer, moto, send};
use reqwest::Method;
use serde_json::json;

/// Hoist on a moto bucket of its own, with `configure` applied to its only alias.
async fn on_moto(
    name: &str,
    configure: impl FnOnce(&mut hoist_server::config::BucketRoute),
) -> (TestServer, aws_sdk_s3::Client, String) {
    let bucket = moto::unique_bucket(name);
    let s3 = moto::create_bucket(&bucket).await;
    let server = TestServer::start_with(|settings| {
        moto::use_bucket_on(settings, &moto::endpoint(), "uploads", &bucket);
        settings.upload.part_size = 5 * 1024 * 1024;
        configure(settings.buckets.get_mut("uploads").expect("the alias"));
    })
    .await;
    (server, s3, bucket)
}

async fn put(
    server: &TestServer,
    key: &str,
    content_type: Option<&str>,
    body: &'static [u8],
) -> hoist_tests::Answer {
    let mut request = server.supreme(Method::PUT, &format!("/files/object?key={key}"));
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    send(request.body(body)).await
}

/// The stored type and disposition, read with the test's own client.
async fn head(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> (String, Option<String>) {
    let object = s3
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("stored");
    (
        object.content_type().unwrap_or_default().to_owned(),
        object.content_disposition().map(str::to_owned),
    )
}

const HTML: &[u8] = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>";
const PNG: &[u8] = include_bytes!("../../../server/tests/fixtures/images/pixel.png");
const GIF: &[u8] = include_bytes!("../../../server/tests/fixtures/images/pixel.gif");

#[tokio::test]
async fn active_content_is_stored_as_an_attachment() {
    let (server, s3, bucket) = on_moto("active", |_| {}).await;
    for (key, content_type) in [
        ("page.html", "text/html; charset=utf-8"),
        ("logo.svg", "image/svg+xml"),
        ("doc.xhtml", "application/xhtml+xml"),
        ("app.js", "text/javascript"),
    ] {
        let answer = put(&server, key, Some(content_type), HTML).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        let (stored, disposition) = head(&s3, &bucket, key).await;
        assert_eq!(stored, content_type);
        assert_eq!(
            disposition.as_deref(),
            Some(format!("attachment; filename=\"{key}\"").as_str())
        );
    }
    // The multipart form route and a name that is not ASCII.
    let form = form::whole(&[Field::file(
        "café.svg",
        Some("image/svg+xml"),
        Bytes::from_static(HTML),
    )]);
    let answer = send(form::post(&server, "", form)).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let (_, disposition) = head(&s3, &bucket, "café.svg").await;
    assert_eq!(
        disposition.as_deref(),
        Some("attachment; filename=\"caf_.svg\"; filename*=UTF-8''caf%C3%A9.svg")
    );
    // A multipart upload (over one 5 MiB part) carries it too.
    let big = Bytes::from([HTML, &vec![b' '; 6 * 1024 * 1024][..]].concat());
    let answer = send(
        server
            .supreme(Method::PUT, "/files/object?key=big.html")
            .header("content-type", "text/html")
            .body(big),
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        head(&s3, &bucket, "big.html").await.1.as_deref(),
        Some("attachment; filename=\"big.html\"")
    );
    // Passive content is stored as sent.
    assert_eq!(
        put(&server, "notes.txt", Some("text/plain"), b"hello")
            .await
            .status,
        200
    );
    assert_eq!(
        head(&s3, &bucket, "notes.txt").await,
        ("text/plain".to_owned(), None)
    );
}

#[tokio::test]
async fn sniffing_never_makes_a_declared_type_active() {
    let (server, s3, bucket) = on_moto("sniff", |_| {}).await;
    // Declared image/png, bytes of HTML: the declared type stays, as a download.
    assert_eq!(
        put(&server, "x.png", Some("image/png"), HTML).await.status,
        200
    );
    assert_eq!(
        head(&s3, &bucket, "x.png").await,
        (
            "image/png".to_owned(),
            Some("attachment; filename=\"x.png\"".to_owned())
        )
    );
    // No type, or the generic one: HTML bytes are not upgraded to text/html.
    for (key, declared) in [
        ("untyped", None),
        ("generic", Some("application/octet-stream")),
    ] {
        let answer = put(&server, key, declared, HTML).await;
        assert_eq!(
            answer.data()["contentType"],
            "application/octet-stream",
            "{answer:?}"
        );
        let (stored, disposition) = head(&s3, &bucket, key).await;
        assert_eq!(stored, "application/octet-stream");
        assert!(disposition.is_some());
    }
}

#[tokio::test]
async fn inline_active_content_is_stored_as_sent() {
    let (server, s3, bucket) = on_moto("inline", |alias| alias.inline_active_content = true).await;
    assert_eq!(
        put(&server, "page.html", Some("text/html"), HTML)
            .await
            .status,
        200
    );
    assert_eq!(
        head(&s3, &bucket, "page.html").await,
        ("text/html".to_owned(), None)
    );
}

#[tokio::test]
async fn allowed_types_refuse_what_they_do_not_list_on_every_route() {
    let (server, s3, bucket) = on_moto("allowed", |alias| {
        alias.allowed_types = Some(vec!["image/png".into(), "application/*".into()]);
    })
    .await;
    put(&server, "page.html", Some("text/html"), HTML)
        .await
        .assert_error(415, "unsupported-content-type");
    // Sniffed: plain bytes with no type are application/octet-stream (allowed by
    // `application/*`), HTML bytes too (never text/html); a PNG sniffs as image/png.
    assert_eq!(
        put(&server, "pixel", None, PNG).await.data()["contentType"],
        "image/png"
    );
    assert_eq!(
        put(&server, "doc.pdf", Some("application/pdf"), b"%PDF-1.7")
            .await
            .status,
        200
    );
    let form = form::whole(&[Field::file(
        "notes.txt",
        Some("text/plain"),
        Bytes::from_static(b"hi"),
    )]);
    send(form::post(&server, "", form))
        .await
        .assert_error(415, "unsupported-content-type");
    let image = json!({"base64": STANDARD.encode(PNG), "contentType": "image/png"});
    assert_eq!(
        send(server.supreme(Method::POST, "/images").json(&image))
            .await
            .status,
        200
    );
    let gif = json!({"base64": STANDARD.encode(GIF), "contentType": "image/gif"});
    send(server.supreme(Method::POST, "/images").json(&gif))
        .await
        .assert_error(415, "unsupported-content-type");
    let stored = s3
        .list_objects_v2()
        .bucket(&bucket)
        .send()
        .await
        .expect("listed");
    let mut keys: Vec<&str> = stored.contents().iter().filter_map(|o| o.key()).collect();
    keys.retain(|key| !key.starts_with("image_"));
    keys.sort_unstable();
    assert_eq!(keys, ["doc.pdf", "pixel"], "nothing refused was stored");
}
