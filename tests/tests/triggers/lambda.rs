//! Lambda triggers: a function's result comes back (sync), an event is accepted (async), a
//! function error is `success: false`, a missing function is a 502 whose AWS error code is
//! logged, and the client context carries the correlation and idempotency ids.

use std::time::Duration;

use base64::Engine;
use hoist_server::config::LambdaMode;
use hoist_tests::binary::BinaryServer;
use hoist_tests::peers::Recorder;
use hoist_tests::{TestServer, moto, send};
use serde_json::{Value, json};

use super::{call, declare, hoist_on_moto};

#[tokio::test]
async fn a_sync_lambda_returns_the_functions_result() {
    moto::lambda_without_docker().await;
    // Canned results are queued per region; no other test uses this one.
    let region = "ap-northeast-3";
    let name = moto::unique("wave");
    let arn = moto::create_function(&moto::endpoint(), region, &name).await;
    moto::queue_lambda_result(region, &json!({"processed": 3, "by": name})).await;
    let server = hoist_on_moto(vec![("wave", declare("lambda", &arn))]).await;

    let answer = call(
        &server,
        "wave",
        Some(&server.token(true)),
        &[],
        json!({"eventId": "123"}),
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        answer.data(),
        &json!({"success": true, "statusCode": 200, "payload": {"processed": 3, "by": name}})
    );
}

#[tokio::test]
async fn an_async_lambda_is_accepted_with_202_through_the_generated_client() {
    moto::lambda_without_docker().await;
    let name = moto::unique("sched");
    moto::create_function(&moto::endpoint(), "us-east-1", &name).await;
    let mut route = declare("lambda", &name);
    route.mode = Some(LambdaMode::Async);
    let server = hoist_on_moto(vec![("sched", route)]).await;

    let body = hoist_client::types::TriggerRequest {
        data: json!({"runAt": "now"}).as_object().unwrap().clone(),
    };
    let response = server
        .client()
        .trigger("sched", None, &body)
        .await
        .expect("the event is accepted");
    assert_eq!(response.status().as_u16(), 202);
    let outcome = response.into_inner().data;
    assert!(outcome.success);
    assert_eq!(outcome.status_code, Some(202));
    assert_eq!(outcome.payload, None, "an event has no result");
}

#[tokio::test]
async fn a_function_error_is_success_false_with_status_200() {
    // In its default mode moto has no Docker to run the function in, so every invocation of
    // an existing function ends in a function error, as a crashing function would.
    let endpoint = moto::default_mode_endpoint();
    let name = moto::unique("crash");
    moto::create_function(&endpoint, "us-east-1", &name).await;
    let server = TestServer::start_with(|settings| {
        moto::use_moto(settings, &endpoint);
        settings
            .triggers
            .insert("crash".into(), declare("lambda", &name));
    })
    .await;

    let answer = call(&server, "crash", Some(&server.token(true)), &[], json!({})).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let data = answer.data();
    assert_eq!(data["success"], false, "{data}");
    assert_eq!(data["functionError"], "Handled", "{data}");
    assert_eq!(data["statusCode"], 200, "{data}");
    assert!(data["payload"].is_string(), "the error it reported: {data}");
}

#[test]
fn a_missing_lambda_is_a_502_and_its_error_code_is_logged() {
    // The shipped routes.toml against a moto that has none of its functions.
    let dir = tempfile::tempdir().unwrap();
    let endpoint = moto::default_mode_endpoint();
    let server = BinaryServer::start(
        dir.path(),
        &[
            ("HOIST_AWS__ENDPOINT", endpoint.as_str()),
            ("HOIST_AWS__ACCESS_KEY_ID", moto::ACCESS_KEY),
            ("HOIST_AWS__SECRET_ACCESS_KEY", moto::SECRET_KEY),
        ],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let answer = runtime.block_on(async {
        let http = reqwest::Client::new();
        let token = send(http.get(format!("{}/dev/token?supreme=true", server.base_url))).await;
        send(
            http.post(format!("{}/trigger/waveprep", server.base_url))
                .bearer_auth(token.data()["token"].as_str().unwrap())
                .header("x-correlation-id", "missing-lambda-1")
                .json(&json!({"data": {"eventId": "123"}}))
                .timeout(Duration::from_secs(60)),
        )
        .await
    });
    let body = &answer.body;
    assert_eq!(answer.status, 502, "{body}");
    assert_eq!(body["error"]["code"], "trigger-failed", "{body}");
    assert_eq!(answer.correlation_id, "missing-lambda-1");
    assert!(
        !body.to_string().contains("ResourceNotFound"),
        "the cause is logged, not sent: {body}"
    );
    let logs = server.drain_logs(Duration::from_millis(500));
    let failure = logs
        .iter()
        .find(|line| line["error_code"] == "ResourceNotFoundException")
        .unwrap_or_else(|| panic!("no log line names the error code: {logs:#?}"));
    assert_eq!(failure["level"], "ERROR", "{failure}");
    assert_eq!(failure["trigger"], "waveprep", "{failure}");
    assert_eq!(
        failure["span"]["correlation_id"], "missing-lambda-1",
        "the line carries the correlation id: {failure}"
    );
    assert_eq!(
        failure["trigger_target"], "processSmsWaveFilesLambda",
        "{failure}"
    );
}

#[tokio::test]
async fn the_lambda_client_context_carries_the_correlation_id() {
    // A stand-in for the Lambda endpoint shows what Hoist puts on the wire.
    let lambda = Recorder::start(200, json!({"ok": true})).await;
    let server = TestServer::start_with(|settings| {
        moto::use_moto(settings, &lambda.url);
        settings.triggers.insert(
            "wave".into(),
            declare("lambda", "processSmsWaveFilesLambda"),
        );
    })
    .await;

    let answer = call(
        &server,
        "wave",
        Some(&server.token(true)),
        &[
            ("x-correlation-id", "corr-ctx-1"),
            ("idempotency-key", "wave-7"),
        ],
        json!({"eventId": "123"}),
    )
    .await;
    assert_eq!(answer.data()["payload"], json!({"ok": true}));
    let sent = lambda.requests();
    assert_eq!(sent.len(), 1, "one invocation, no retry: {sent:?}");
    let invocation = &sent[0];
    assert_eq!(
        invocation.path,
        "/2015-03-31/functions/processSmsWaveFilesLambda/invocations"
    );
    assert_eq!(
        invocation.header("x-amz-invocation-type"),
        Some("RequestResponse")
    );
    assert_eq!(invocation.json(), json!({"eventId": "123"}));
    let context = base64::engine::general_purpose::STANDARD
        .decode(
            invocation
                .header("x-amz-client-context")
                .expect("a client context"),
        )
        .unwrap();
    let context: Value = serde_json::from_slice(&context).unwrap();
    assert_eq!(
        context["custom"],
        json!({"correlationId": "corr-ctx-1", "idempotencyKey": "wave-7"})
    );
}
