//! The body limit of `POST /images`: a declared length over it is refused unread, a streamed
//! body is cut off near it, and a compressed body is limited by its inflated size.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hoist_tests::{Answer, TestServer, assert_error, send};
use reqwest::Method;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::stored_keys;

const GIB: u64 = 1024 * 1024 * 1024;

/// Sends a request by hand and reads the answer until the server closes the connection.
async fn raw_exchange(server: &TestServer, head: &str, body: &[u8]) -> (u16, Value) {
    let mut stream = server.connect().await;
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
        .request(Method::POST, "/images", Some(&server.token(false)))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .expect("the refusal arrives before the body is sent");
    Answer::read(response)
        .await
        .assert_error(413, "file-too-large");
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

    let answer = send(
        server
            .request(Method::POST, "/images", Some(&server.token(false)))
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(compressed),
    )
    .await;
    answer.assert_error(413, "file-too-large");
    assert!(
        answer.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("request body"),
        "refused while inflating, not after: {answer:?}"
    );
}
