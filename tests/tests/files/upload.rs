//! Uploads through `PUT /files/object` and `POST /files`: every size around the part
//! boundaries, both field orders of a form, the query string, content types, a body of known
//! length streamed into one PutObject (on s3s-fs and on moto), and uploads that must wait
//! for buffer memory.

use bytes::Bytes;
use hoist_tests::form::{self, Field};
use hoist_tests::{TestServer, chunked, crc32c_base64, moto, send, test_bytes};
use reqwest::Method;

use super::{PART, keys_in, object, on_moto, real_bucket, small_parts};

/// Sizes around the part boundaries.
const SIZES: [usize; 6] = [0, 1, PART - 1, PART, PART + 1, 3 * PART + 7];

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
        // A declared length makes every size one PutObject (whole, or streamed past one
        // part): S3 verified and kept the CRC32C Hoist sent.
        assert_eq!(s3_crc.as_deref(), Some(stored.checksum.as_str()));

        let key = format!("raw/streamed-{size}.bin");
        let answer = send(
            server
                .supreme(Method::PUT, &format!("/files/object?key={key}"))
                .header("content-type", "text/csv")
                .body(chunked(&data, 300_007)),
        )
        .await;
        assert_eq!(answer.status, 200, "{size} bytes streamed: {answer:?}");
        assert_eq!(answer.body["data"]["checksum"], crc32c_base64(&data));
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

/// How the store holds an object: its ETag, stored CRC32C, encoding and length.
async fn stored_as(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> (String, Option<String>, Option<String>, Option<i64>) {
    let head = s3
        .head_object()
        .bucket(bucket)
        .key(key)
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .expect("stored");
    (
        head.e_tag().unwrap_or_default().to_owned(),
        head.checksum_crc32_c().map(str::to_owned),
        head.content_encoding().map(str::to_owned),
        head.content_length(),
    )
}

#[tokio::test]
async fn a_raw_body_of_known_length_streams_into_one_put_object() {
    let server = TestServer::start_with(|settings| {
        settings.upload.part_size = PART as u64;
        settings.upload.max_file_size = 64 * 1024 * 1024;
        settings.upload.single_put_max = 3 * PART as u64;
    })
    .await;
    let client = server.client();
    let s3 = server.embedded_s3();
    let bucket = real_bucket(&server, "uploads");
    // Past one part and up to `single_put_max`: one PutObject, its CRC32C checked by the
    // store from the trailer. Past `single_put_max`: a multipart upload (an ETag with `-N`).
    for (seed, size, multipart) in [
        (1, PART + 1, false),
        (2, 3 * PART, false),
        (3, 3 * PART + 1, true),
    ] {
        let data = test_bytes(size, 700 + seed);
        let key = format!("streamed/{size}.bin");
        let stored = client
            .put_file_object(None, None, &key, None, None, data.clone())
            .await
            .expect("stored")
            .into_inner()
            .data;
        assert_eq!(stored.checksum, crc32c_base64(&data));
        let (etag, crc, encoding, length) = stored_as(&s3, &bucket, &key).await;
        assert_eq!(etag.contains('-'), multipart, "{size} bytes: ETag {etag}");
        if !multipart {
            // (s3s-fs reports no full-object checksum of a multipart upload.)
            assert_eq!(
                crc.as_deref(),
                Some(stored.checksum.as_str()),
                "{size} bytes"
            );
        }
        assert_eq!(encoding, None, "the transfer encoding is not the object's");
        assert_eq!(length, Some(size as i64));
        let (body, _, _) = object(&server, &key).await.expect("stored");
        assert!(body == data, "{size} bytes arrive byte-identical");
    }
    assert_eq!(server.state.metrics.upload_buffer_bytes.get(), 0);
    assert_eq!(server.state.metrics.multipart_aborts.get(), 0);

    // Off (0): every body past one part is a multipart upload again.
    let server = TestServer::start_with(|settings| {
        settings.upload.part_size = PART as u64;
        settings.upload.single_put_max = 0;
    })
    .await;
    let data = test_bytes(PART + 1, 710);
    server
        .client()
        .put_file_object(None, None, "off.bin", None, None, data)
        .await
        .expect("stored");
    let (etag, _, _, _) = stored_as(
        &server.embedded_s3(),
        &real_bucket(&server, "uploads"),
        "off.bin",
    )
    .await;
    assert!(etag.contains('-'), "multipart: {etag}");
}

#[tokio::test]
async fn a_streamed_put_object_on_moto_is_what_aws_stores() {
    let (server, s3, bucket) = on_moto("streamed", |_| {}).await;
    let data = test_bytes(2 * PART + 5, 720);
    let stored = server
        .client()
        .put_file_object(
            None,
            Some("text/csv"),
            "streamed.csv",
            None,
            None,
            data.clone(),
        )
        .await
        .expect("stored")
        .into_inner()
        .data;
    let (etag, _, encoding, length) = stored_as(&s3, &bucket, "streamed.csv").await;
    assert!(!etag.contains('-'), "one PutObject: {etag}");
    // moto strips `aws-chunked` from the stored encoding, as AWS does.
    assert_eq!(encoding, None);
    assert_eq!(length, Some(data.len() as i64));
    let got = s3
        .get_object()
        .bucket(&bucket)
        .key("streamed.csv")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("text/csv"));
    let body = got.body.collect().await.unwrap().into_bytes();
    assert!(body == data, "byte-identical");
    assert_eq!(stored.checksum, crc32c_base64(&body));
    assert!(moto::multipart_uploads(&s3, &bucket).await.is_empty());
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
        let answer = send(form::post(
            &server,
            "",
            form::streamed(&fields_first, 64 * 1024),
        ))
        .await;
        assert_eq!(answer.status, 200, "{size} bytes, fields first: {answer:?}");
        let stored = &answer.body["data"];
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
        let answer = send(form::post(&server, "", form::whole(&file_first))).await;
        assert_eq!(answer.status, 200, "{size} bytes, file first: {answer:?}");
        assert_eq!(answer.body["data"]["key"], format!("orders/last/{name}"));
        assert_eq!(answer.body["data"]["checksum"], crc32c_base64(&data));
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
    let answer = send(form::post(
        &server,
        "?bucketName=uploads&prefix=by-query",
        form::streamed(&fields, 100_000),
    ))
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body["data"]["key"], "by-query/q.bin");
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
    send(form::post(
        &server,
        "?prefix=by-query",
        form::whole(&fields),
    ))
    .await
    .assert_error(400, "invalid-form");
    assert!(keys_in(&server, "uploads", "elsewhere").await.is_empty());

    send(form::post(
        &server,
        "",
        form::whole(&[Field::text("prefix", "p")]),
    ))
    .await
    .assert_error(400, "missing-file");
}

#[tokio::test]
async fn content_types_are_taken_from_the_request_or_sniffed() {
    let server = small_parts().await;
    let png =
        Bytes::from_static(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0");
    let put = |key: &str, content_type: Option<&str>, body: Bytes| {
        let mut request = server
            .supreme(Method::PUT, &format!("/files/object?key={key}"))
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        send(request)
    };
    let answer = put("t/none.png", None, png.clone()).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body["data"]["contentType"], "image/png");
    let answer = put(
        "t/generic.png",
        Some("application/octet-stream"),
        png.clone(),
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body["data"]["contentType"], "image/png");
    let answer = put("t/plain", None, Bytes::from_static(b"just words")).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        answer.body["data"]["contentType"],
        "application/octet-stream"
    );
    put("t/bad", Some("text"), png.clone())
        .await
        .assert_error(400, "invalid-content-type");
    assert_eq!(object(&server, "t/none.png").await.unwrap().1, "image/png");
    assert!(object(&server, "t/bad").await.is_none());

    // A form's file part without a type is sniffed too.
    let answer = send(form::post(
        &server,
        "?bucketName=uploads&prefix=t",
        form::whole(&[Field::file("f.png", None, png)]),
    ))
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body["data"]["contentType"], "image/png");
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
