//! Keys: invisible characters refused on every route, names kept byte for byte (NFC and NFD
//! are two keys), and keys with commas and spaces deleted by `POST /files/delete`, up to
//! 10,000 at once. On the embedded store, read back with the test's own client.

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use hoist_tests::form::{self, Field};
use hoist_tests::{TestServer, send};
use reqwest::Method;
use serde_json::json;

const BUCKET: &str = "hoist-uploads";

async fn put(server: &TestServer, key: &str) -> hoist_tests::Answer {
    send(
        server
            .supreme(Method::PUT, "/files/object")
            .query(&[("key", key)])
            .header("content-type", "text/plain")
            .body("x"),
    )
    .await
}

async fn delete(server: &TestServer, keys: &[String]) -> hoist_tests::Answer {
    send(
        server
            .supreme(Method::POST, "/files/delete")
            .json(&json!({"bucketName": "uploads", "keys": keys})),
    )
    .await
}

#[tokio::test]
async fn every_invisible_character_in_a_key_is_refused() {
    let server = TestServer::start().await;
    let invisible = [
        '\u{202E}',
        '\u{202D}',
        '\u{2066}',
        '\u{2069}',
        '\u{200E}',
        '\u{200F}',
        '\u{061C}',
        '\u{200B}',
        '\u{200C}',
        '\u{200D}',
        '\u{2060}',
        '\u{FEFF}',
        '\u{00AD}',
        '\u{2028}',
        '\u{2029}',
        '\u{034F}',
        '\u{3164}',
        '\u{FE0F}',
        '\u{E0041}',
    ];
    for c in invisible {
        let key = format!("invisible/a{c}fdp.exe");
        put(&server, &key).await.assert_error(400, "invalid-key");
        let file = Field::file(
            format!("a{c}fdp.exe"),
            Some("text/plain"),
            Bytes::from_static(b"x"),
        );
        send(form::post(
            &server,
            "?prefix=invisible",
            form::whole(&[file]),
        ))
        .await
        .assert_error(400, "invalid-key");
        send(form::post(
            &server,
            &format!("?prefix=p{}", urlencoding(c)),
            form::whole(&[Field::file("a.txt", None, Bytes::from_static(b"x"))]),
        ))
        .await
        .assert_error(400, "invalid-key");
        delete(&server, &[key])
            .await
            .assert_error(400, "invalid-key");
    }
    assert!(
        server.stored_keys(BUCKET, "").await.is_empty(),
        "nothing was stored"
    );
}

/// `c` percent-encoded as UTF-8, for a query string.
fn urlencoding(c: char) -> String {
    let mut buf = [0; 4];
    c.encode_utf8(&mut buf)
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect()
}

#[tokio::test]
async fn nfc_and_nfd_spellings_are_two_keys_kept_as_sent() {
    let server = TestServer::start().await;
    let nfc = "names/caf\u{E9}.txt".to_owned();
    let nfd = "names/cafe\u{301}.txt".to_owned();
    for key in [&nfc, &nfd] {
        assert_eq!(put(&server, key).await.data()["key"], key.as_str());
    }
    let mut stored = server.stored_keys(BUCKET, "names/").await;
    stored.sort();
    let mut expected = vec![nfc.clone(), nfd.clone()];
    expected.sort();
    assert_eq!(stored, expected, "both spellings, byte for byte");
    let report = delete(&server, std::slice::from_ref(&nfd)).await;
    assert_eq!(report.data()["deleted"], json!([nfd]));
    assert_eq!(server.stored_keys(BUCKET, "names/").await, [nfc]);
}

#[tokio::test]
async fn a_key_with_commas_and_spaces_is_deleted_by_the_json_route() {
    let server = TestServer::start().await;
    let awkward = [
        "commas/q1, q2,q3.pdf".to_owned(),
        "commas/ leading space.txt".to_owned(),
        "commas/plain.txt".to_owned(),
    ];
    for key in &awkward {
        assert_eq!(put(&server, key).await.status, 200);
    }
    let report = delete(&server, &awkward[..2]).await;
    let data = report.data();
    assert_eq!(data["errors"], json!([]), "{report:?}");
    let mut deleted: Vec<String> = serde_json::from_value(data["deleted"].clone()).expect("keys");
    deleted.sort();
    let mut expected = awkward[..2].to_vec();
    expected.sort();
    assert_eq!(deleted, expected);
    assert_eq!(
        server.stored_keys(BUCKET, "commas/").await,
        ["commas/plain.txt"]
    );
    // The refusals of the old route hold here too.
    delete(&server, &[])
        .await
        .assert_error(400, "missing-file-keys");
    send(
        server
            .request(Method::POST, "/files/delete", None)
            .json(&json!({"keys": ["a"]})),
    )
    .await
    .assert_error(401, "unauthorized");
}

#[tokio::test]
async fn ten_thousand_keys_are_deleted_in_one_json_request() {
    let server = TestServer::start().await;
    let keys: Vec<String> = (0..10_000)
        .map(|i| format!("bulk/{i:05}, part.txt"))
        .collect();
    // Every tenth key exists, so each of the ten DeleteObjects calls deletes real objects.
    let s3 = server.embedded_s3();
    stream::iter(keys.iter().step_by(10))
        .for_each_concurrent(32, |key| {
            let s3 = s3.clone();
            async move {
                s3.put_object()
                    .bucket(BUCKET)
                    .key(key)
                    .body(Bytes::from_static(b"x").into())
                    .send()
                    .await
                    .expect("put");
            }
        })
        .await;
    assert_eq!(server.stored_keys(BUCKET, "bulk/").await.len(), 1000);
    let report = delete(&server, &keys).await;
    let data = report.data();
    assert_eq!(data["errors"], json!([]));
    assert_eq!(data["deleted"].as_array().map(Vec::len), Some(10_000));
    assert!(server.stored_keys(BUCKET, "bulk/").await.is_empty());
    let mut too_many = keys;
    too_many.push("one/more".into());
    delete(&server, &too_many)
        .await
        .assert_error(400, "too-many-keys");
}
