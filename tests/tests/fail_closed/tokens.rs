//! Tokens: `nbf` in the future is refused, `aud` may be an array.

use hoist_tests::{TestServer, send};
use reqwest::Method;
use serde_json::json;

use super::{now, sign};

/// The test environment's secret, from configs/test.toml.
const SECRET: &str = "hoist-test-secret-hoist-test-secret";

#[tokio::test]
async fn a_token_not_valid_yet_is_refused() {
    let server = TestServer::start().await;
    let early = sign(
        SECRET,
        &json!({"exp": now() + 600, "nbf": now() + 300, "isSupreme": true}),
    );
    send(server.request(Method::GET, "/buckets", Some(&early)))
        .await
        .assert_error(401, "invalid-token");
    let valid = sign(
        SECRET,
        &json!({"exp": now() + 600, "nbf": now() - 5, "isSupreme": true}),
    );
    assert_eq!(
        send(server.request(Method::GET, "/buckets", Some(&valid)))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn an_audience_array_is_accepted_when_it_names_hoist() {
    let server = TestServer::start_with(|settings| {
        settings.auth.audience = Some("hoist".into());
    })
    .await;
    let many = sign(SECRET, &json!({"exp": now() + 600, "aud": ["x", "hoist"]}));
    let answer = send(server.request(Method::GET, "/buckets", Some(&many))).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let others = sign(SECRET, &json!({"exp": now() + 600, "aud": ["x", "y"]}));
    send(server.request(Method::GET, "/buckets", Some(&others)))
        .await
        .assert_error(401, "invalid-token");
}
