//! Listing: newest first with `x-truncated`, pages by offset and by cursor that stay stable
//! while objects arrive, and one-level listings with a `/` delimiter.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use hoist_tests::{Answer, TestServer, send};
use reqwest::Method;
use serde_json::Value;

use super::real_bucket;

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

    let answer =
        send(server.supreme(Method::GET, "/files/list?prefix=docs&bucketName=uploads")).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.header("x-truncated"), Some("false"));
    assert_eq!(item_keys(&answer.body["data"]), expected);
    let first = &answer.body["data"][0];
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
    let answer = send(capped.supreme(Method::GET, "/files/list?prefix=k/")).await;
    assert_eq!(answer.header("x-truncated"), Some("true"));
    // The first three keys S3 lists, sorted newest first.
    assert_eq!(item_keys(&answer.body["data"]), ["k/3", "k/2", "k/1"]);
}

/// One `GET /files/list/data` under the `pages` prefix.
async fn page(server: &TestServer, query: &str) -> Answer {
    send(server.supreme(
        Method::GET,
        &format!("/files/list/data?prefix=pages{query}"),
    ))
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
        let answer = page(&server, &format!("&limit=3&offset={offset}")).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(answer.body["data"]["total"], 7);
        assert_eq!(answer.body["data"]["page"], page_number);
        walked.extend(item_keys(&answer.body["data"]["items"]));
    }
    assert_eq!(walked, original);

    // A cursor walk, with newer objects arriving between the pages.
    let first = page(&server, "&limit=3").await;
    assert_eq!(item_keys(&first.body["data"]["items"]), original[..3]);
    let cursor = first.body["data"]["cursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    put_directly(&server, &["pages/new-1", "pages/new-2"]).await;
    let second = page(&server, &format!("&limit=3&cursor={cursor}")).await;
    assert_eq!(second.status, 200, "{second:?}");
    assert_eq!(
        item_keys(&second.body["data"]["items"]),
        original[3..6],
        "no repeat, no gap"
    );
    assert_eq!(second.body["data"]["total"], 9);
    let cursor = second.body["data"]["cursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    let third = page(&server, &format!("&limit=3&cursor={cursor}")).await;
    assert_eq!(item_keys(&third.body["data"]["items"]), original[6..]);
    assert!(
        third.body["data"]["cursor"].is_null(),
        "the last page has no cursor"
    );
    // The same offset now shows objects the first page already showed: why cursors exist.
    let shifted = page(&server, "&limit=3&offset=3").await;
    assert_eq!(
        item_keys(&shifted.body["data"]["items"])[..2],
        original[1..3]
    );

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
        let answer = page(&server, bad).await;
        answer.assert_error(400, "bad-request");
    }
    let answer = page(&server, "&cursor=forged").await;
    answer.assert_error(400, "invalid-cursor");
    let answer = send(server.supreme(
        Method::GET,
        &format!("/files/list/data?prefix=elsewhere&cursor={cursor}"),
    ))
    .await;
    answer.assert_error(400, "invalid-cursor");
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
            send(server.supreme(Method::GET, &format!("/files/list/data?prefix=tree{query}"))).await
        }
    };
    let answer = list("&delimiter=/").await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let data = &answer.body["data"];
    assert_eq!(
        item_keys(&data["items"]),
        ["tree/top-new.txt", "tree/top-old.txt"],
        "only objects directly in the prefix, newest first"
    );
    assert_eq!(data["folders"], serde_json::json!(["tree/a/", "tree/b/"]));
    assert_eq!(data["total"], 2);

    let answer = list("").await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        item_keys(&answer.body["data"]["items"]).len(),
        4,
        "flat: every object under tree/"
    );
    assert_eq!(answer.body["data"]["folders"], serde_json::json!([]));

    let answer = list("&delimiter=%7C").await;
    answer.assert_error(400, "bad-request");
}
