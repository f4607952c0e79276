//! Hostile input on every file route: keys and prefixes that climb out or smuggle control
//! characters, bucket names that are not aliases, and tokens that are too weak or missing.

use bytes::Bytes;
use hoist_tests::form::{self, Field};
use hoist_tests::send;
use reqwest::Method;

use super::{keys_in, real_bucket, small_parts};

#[tokio::test]
async fn hostile_names_unknown_aliases_and_weak_tokens_are_refused() {
    let server = small_parts().await;
    let user = server.token(false);
    let put = |query: &str| {
        server
            .supreme(Method::PUT, &format!("/files/object?{query}"))
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
        send(put(query)).await.assert_error(400, "invalid-key");
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
        let answer = send(form::post(&server, "", form_with(prefix, filename))).await;
        answer.assert_error(400, "invalid-key");
    }
    // A control character cannot even travel in a part's header: the form is malformed.
    let answer = send(form::post(&server, "", form_with("ok", "f\u{1}.txt"))).await;
    answer.assert_error(400, "invalid-form");
    let answer = send(form::post(
        &server,
        "?prefix=%2e%2e&bucketName=uploads",
        form::whole(&[Field::file("f.txt", None, Bytes::from_static(b"x"))]),
    ))
    .await;
    answer.assert_error(400, "invalid-key");
    for path in [
        "/files/list?prefix=%2e%2e",
        "/files/list/data?prefix=a/../b",
    ] {
        send(server.supreme(Method::GET, path))
            .await
            .assert_error(400, "invalid-key");
    }
    send(server.supreme(Method::DELETE, "/files?fileKeys=ok.txt,..%2Fescape"))
        .await
        .assert_error(400, "invalid-key");

    // Aliases only: a real bucket name that is not an alias is refused like any other name.
    let real = real_bucket(&server, "uploads");
    for name in ["nope", real.as_str()] {
        let requests = [
            put(&format!("key=k&bucketName={name}")),
            form::post(
                &server,
                &format!("?bucketName={name}&prefix=p"),
                form::whole(&[Field::file("f.txt", None, Bytes::from_static(b"x"))]),
            ),
            server.supreme(Method::GET, &format!("/files/list?bucketName={name}")),
            server.supreme(Method::GET, &format!("/files/list/data?bucketName={name}")),
            server.supreme(
                Method::DELETE,
                &format!("/files?fileKeys=k&bucketName={name}"),
            ),
        ];
        for request in requests {
            send(request).await.assert_error(400, "unknown-bucket");
        }
    }

    // Every file route needs a supreme token.
    for token in [Some(user.as_str()), None] {
        let requests = [
            server
                .request(Method::PUT, "/files/object?key=k", token)
                .body("x"),
            server
                .request(Method::POST, "/files", token)
                .header("content-type", form::content_type())
                .body(form_with("p", "f.txt")),
            server.request(Method::GET, "/files/list", token),
            server.request(Method::GET, "/files/list/data", token),
            server.request(Method::DELETE, "/files?fileKeys=k", token),
        ];
        for request in requests {
            let answer = send(request).await;
            match token {
                Some(_) => answer.assert_error(403, "forbidden"),
                None => answer.assert_error(401, "unauthorized"),
            }
        }
    }
    assert_eq!(
        keys_in(&server, "uploads", "").await.len(),
        0,
        "nothing was stored"
    );
}
