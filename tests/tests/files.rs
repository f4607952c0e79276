//! End-to-end tests of the file routes on the embedded store: uploads of every size through
//! both routes and both field orders, client checksums, listing order and paging, batch
//! delete, and hostile input. Ground truth is always read with an S3 client of the test's own.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::types::ChecksumMode;
use bytes::Bytes;
use futures_util::{StreamExt, stream};
use hoist_tests::assert_error;
use hoist_tests::form::{self, Field};
use hoist_tests::proxy::KillableProxy;
use hoist_tests::{StandaloneStore, TestServer, crc32c_base64, sha256_base64, test_bytes};
use serde_json::Value;

/// The smallest part S3 accepts; tests use it so multipart uploads stay small.
const PART: usize = 5 * 1024 * 1024;

/// Sizes around the part boundaries.
const SIZES: [usize; 6] = [0, 1, PART - 1, PART, PART + 1, 3 * PART + 7];

async fn small_parts() -> TestServer {
    TestServer::start_with(|settings| {
        settings.upload.part_size = PART as u64;
        settings.upload.max_file_size = 64 * 1024 * 1024;
    })
    .await
}

fn real_bucket(server: &TestServer, alias: &str) -> String {
    server.state.buckets.get(alias).expect("alias").name.clone()
}

/// The object as S3 holds it: bytes, type, and the CRC32C S3 stored (when it stored one).
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

async fn keys_in(server: &TestServer, alias: &str, prefix: &str) -> Vec<String> {
    let out = server
        .embedded_s3()
        .list_objects_v2()
        .bucket(real_bucket(server, alias))
        .prefix(prefix)
        .send()
        .await
        .expect("list");
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("an answer");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn post_form(
    server: &TestServer,
    query: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::RequestBuilder {
    server
        .http()
        .post(server.url(&format!("/files{query}")))
        .bearer_auth(server.token(true))
        .header("content-type", form::content_type())
        .body(body)
}

#[tokio::test]
async fn raw_uploads_of_every_size_arrive_byte_identical() {
    let server = small_parts().await;
    let client = server.client();
    for (seed, &size) in SIZES.iter().enumerate() {
        let data = test_bytes(size, seed as u64);
        // With a declared length (the generated client) and streamed without one.
        let key = format!("raw/sized-{size}.bin");
        let stored = client
            .put_file_object(
                None,
                Some("application/x-test"),
                &key,
                None,
                None,
                data.clone(),
            )
            .await
            .unwrap_or_else(|e| panic!("{size} bytes: {e}"))
            .into_inner()
            .data;
        assert_eq!(stored.key, key);
        assert_eq!(stored.name, format!("sized-{size}.bin"));
        assert_eq!(stored.bucket, "uploads");
        assert_eq!(stored.size, size as u64);
        assert_eq!(stored.content_type, "application/x-test");
        assert_eq!(stored.checksum, crc32c_base64(&data), "{size} bytes");
        assert!(
            stored
                .url
                .ends_with(&format!("/{}/{key}", real_bucket(&server, "uploads")))
        );

        let (body, content_type, s3_crc) = object(&server, &key).await.expect("stored");
        assert!(body == data, "{size} bytes arrive byte-identical");
        assert_eq!(content_type, "application/x-test");
        if size <= PART {
            // One PutObject: S3 verified and kept the CRC32C Hoist sent.
            assert_eq!(s3_crc.as_deref(), Some(stored.checksum.as_str()));
        }

        let key = format!("raw/streamed-{size}.bin");
        let chunks: Vec<Result<Bytes, std::io::Error>> = data
            .chunks(300_007)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let (status, body) = send(
            server
                .http()
                .put(server.url(&format!("/files/object?key={key}")))
                .bearer_auth(server.token(true))
                .header("content-type", "text/csv")
                .body(reqwest::Body::wrap_stream(stream::iter(chunks))),
        )
        .await;
        assert_eq!(status, 200, "{size} bytes streamed: {body}");
        assert_eq!(body["data"]["checksum"], crc32c_base64(&data));
        let (stored, content_type, _) = object(&server, &key).await.expect("stored");
        assert!(
            stored == data,
            "{size} bytes streamed arrive byte-identical"
        );
        assert_eq!(content_type, "text/csv");
    }
    assert_eq!(
        server.state.metrics.upload_bytes.get(),
        2 * SIZES.iter().sum::<usize>() as u64
    );
    assert!(
        server.state.metrics.multipart_aborts.get() == 0,
        "no upload was aborted"
    );
}

#[tokio::test]
async fn form_uploads_of_every_size_arrive_byte_identical_in_both_field_orders() {
    let server = small_parts().await;
    for (seed, &size) in SIZES.iter().enumerate() {
        let data = test_bytes(size, 100 + seed as u64);
        let name = format!("form-{size}.dat");
        let file = Field::file(&name, Some("application/pdf"), data.clone());

        // Destination first: streamed straight to S3, sent chunked without a length.
        let fields_first = [
            Field::text("prefix", "/orders//first"),
            Field::text("bucketName", "uploads"),
            file.clone(),
        ];
        let (status, body) = send(post_form(
            &server,
            "",
            form::streamed(&fields_first, 64 * 1024),
        ))
        .await;
        assert_eq!(status, 200, "{size} bytes, fields first: {body}");
        let stored = &body["data"];
        let mut fields: Vec<&str> = stored
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "bucket",
                "checksum",
                "contentType",
                "key",
                "name",
                "size",
                "url"
            ],
            "the old service's response shape, plus size, contentType and checksum"
        );
        assert_eq!(stored["key"], format!("orders/first/{name}"));
        assert_eq!(stored["name"], name.as_str());
        assert_eq!(stored["size"], size);
        assert_eq!(stored["contentType"], "application/pdf");
        assert_eq!(stored["checksum"], crc32c_base64(&data));
        let (got, content_type, _) = object(&server, &format!("orders/first/{name}"))
            .await
            .expect("stored");
        assert!(got == data, "{size} bytes, fields first: byte-identical");
        assert_eq!(content_type, "application/pdf");

        // File first: spooled until the form ends, sent with a length.
        let file_first = [
            file.clone(),
            Field::text("prefix", "orders/last"),
            Field::text("bucketName", "uploads"),
        ];
        let (status, body) = send(post_form(&server, "", form::whole(&file_first))).await;
        assert_eq!(status, 200, "{size} bytes, file first: {body}");
        assert_eq!(body["data"]["key"], format!("orders/last/{name}"));
        assert_eq!(body["data"]["checksum"], crc32c_base64(&data));
        let (got, _, _) = object(&server, &format!("orders/last/{name}"))
            .await
            .expect("stored");
        assert!(got == data, "{size} bytes, file first: byte-identical");
    }
    assert_eq!(
        server.state.metrics.uploads_spooled.get(),
        SIZES.len() as u64,
        "exactly the file-first forms were spooled"
    );
}

#[tokio::test]
async fn the_query_string_lets_a_file_first_form_stream() {
    let server = small_parts().await;
    let data = test_bytes(2 * PART + 11, 7);
    let fields = [Field::file("q.bin", None, data.clone())];
    let (status, body) = send(post_form(
        &server,
        "?bucketName=uploads&prefix=by-query",
        form::streamed(&fields, 100_000),
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["key"], "by-query/q.bin");
    assert_eq!(
        server.state.metrics.uploads_spooled.get(),
        0,
        "streamed, not spooled"
    );
    let (got, _, _) = object(&server, "by-query/q.bin").await.expect("stored");
    assert!(got == data);

    // A form field may repeat the query's value, not contradict it.
    let fields = [
        Field::text("prefix", "elsewhere"),
        Field::file("q2.bin", None, Bytes::from_static(b"x")),
    ];
    let (status, body) = send(post_form(&server, "?prefix=by-query", form::whole(&fields))).await;
    assert_error(status, &body, 400, "invalid-form");
    assert!(keys_in(&server, "uploads", "elsewhere").await.is_empty());

    let (status, body) = send(post_form(
        &server,
        "",
        form::whole(&[Field::text("prefix", "p")]),
    ))
    .await;
    assert_error(status, &body, 400, "missing-file");
}

#[tokio::test]
async fn content_types_are_taken_from_the_request_or_sniffed() {
    let server = small_parts().await;
    let png =
        Bytes::from_static(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0");
    let put = |key: &str, content_type: Option<&str>, body: Bytes| {
        let mut request = server
            .http()
            .put(server.url(&format!("/files/object?key={key}")))
            .bearer_auth(server.token(true))
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        send(request)
    };
    let (status, body) = put("t/none.png", None, png.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["contentType"], "image/png");
    let (status, body) = put(
        "t/generic.png",
        Some("application/octet-stream"),
        png.clone(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["contentType"], "image/png");
    let (status, body) = put("t/plain", None, Bytes::from_static(b"just words")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["contentType"], "application/octet-stream");
    let (status, body) = put("t/bad", Some("text"), png.clone()).await;
    assert_error(status, &body, 400, "invalid-content-type");
    assert_eq!(object(&server, "t/none.png").await.unwrap().1, "image/png");
    assert!(object(&server, "t/bad").await.is_none());

    // A form's file part without a type is sniffed too.
    let (status, body) = send(post_form(
        &server,
        "?bucketName=uploads&prefix=t",
        form::whole(&[Field::file("f.png", None, png)]),
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["contentType"], "image/png");
}

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
            match client
                .put_file_object(
                    None,
                    None,
                    &key,
                    crc.map(String::as_str),
                    sha.map(String::as_str),
                    data.clone(),
                )
                .await
            {
                Err(hoist_client::Error::ErrorResponse(response)) => {
                    assert_eq!(response.status().as_u16(), 400);
                    assert_eq!(response.error.code, "checksum-mismatch");
                }
                other => panic!("{size} bytes with a wrong checksum: {other:?}"),
            }
            assert!(object(&server, &key).await.is_none(), "nothing stored");
        }
        let (status, body) = send(
            server
                .http()
                .put(server.url("/files/object?key=sum/garbled"))
                .bearer_auth(server.token(true))
                .header("x-amz-checksum-crc32c", "not-base64!")
                .body(data.clone()),
        )
        .await;
        assert_error(status, &body, 400, "invalid-checksum");
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
async fn concurrent_uploads_wait_for_buffer_memory_instead_of_failing() {
    // Room for one part in the whole server, while each upload would like three.
    let server = TestServer::start_with(|settings| {
        settings.upload.part_size = PART as u64;
        settings.upload.max_buffer_bytes = PART as u64;
        settings.upload.parts_in_flight = 3;
    })
    .await;
    let uploads = (0..4u64).map(|seed| {
        let client = server.client();
        async move {
            let data = test_bytes(2 * PART + 3, 500 + seed);
            let key = format!("tight/{seed}.bin");
            let stored = client
                .put_file_object(None, None, &key, None, None, data.clone())
                .await
                .expect("uploads wait for budget, then succeed")
                .into_inner()
                .data;
            (key, data, stored.checksum)
        }
    });
    for (key, data, checksum) in futures_util::future::join_all(uploads).await {
        assert_eq!(checksum, crc32c_base64(&data));
        let (got, _, _) = object(&server, &key).await.expect("stored");
        assert!(got == data, "{key} byte-identical");
    }
    assert_eq!(
        server.state.metrics.upload_buffer_bytes.get(),
        0,
        "every buffer released"
    );
}

/// Writes `keys` into the uploads bucket directly, oldest first, far enough apart that S3's
/// millisecond dates differ.
async fn put_directly(server: &TestServer, keys: &[&str]) {
    let s3 = server.embedded_s3();
    let bucket = real_bucket(server, "uploads");
    for key in keys {
        s3.put_object()
            .bucket(&bucket)
            .key(*key)
            .body(Bytes::from(key.to_string()).into())
            .send()
            .await
            .expect("put");
        // The filesystem's clock ticks coarsely; this keeps LastModified values distinct.
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Ground truth: the keys under `prefix`, newest first (ties by key), and their dates.
async fn newest_first(server: &TestServer, prefix: &str) -> Vec<(String, SystemTime)> {
    let out = server
        .embedded_s3()
        .list_objects_v2()
        .bucket(real_bucket(server, "uploads"))
        .prefix(prefix)
        .send()
        .await
        .expect("list");
    let mut objects: Vec<(String, SystemTime)> = out
        .contents()
        .iter()
        .map(|o| {
            (
                o.key().unwrap().to_owned(),
                SystemTime::try_from(*o.last_modified().unwrap()).unwrap(),
            )
        })
        .collect();
    objects.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    objects
}

fn item_keys(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("an array")
        .iter()
        .map(|item| item["key"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn list_is_newest_first_and_says_when_it_was_truncated() {
    let server = TestServer::start().await;
    // Written in alphabetical order, so newest first is the reverse of S3's order.
    put_directly(
        &server,
        &["docs/a", "docs/b", "docs/c", "docs/d", "docs/e", "other/x"],
    )
    .await;
    let truth = newest_first(&server, "docs/").await;
    let mut dates: Vec<SystemTime> = truth.iter().map(|(_, date)| *date).collect();
    dates.dedup();
    assert_eq!(dates.len(), 5, "the store gave every object its own date");
    let expected: Vec<String> = truth.iter().map(|(key, _)| key.clone()).collect();
    assert_eq!(expected, ["docs/e", "docs/d", "docs/c", "docs/b", "docs/a"]);

    let response = server
        .http()
        .get(server.url("/files/list?prefix=docs&bucketName=uploads"))
        .bearer_auth(server.token(true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-truncated"], "false");
    let body: Value = response.json().await.unwrap();
    assert_eq!(item_keys(&body["data"]), expected);
    let first = &body["data"][0];
    assert_eq!(first["size"], "docs/e".len());
    let date = first["date"].as_str().unwrap();
    assert!(
        date.ends_with('Z') && date.len() == "2024-01-01T00:00:00.000Z".len(),
        "{date}"
    );

    // Through the generated client, the default bucket and the whole bucket.
    let all = server
        .client()
        .list_files(None, None)
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(all.len(), 6);

    let capped = TestServer::start_with(|settings| settings.list.max_keys = 3).await;
    put_directly(&capped, &["k/1", "k/2", "k/3", "k/4"]).await;
    let response = capped
        .http()
        .get(capped.url("/files/list?prefix=k/"))
        .bearer_auth(capped.token(true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-truncated"], "true");
    let body: Value = response.json().await.unwrap();
    // The first three keys S3 lists, sorted newest first.
    assert_eq!(item_keys(&body["data"]), ["k/3", "k/2", "k/1"]);
}

async fn page(server: &TestServer, query: &str) -> (u16, Value) {
    send(
        server
            .http()
            .get(server.url(&format!("/files/list/data?prefix=pages{query}")))
            .bearer_auth(server.token(true)),
    )
    .await
}

#[tokio::test]
async fn pages_by_offset_and_by_cursor_stay_stable_while_objects_are_added() {
    let server = TestServer::start().await;
    let keys: Vec<String> = (0..7).map(|i| format!("pages/{i}")).collect();
    put_directly(
        &server,
        &keys.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    let original: Vec<String> = newest_first(&server, "pages/")
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();

    // Offsets walk the listing.
    let mut walked = Vec::new();
    for (offset, page_number) in [(0, 1), (3, 2), (6, 3)] {
        let (status, body) = page(&server, &format!("&limit=3&offset={offset}")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["total"], 7);
        assert_eq!(body["data"]["page"], page_number);
        walked.extend(item_keys(&body["data"]["items"]));
    }
    assert_eq!(walked, original);

    // A cursor walk, with newer objects arriving between the pages.
    let (_, first) = page(&server, "&limit=3").await;
    assert_eq!(item_keys(&first["data"]["items"]), original[..3]);
    let cursor = first["data"]["cursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    put_directly(&server, &["pages/new-1", "pages/new-2"]).await;
    let (status, second) = page(&server, &format!("&limit=3&cursor={cursor}")).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(
        item_keys(&second["data"]["items"]),
        original[3..6],
        "no repeat, no gap"
    );
    assert_eq!(second["data"]["total"], 9);
    let cursor = second["data"]["cursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    let (_, third) = page(&server, &format!("&limit=3&cursor={cursor}")).await;
    assert_eq!(item_keys(&third["data"]["items"]), original[6..]);
    assert!(
        third["data"]["cursor"].is_null(),
        "the last page has no cursor"
    );
    // The same offset now shows objects the first page already showed: why cursors exist.
    let (_, shifted) = page(&server, "&limit=3&offset=3").await;
    assert_eq!(item_keys(&shifted["data"]["items"])[..2], original[1..3]);

    // The generated client sees the same pages.
    let client_page = server
        .client()
        .list_files_page(None, None, None, Some(2), None, Some("pages"))
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(client_page.items.len(), 2);
    assert_eq!(client_page.items[0].key, "pages/new-2");

    for bad in [
        "&limit=0",
        "&limit=1001",
        "&limit=many",
        "&offset=-1",
        &format!("&offset=1&cursor={cursor}"),
    ] {
        let (status, body) = page(&server, bad).await;
        assert_error(status, &body, 400, "bad-request");
    }
    let (status, body) = page(&server, "&cursor=forged").await;
    assert_error(status, &body, 400, "invalid-cursor");
    let (status, body) = send(
        server
            .http()
            .get(server.url(&format!(
                "/files/list/data?prefix=elsewhere&cursor={cursor}"
            )))
            .bearer_auth(server.token(true)),
    )
    .await;
    assert_error(status, &body, 400, "invalid-cursor");
}

#[tokio::test]
async fn a_slash_delimiter_lists_one_level_with_its_folders() {
    let server = TestServer::start().await;
    put_directly(
        &server,
        &[
            "tree/b/deep.txt",
            "tree/top-old.txt",
            "tree/a/x.txt",
            "tree/top-new.txt",
            "treehouse.txt",
        ],
    )
    .await;
    let list = |query: &'static str| {
        let server = &server;
        async move {
            send(
                server
                    .http()
                    .get(server.url(&format!("/files/list/data?prefix=tree{query}")))
                    .bearer_auth(server.token(true)),
            )
            .await
        }
    };
    let (status, body) = list("&delimiter=/").await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    assert_eq!(
        item_keys(&data["items"]),
        ["tree/top-new.txt", "tree/top-old.txt"],
        "only objects directly in the prefix, newest first"
    );
    assert_eq!(data["folders"], serde_json::json!(["tree/a/", "tree/b/"]));
    assert_eq!(data["total"], 2);

    let (status, body) = list("").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        item_keys(&body["data"]["items"]).len(),
        4,
        "flat: every object under tree/"
    );
    assert_eq!(body["data"]["folders"], serde_json::json!([]));

    let (status, body) = list("&delimiter=%7C").await;
    assert_error(status, &body, 400, "bad-request");
}

#[tokio::test]
async fn delete_removes_2500_keys_in_three_batches() {
    // The store sits behind a proxy that counts DeleteObjects calls on the wire.
    let store = StandaloneStore::start("bulk-store").await;
    let proxy = KillableProxy::counting(store.store.addr, b"?delete HTTP/1.1").await;
    let server = TestServer::start_with(|settings| {
        store.route(settings, "bulk", "bulk-store", &proxy.endpoint());
    })
    .await;
    let keys: Vec<String> = (0..2500).map(|i| format!("bulk/{i:05}.txt")).collect();
    stream::iter(keys.iter().chain([&"keep/me".to_owned()]))
        .for_each_concurrent(32, |key| {
            let s3 = store.s3.clone();
            async move {
                s3.put_object()
                    .bucket("bulk-store")
                    .key(key)
                    .body(Bytes::from_static(b"x").into())
                    .send()
                    .await
                    .expect("put");
            }
        })
        .await;

    // Duplicates and blanks are dropped; the old service's comma-separated form.
    let file_keys = format!("{}, bulk/00000.txt ,,", keys.join(","));
    let report = server
        .client()
        .delete_files(Some("bulk"), Some(&file_keys))
        .await
        .expect("deleted")
        .into_inner()
        .data;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let mut deleted = report.deleted.clone();
    deleted.sort();
    assert_eq!(deleted, keys);
    assert_eq!(
        proxy.matches(),
        3,
        "1000 + 1000 + 500 keys: three DeleteObjects calls"
    );
    let left = store
        .s3
        .list_objects_v2()
        .bucket("bulk-store")
        .send()
        .await
        .unwrap();
    let left: Vec<&str> = left.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(left, ["keep/me"], "exactly the named keys are gone");
}

#[tokio::test]
async fn delete_refuses_empty_and_oversized_key_lists() {
    let server = TestServer::start().await;
    let (status, body) = send(
        server
            .http()
            .delete(server.url("/files?fileKeys=%20,%20"))
            .bearer_auth(server.token(true)),
    )
    .await;
    assert_error(status, &body, 400, "missing-file-keys");
    let (status, body) = send(
        server
            .http()
            .delete(server.url("/files"))
            .bearer_auth(server.token(true)),
    )
    .await;
    assert_error(status, &body, 400, "missing-file-keys");
    let limited = TestServer::start_with(|settings| settings.delete.max_keys = 2).await;
    let (status, body) = send(
        limited
            .http()
            .delete(limited.url("/files?fileKeys=a,b,c"))
            .bearer_auth(limited.token(true)),
    )
    .await;
    assert_error(status, &body, 400, "too-many-keys");
}

/// Counts every key under `prefix`, past S3's 1000-key pages.
async fn keys_in_all(server: &TestServer, prefix: &str) -> usize {
    let s3 = server.embedded_s3();
    let mut pages = s3
        .list_objects_v2()
        .bucket(real_bucket(server, "uploads"))
        .prefix(prefix)
        .into_paginator()
        .send();
    let mut count = 0;
    while let Some(page) = pages.next().await {
        count += page.expect("list page").contents().len();
    }
    count
}

#[tokio::test]
async fn hostile_names_unknown_aliases_and_weak_tokens_are_refused() {
    let server = small_parts().await;
    let http = server.http();
    let supreme = server.token(true);
    let user = server.token(false);
    let put = |query: &str| {
        http.put(server.url(&format!("/files/object?{query}")))
            .bearer_auth(&supreme)
            .body("payload")
    };
    for query in [
        "key=../etc/passwd",
        "key=a/%2e%2e/b",
        "key=%2E%2E",
        "key=a/./b",
        "key=a%0Ab",
        "key=a%00b",
        "key=%1b%5b2J",
        "key=/abs",
        &format!("key={}", "k".repeat(1025)),
    ] {
        let (status, body) = send(put(query)).await;
        assert_error(status, &body, 400, "invalid-key");
    }
    let form_with = |prefix: &str, filename: &str| {
        form::whole(&[
            Field::text("prefix", prefix),
            Field::text("bucketName", "uploads"),
            Field::file(filename, None, Bytes::from_static(b"payload")),
        ])
    };
    for (prefix, filename) in [
        ("../up", "f.txt"),
        ("a/..", "f.txt"),
        ("ok", ".."),
        ("ok", "a/b.txt"),
        ("ok", ""),
        ("ok\u{7}", "f.txt"),
    ] {
        let (status, body) = send(post_form(&server, "", form_with(prefix, filename))).await;
        assert_error(status, &body, 400, "invalid-key");
    }
    // A control character cannot even travel in a part's header: the form is malformed.
    let (status, body) = send(post_form(&server, "", form_with("ok", "f\u{1}.txt"))).await;
    assert_error(status, &body, 400, "invalid-form");
    let (status, body) = send(post_form(
        &server,
        "?prefix=%2e%2e&bucketName=uploads",
        form::whole(&[Field::file("f.txt", None, Bytes::from_static(b"x"))]),
    ))
    .await;
    assert_error(status, &body, 400, "invalid-key");
    for path in [
        "/files/list?prefix=%2e%2e",
        "/files/list/data?prefix=a/../b",
    ] {
        let (status, body) = send(http.get(server.url(path)).bearer_auth(&supreme)).await;
        assert_error(status, &body, 400, "invalid-key");
    }
    let (status, body) = send(
        http.delete(server.url("/files?fileKeys=ok.txt,..%2Fescape"))
            .bearer_auth(&supreme),
    )
    .await;
    assert_error(status, &body, 400, "invalid-key");

    // Aliases only: a real bucket name that is not an alias is refused like any other name.
    let real = real_bucket(&server, "uploads");
    for name in ["nope", real.as_str()] {
        let requests = [
            put(&format!("key=k&bucketName={name}")),
            post_form(
                &server,
                &format!("?bucketName={name}&prefix=p"),
                form::whole(&[Field::file("f.txt", None, Bytes::from_static(b"x"))]),
            ),
            http.get(server.url(&format!("/files/list?bucketName={name}")))
                .bearer_auth(&supreme),
            http.get(server.url(&format!("/files/list/data?bucketName={name}")))
                .bearer_auth(&supreme),
            http.delete(server.url(&format!("/files?fileKeys=k&bucketName={name}")))
                .bearer_auth(&supreme),
        ];
        for request in requests {
            let (status, body) = send(request).await;
            assert_error(status, &body, 400, "unknown-bucket");
        }
    }

    // Every file route needs a supreme token.
    for token in [Some(user.as_str()), None] {
        let with = |request: reqwest::RequestBuilder| match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let requests = [
            with(http.put(server.url("/files/object?key=k")).body("x")),
            with(
                http.post(server.url("/files"))
                    .header("content-type", form::content_type())
                    .body(form_with("p", "f.txt")),
            ),
            with(http.get(server.url("/files/list"))),
            with(http.get(server.url("/files/list/data"))),
            with(http.delete(server.url("/files?fileKeys=k"))),
        ];
        for request in requests {
            let (status, body) = send(request).await;
            match token {
                Some(_) => assert_error(status, &body, 403, "forbidden"),
                None => assert_error(status, &body, 401, "unauthorized"),
            }
        }
    }
    assert_eq!(keys_in_all(&server, "").await, 0, "nothing was stored");
}
