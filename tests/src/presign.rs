//! Presigned URLs as a client uses them: asked of Hoist, then sent straight to the store with
//! exactly the headers Hoist said to send.

use reqwest::Method;
use serde_json::Value;

use crate::{Answer, TestServer, send};

/// `POST /files/presign` with `token`.
pub async fn presign(server: &TestServer, token: &str, body: Value) -> Answer {
    send(
        server
            .request(Method::POST, "/files/presign", Some(token))
            .json(&body),
    )
    .await
}

/// Sends the method a presign answer's `data` names to its URL, with the headers it lists.
pub async fn use_url(data: &Value, body: Option<Vec<u8>>) -> reqwest::Response {
    let method = Method::from_bytes(data["method"].as_str().expect("a method").as_bytes())
        .expect("an HTTP method");
    let mut request = reqwest::Client::new().request(method, data["url"].as_str().expect("a url"));
    for (name, value) in data["headers"].as_object().expect("a header map") {
        request = request.header(name, value.as_str().expect("text"));
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    request.send().await.expect("the store answers")
}
