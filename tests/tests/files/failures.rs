//! Uploads that go wrong: too large (refused with 413, even before the body when the length
//! is declared), a client that disconnects halfway, a store that dies mid-upload, each for a
//! multipart upload and for a streamed PutObject. Each leaves nothing behind: no object, no
//! multipart upload, no buffer, no temporary file in the store.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use hoist_tests::form::{self, Field};
use hoist_tests::proxy::KillableProxy;
use hoist_tests::{
    Answer, StandaloneStore, TestServer, chunked, eventually, moto, send, test_bytes,
};
use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{PART, exists, on_moto};

#[tokio::test]
async fn an_oversized_upload_is_refused_with_413_and_leaves_nothing() {
    let (server, s3, bucket) = on_moto("oversize", |settings| {
        settings.upload.max_file_size = 2 * PART as u64 + 100;
    })
    .await;
    let data = test_bytes(3 * PART, 1);
    let supreme = server.token(true);

    // Raw, streamed without a length: refused when the limit is crossed, in the third part.
    send(
        server
            .supreme(Method::PUT, "/files/object?key=big/raw.bin")
            .body(chunked(&data, 256 * 1024)),
    )
    .await
    .assert_error(413, "file-too-large");
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
        send(form::post(&server, "", form::streamed(&fields, 256 * 1024)))
            .await
            .assert_error(413, "file-too-large");
        assert!(moto::multipart_uploads(&s3, &bucket).await.is_empty());
    }

    // A declared length over the limit is refused before a single body byte is sent.
    let mut socket = server.connect().await;
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
    let mut socket = server.connect().await;
    // Chunked, so no length is declared and Hoist uses a multipart upload.
    let head = format!(
        "PUT /files/object?key={key} HTTP/1.1\r\nHost: hoist\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
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
async fn a_client_that_disconnects_mid_streamed_put_leaves_nothing() {
    let store = StandaloneStore::start("gone-store").await;
    let proxy = KillableProxy::start(store.store.addr).await;
    let server = TestServer::start_with(|settings| {
        settings.upload.part_size = PART as u64;
        store.route(settings, "gone", "gone-store", &proxy.endpoint());
    })
    .await;
    let key = "gone/half.bin";
    let data = test_bytes(4 * PART, 5);
    let mut socket = server.connect().await;
    // A declared length: one PutObject, streamed while the body arrives.
    let head = format!(
        "PUT /files/object?bucketName=gone&key={key} HTTP/1.1\r\nHost: hoist\r\n\
         Authorization: Bearer {}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {}\r\n\r\n",
        server.token(true),
        data.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&data[..2 * PART + 1000]).await.unwrap();
    eventually("a part's worth of bytes reaching the store", || {
        let forwarded = proxy.forwarded_bytes();
        async move { forwarded >= PART as u64 }
    })
    .await;
    drop(socket);

    server.uploads_idle().await;
    assert!(
        !exists(&store.s3, "gone-store", key).await,
        "no object appeared"
    );
    assert_eq!(
        server.state.metrics.upload_buffer_bytes.get(),
        0,
        "buffers released"
    );
    // The store saw a body end short of its length and kept none of it, not even a
    // temporary file.
    let root = store.store.root().to_path_buf();
    eventually("the store's temporary file removed", || {
        let root = root.clone();
        async move {
            std::fs::read_dir(&root)
                .unwrap()
                .flatten()
                .all(|entry| !entry.file_name().to_string_lossy().starts_with(".tmp."))
        }
    })
    .await;
}

#[tokio::test]
async fn a_store_that_dies_mid_upload_gives_502_without_hanging() {
    store_dies_mid_upload(false).await;
}

#[tokio::test]
async fn a_store_that_dies_mid_streamed_put_gives_502_without_hanging() {
    store_dies_mid_upload(true).await;
}

/// The store disappears after a part's worth of bytes reached it; with `declared_length` the
/// upload is one streamed PutObject, else a multipart upload.
async fn store_dies_mid_upload(declared_length: bool) {
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
    let data = test_bytes(5 * PART, 3);
    let mut request = server.supreme(Method::PUT, "/files/object?bucketName=flaky&key=lost.bin");
    if declared_length {
        request = request.header("content-length", data.len());
    }
    let request = tokio::spawn(request.body(body).send());
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
    let answer = Answer::read(response).await;
    assert_eq!(answer.status, 502);
    let body = &answer.body;
    assert_eq!(body["error"]["code"], "storage-unavailable", "{body}");
    assert!(
        !body.to_string().contains("flaky-store"),
        "the cause stays in the logs: {body}"
    );
    assert!(!exists(&store.s3, "flaky-store", "lost.bin").await);
    assert_eq!(server.state.metrics.upload_buffer_bytes.get(), 0);
}
