//! Batch delete: thousands of keys in DeleteObjects calls of 1000 (counted on the wire),
//! refused key lists, and per-key failures of the store reported to the client.

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use hoist_tests::proxy::KillableProxy;
use hoist_tests::{StandaloneStore, TestServer, send};
use reqwest::Method;

use super::{exists, on_moto};

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
    let answer = send(server.supreme(Method::DELETE, "/files?fileKeys=%20,%20")).await;
    answer.assert_error(400, "missing-file-keys");
    let answer = send(server.supreme(Method::DELETE, "/files")).await;
    answer.assert_error(400, "missing-file-keys");
    let limited = TestServer::start_with(|settings| settings.delete.max_keys = 2).await;
    send(limited.supreme(Method::DELETE, "/files?fileKeys=a,b,c"))
        .await
        .assert_error(400, "too-many-keys");
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
