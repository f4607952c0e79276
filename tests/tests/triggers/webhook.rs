//! Webhook (`http`) triggers: the payload is POSTed as JSON with the route's headers and the
//! caller's ids, and the target's answer, refusal or failure comes back.

use hoist_tests::TestServer;
use hoist_tests::peers::Recorder;
use serde_json::json;

use super::{call, declare};

#[tokio::test]
async fn a_webhook_gets_the_payload_as_json_and_its_answer_comes_back() {
    let hook = Recorder::start(200, json!({"received": true})).await;
    let refusing = Recorder::start(422, json!({"error": "eventId unknown"})).await;
    let failing = Recorder::start(503, json!({"error": "down"})).await;
    let server = TestServer::start_with(|settings| {
        let mut route = declare("http", &format!("{}/hooks/wave", hook.url));
        route
            .headers
            .insert("x-hook-secret".into(), "s3cr3t".to_owned().into());
        settings.triggers.insert("hook".into(), route);
        settings
            .triggers
            .insert("refusing".into(), declare("http", &refusing.url));
        settings
            .triggers
            .insert("failing".into(), declare("http", &failing.url));
    })
    .await;
    let token = server.token(true);

    let answer = call(
        &server,
        "hook",
        Some(&token),
        &[
            ("x-correlation-id", "corr-hook-1"),
            ("idempotency-key", "k-1"),
        ],
        json!({"eventId": "123"}),
    )
    .await;
    assert_eq!(
        answer.data(),
        &json!({"success": true, "statusCode": 200, "payload": {"received": true}})
    );
    let sent = hook.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "POST");
    assert_eq!(sent[0].path, "/hooks/wave");
    assert_eq!(sent[0].json(), json!({"eventId": "123"}));
    assert_eq!(sent[0].header("content-type"), Some("application/json"));
    assert_eq!(sent[0].header("x-correlation-id"), Some("corr-hook-1"));
    assert_eq!(sent[0].header("idempotency-key"), Some("k-1"));
    assert_eq!(sent[0].header("x-hook-secret"), Some("s3cr3t"));

    let answer = call(
        &server,
        "refusing",
        Some(&token),
        &[],
        json!({"eventId": "0"}),
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        answer.data(),
        &json!({"success": false, "statusCode": 422, "payload": {"error": "eventId unknown"}})
    );

    let answer = call(&server, "failing", Some(&token), &[], json!({})).await;
    answer.assert_error(502, "trigger-failed");
    assert_eq!(failing.requests().len(), 1);
}
