//! Keys the embedded store cannot hold (S3 would): refused with 400 `key-not-storable` and a
//! reason, never a 502, and reported key by key in a batch delete that deletes the rest.

use bytes::Bytes;
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
            .body("x"),
    )
    .await
}

#[tokio::test]
async fn keys_the_embedded_store_cannot_hold_are_refused_with_a_reason() {
    let server = TestServer::start().await;
    let long = format!("long/{}.txt", "s".repeat(300));
    let answer = put(&server, &long).await;
    answer.assert_error(400, "key-not-storable");
    let message = answer.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("255") && message.contains("S3 itself would take it"),
        "{message}"
    );

    assert_eq!(put(&server, "tree/a.png").await.status, 200);
    let answer = put(&server, "tree/a.png/child").await;
    answer.assert_error(400, "key-not-storable");
    assert!(
        answer.body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("`tree/a.png` is an object")
    );
    let file = Field::file("child", Some("text/plain"), Bytes::from_static(b"x"));
    send(form::post(
        &server,
        "?prefix=tree/a.png",
        form::whole(&[file]),
    ))
    .await
    .assert_error(400, "key-not-storable");
    assert_eq!(put(&server, "folder/inside.txt").await.status, 200);
    put(&server, "folder")
        .await
        .assert_error(400, "key-not-storable");
    let mut stored = server.stored_keys(BUCKET, "").await;
    stored.sort();
    assert_eq!(stored, ["folder/inside.txt", "tree/a.png"]);

    // A batch delete reports those keys one by one and deletes the others.
    let keys = [
        "tree/a.png",
        long.as_str(),
        "tree/a.png/child",
        "folder/inside.txt",
    ];
    let report = send(
        server
            .supreme(Method::POST, "/files/delete")
            .json(&json!({"keys": keys})),
    )
    .await;
    let data = report.data();
    let mut deleted: Vec<String> = serde_json::from_value(data["deleted"].clone()).expect("keys");
    deleted.sort();
    assert_eq!(deleted, ["folder/inside.txt", "tree/a.png"]);
    let failed: Vec<(&str, &str)> = data["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["key"].as_str().unwrap_or_default(),
                e["code"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        [
            (long.as_str(), "KeyNotStorable"),
            ("tree/a.png/child", "KeyNotStorable")
        ]
    );
    assert!(server.stored_keys(BUCKET, "").await.is_empty());
    // The old comma-separated route answers the same way.
    let report = send(
        server
            .supreme(Method::DELETE, "/files")
            .query(&[("fileKeys", long.as_str())]),
    )
    .await;
    assert_eq!(
        report.data()["errors"][0]["code"],
        "KeyNotStorable",
        "{report:?}"
    );
}
