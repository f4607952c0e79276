//! What stops a trigger call: payloads over the target's or the route's limit (refused
//! before any call), and targets that refuse connections or never answer (a 502 within
//! the route's timeout).

use std::time::Duration;

use hoist_server::config::TriggerRoute;
use hoist_tests::peers::{BlackHole, REFUSED_URL, Recorder};
use hoist_tests::{TestServer, moto};
use serde_json::json;

use super::{call, declare, executions, hoist_on_moto};

#[tokio::test]
async fn an_oversized_payload_is_refused_before_any_call() {
    // Step Functions takes 256 KiB of input.
    let machine = moto::create_state_machine(&moto::unique("selection")).await;
    let server = hoist_on_moto(vec![("selection", declare("step-function", &machine))]).await;
    let token = server.token(true);
    let big = "x".repeat(300 * 1024);
    let answer = call(
        &server,
        "selection",
        Some(&token),
        &[],
        json!({"blob": big}),
    )
    .await;
    answer.assert_error(413, "payload-too-large");
    assert!(
        executions(&machine).await.is_empty(),
        "no execution started"
    );
    call(
        &server,
        "selection",
        Some(&token),
        &[],
        json!({"blob": "fits"}),
    )
    .await
    .data();
    assert_eq!(
        executions(&machine).await.len(),
        1,
        "the limit was all in the way"
    );

    // A Lambda function limited by its declaration, on a stand-in endpoint that shows
    // whether Hoist sent anything.
    let lambda = Recorder::start(200, json!({})).await;
    let server = TestServer::start_with(|settings| {
        moto::use_moto(settings, &lambda.url);
        settings.server.json_body_limit = 16 * 1024;
        let mut small = declare("lambda", "smallLambda");
        small.max_payload = Some(1024);
        settings.triggers.insert("small".into(), small);
        // Lambda's own limit (6 MiB) is above the JSON body limit.
        settings
            .triggers
            .insert("roomy".into(), declare("lambda", "roomyLambda"));
    })
    .await;
    let token = server.token(true);
    let answer = call(
        &server,
        "small",
        Some(&token),
        &[],
        json!({"blob": "y".repeat(2000)}),
    )
    .await;
    answer.assert_error(413, "payload-too-large");
    // Over the JSON body limit, the body is refused before it is parsed; for a caller the
    // trigger does not admit, before it is read at all.
    let over = json!({"blob": "z".repeat(20 * 1024)});
    let answer = call(&server, "roomy", Some(&token), &[], over.clone()).await;
    answer.assert_error(413, "payload-too-large");
    let answer = call(&server, "roomy", None, &[], over).await;
    answer.assert_error(401, "unauthorized");
    assert!(lambda.requests().is_empty(), "Lambda was never called");
    call(&server, "small", Some(&token), &[], json!({"blob": "fits"}))
        .await
        .data();
    assert_eq!(lambda.requests().len(), 1, "the limit was all in the way");
}

#[tokio::test]
async fn an_unreachable_or_silent_target_is_a_502_within_its_timeout() {
    let silent = BlackHole::start().await;
    let short = |mut route: TriggerRoute| {
        route.timeout = Some(Duration::from_millis(500));
        route
    };
    let refusing_aws = TestServer::start_with(|settings| {
        moto::use_moto(settings, REFUSED_URL);
        settings
            .triggers
            .insert("lambda".into(), short(declare("lambda", "fn")));
        let machine = format!("arn:aws:states:us-east-1:{}:stateMachine:s", moto::ACCOUNT);
        settings
            .triggers
            .insert("sfn".into(), short(declare("step-function", &machine)));
        settings
            .triggers
            .insert("hook".into(), short(declare("http", REFUSED_URL)));
    })
    .await;
    let silent_aws = TestServer::start_with(|settings| {
        moto::use_moto(settings, &silent.url);
        // Only the triggers' own timeouts can end these calls before the client's 60 s
        // safety net fails the test.
        settings.aws.attempt_timeout = Duration::from_secs(600);
        settings
            .triggers
            .insert("lambda".into(), short(declare("lambda", "fn")));
        settings
            .triggers
            .insert("hook".into(), short(declare("http", &silent.url)));
    })
    .await;

    for (server, name) in [
        (&refusing_aws, "lambda"),
        (&refusing_aws, "sfn"),
        (&refusing_aws, "hook"),
        (&silent_aws, "lambda"),
        (&silent_aws, "hook"),
    ] {
        let answer = call(server, name, Some(&server.token(true)), &[], json!({})).await;
        answer.assert_error(502, "trigger-failed");
    }
}
