//! Images that are refused: wrong or unsupported types, content that is not what it claims,
//! too large, bad base64, malformed bodies and missing tokens. None stores anything.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hoist_tests::TestServer;
use serde_json::json;

use super::{GIF, PNG, post_image, stored_keys};

#[tokio::test]
async fn every_refusal_stores_nothing() {
    // A small maximum, so an oversized image is a few bytes.
    let server = TestServer::start_with(|settings| settings.images.max_size = 64).await;
    let user = server.token(false);
    // Both under the 64-byte maximum, so they are refused for what they are.
    let html = b"<html><script>alert(document.cookie)</script></html>";
    let pdf = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n";
    let cases = [
        (
            json!({"base64": STANDARD.encode(GIF), "contentType": "image/svg+xml"}),
            415,
            "unsupported-content-type",
        ),
        (
            json!({"base64": STANDARD.encode(GIF), "contentType": "text/html"}),
            415,
            "unsupported-content-type",
        ),
        (
            json!({"base64": STANDARD.encode(GIF), "contentType": "image/jpeg"}),
            415,
            "content-type-mismatch",
        ),
        (
            json!({"base64": STANDARD.encode(pdf), "contentType": "image/gif"}),
            415,
            "content-type-mismatch",
        ),
        (
            json!({"base64": STANDARD.encode(html), "contentType": "image/gif", "fileName": "cat.gif"}),
            415,
            "content-type-mismatch",
        ),
        (
            json!({"base64": format!("data:image/png;base64,{}", STANDARD.encode(GIF)), "contentType": "image/gif"}),
            415,
            "content-type-mismatch",
        ),
        (
            // The 69-byte PNG is over the 64-byte maximum.
            json!({"base64": STANDARD.encode(PNG), "contentType": "image/png"}),
            413,
            "file-too-large",
        ),
        (
            json!({"base64": "R0lGOD!!", "contentType": "image/gif"}),
            400,
            "invalid-base64",
        ),
        (
            json!({"base64": "", "contentType": "image/gif"}),
            400,
            "invalid-base64",
        ),
        (json!({"base64": STANDARD.encode(GIF)}), 400, "bad-request"),
        (json!({"contentType": "image/gif"}), 400, "bad-request"),
        (
            json!({"base64": ["R0lGODdh"], "contentType": "image/gif"}),
            400,
            "bad-request",
        ),
    ];
    for (body, status, code) in &cases {
        let answer = post_image(&server, Some(&user), body).await;
        assert_eq!(
            (answer.status, &answer.body["error"]["code"]),
            (*status, &json!(code)),
            "{body}"
        );
        answer.assert_error(*status, code);
    }
    let answer = post_image(
        &server,
        None,
        &json!({"base64": STANDARD.encode(GIF), "contentType": "image/gif"}),
    )
    .await;
    answer.assert_error(401, "unauthorized");
    let answer = post_image(
        &server,
        Some("not.a.jwt"),
        &json!({"base64": STANDARD.encode(GIF), "contentType": "image/gif"}),
    )
    .await;
    answer.assert_error(401, "invalid-token");

    assert!(
        stored_keys(&server).await.is_empty(),
        "a refusal stores nothing"
    );
    // The refusals are counted by reason.
    let metrics = server.metrics().await;
    assert!(
        metrics.contains(r#"hoist_upload_failures_total{reason="content-type-mismatch"} 4"#),
        "{metrics}"
    );

    // The same image within the limit is stored: the refusals above were for their reasons.
    let answer = post_image(
        &server,
        Some(&user),
        &json!({"base64": STANDARD.encode(GIF), "contentType": "image/gif"}),
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(stored_keys(&server).await.len(), 1);
}

#[tokio::test]
async fn json_types_are_strict_and_refusals_name_the_field_plainly() {
    let server = TestServer::start().await;
    let user = server.token(false);
    // poem-openapi's own parser would store the number 5 as the text "5".
    let answer = post_image(
        &server,
        Some(&user),
        &json!({"base64": 5, "contentType": "image/png"}),
    )
    .await;
    answer.assert_error(400, "bad-request");
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert_eq!(
        message,
        "invalid body: `base64`: invalid type: integer `5`, expected a string"
    );
    for internal in ["ImageUpload", "occurred", "integer(", "line 1"] {
        assert!(!message.contains(internal), "{message}");
    }
}
