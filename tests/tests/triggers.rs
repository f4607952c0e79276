//! End-to-end tests of triggers: Lambda and Step Functions on moto server, webhooks on a
//! local recorder, and peers that refuse connections or never answer. Ground truth (the
//! executions started, the requests sent) is read past Hoist.

use std::time::Duration;

use base64::Engine;
use hoist_server::auth::Level;
use hoist_server::config::{LambdaMode, TriggerRoute};
use hoist_tests::TestServer;
use hoist_tests::binary::BinaryServer;
use hoist_tests::moto;
use hoist_tests::peers::{BlackHole, REFUSED_URL, Recorder};
use serde_json::{Value, json};

/// A declaration as `routes.toml` would make it.
fn declare(kind: &str, target: &str) -> TriggerRoute {
    TriggerRoute {
        kind: kind.into(),
        target: target.into(),
        ..TriggerRoute::default()
    }
}

/// Hoist with these triggers (and the default ones) and its AWS clients on the shared moto.
async fn hoist_on_moto(triggers: Vec<(&str, TriggerRoute)>) -> TestServer {
    TestServer::start_with(|settings| {
        moto::use_moto(settings, &moto::endpoint());
        for (name, route) in triggers {
            settings.triggers.insert(name.into(), route);
        }
    })
    .await
}

/// An answer of Hoist: status, correlation id header, JSON body.
#[derive(Debug)]
struct Answer {
    status: u16,
    correlation_id: String,
    body: Value,
}

impl Answer {
    fn data(&self) -> &Value {
        assert_eq!(self.status / 100, 2, "a success: {self:?}");
        &self.body["data"]
    }

    fn assert_error(&self, status: u16, code: &str) {
        hoist_tests::assert_error(self.status, &self.body, status, code);
        assert_eq!(
            self.body["error"]["correlationId"], self.correlation_id,
            "the body and the header carry the same correlation id"
        );
    }
}

/// `POST /trigger/{name}` with `{"data": data}`, a token and extra headers.
async fn call(
    server: &TestServer,
    name: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    data: Value,
) -> Answer {
    send(
        server,
        name,
        token,
        headers,
        json!({ "data": data }).to_string(),
    )
    .await
}

async fn send(
    server: &TestServer,
    name: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: String,
) -> Answer {
    // Not a timing assertion: a safety net so that a hang fails the test instead of stalling
    // the suite. Every trigger in these tests has a much shorter timeout of its own.
    let mut request = server
        .http()
        .post(server.url(&format!("/trigger/{name}")))
        .timeout(Duration::from_secs(60))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("Hoist answers");
    let status = response.status().as_u16();
    let correlation_id = response.headers()["x-correlation-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = response.json().await.expect("a JSON body");
    Answer {
        status,
        correlation_id,
        body,
    }
}

async fn executions(state_machine: &str) -> Vec<String> {
    let list = moto::sfn()
        .list_executions()
        .state_machine_arn(state_machine)
        .send()
        .await
        .expect("moto lists executions");
    list.executions()
        .iter()
        .map(|e| e.name().to_owned())
        .collect()
}

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
    let (status, correlation_id, body) = runtime.block_on(async {
        let http = reqwest::Client::new();
        let token: Value = http
            .get(format!("{}/dev/token?supreme=true", server.base_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let response = http
            .post(format!("{}/trigger/waveprep", server.base_url))
            .bearer_auth(token["data"]["token"].as_str().unwrap())
            .header("x-correlation-id", "missing-lambda-1")
            .json(&json!({"data": {"eventId": "123"}}))
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let correlation_id = response.headers()["x-correlation-id"]
            .to_str()
            .unwrap()
            .to_owned();
        (
            status,
            correlation_id,
            response.json::<Value>().await.unwrap(),
        )
    });
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "trigger-failed", "{body}");
    assert_eq!(correlation_id, "missing-lambda-1");
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

#[tokio::test]
async fn a_step_function_execution_gets_the_payload_and_the_correlation_id() {
    let machine = moto::create_state_machine(&moto::unique("selection")).await;
    let mut custom_field = declare("step-function", &machine);
    custom_field.correlation_field = Some("traceId".into());
    let server = hoist_on_moto(vec![
        ("selection", declare("step-function", &machine)),
        ("traced", custom_field),
    ])
    .await;
    let token = server.token(true);

    let answer = call(
        &server,
        "selection",
        Some(&token),
        &[("x-correlation-id", "corr-sfn-1")],
        json!({"eventId": "123", "seats": 2}),
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let data = answer.data();
    assert_eq!(data["success"], true);
    let arn = data["executionArn"].as_str().expect("an execution ARN");
    assert!(
        data["startDate"].as_str().is_some_and(|d| d.ends_with('Z')),
        "{data}"
    );

    let execution = moto::sfn()
        .describe_execution()
        .execution_arn(arn)
        .send()
        .await
        .expect("moto knows the execution");
    assert_eq!(execution.state_machine_arn(), machine);
    let input: Value = serde_json::from_str(execution.input().unwrap()).unwrap();
    assert_eq!(
        input,
        json!({"eventId": "123", "seats": 2, "correlationId": "corr-sfn-1"})
    );

    let answer = call(
        &server,
        "traced",
        Some(&token),
        &[("x-correlation-id", "corr-sfn-2")],
        json!({"eventId": "124"}),
    )
    .await;
    let execution = moto::sfn()
        .describe_execution()
        .execution_arn(answer.data()["executionArn"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let input: Value = serde_json::from_str(execution.input().unwrap()).unwrap();
    assert_eq!(input, json!({"eventId": "124", "traceId": "corr-sfn-2"}));

    let answer = call(
        &server,
        "selection",
        Some(&token),
        &[],
        json!({"correlationId": "mine"}),
    )
    .await;
    answer.assert_error(400, "reserved-field");
}

#[tokio::test]
async fn an_idempotency_key_sent_twice_starts_one_execution() {
    let machine = moto::create_state_machine(&moto::unique("selection")).await;
    let server = hoist_on_moto(vec![("selection", declare("step-function", &machine))]).await;
    let token = server.token(true);
    let key = moto::unique("order");
    let data = json!({"eventId": "123"});

    // Each request has its own correlation id, so the inputs differ: Step Functions alone
    // would refuse the second as ExecutionAlreadyExists rather than return the first.
    let first = call(
        &server,
        "selection",
        Some(&token),
        &[("idempotency-key", &key)],
        data.clone(),
    )
    .await;
    let second = call(
        &server,
        "selection",
        Some(&token),
        &[("idempotency-key", &key)],
        data.clone(),
    )
    .await;
    assert_ne!(first.correlation_id, second.correlation_id);
    assert_eq!(first.data()["executionArn"], second.data()["executionArn"]);
    assert_eq!(first.data()["startDate"], second.data()["startDate"]);
    assert!(
        first.data()["executionArn"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{key}")),
        "the key names the execution"
    );
    assert_eq!(executions(&machine).await, [key.as_str()]);

    let other = call(
        &server,
        "selection",
        Some(&token),
        &[("idempotency-key", &key)],
        json!({"eventId": "999"}),
    )
    .await;
    other.assert_error(409, "idempotency-conflict");
    assert_eq!(executions(&machine).await.len(), 1);

    let bad = call(
        &server,
        "selection",
        Some(&token),
        &[("idempotency-key", "a b")],
        data.clone(),
    )
    .await;
    bad.assert_error(400, "invalid-idempotency-key");

    // Without a key every call is a new execution.
    for _ in 0..2 {
        call(&server, "selection", Some(&token), &[], data.clone())
            .await
            .data();
    }
    assert_eq!(executions(&machine).await.len(), 3);
}

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

#[tokio::test]
async fn each_trigger_has_its_own_auth_level() {
    let hook = Recorder::start(200, json!({})).await;
    let server = TestServer::start_with(|settings| {
        for (name, level) in [
            ("open", Level::Public),
            ("members", Level::User),
            ("admins", Level::Supreme),
        ] {
            let mut route = declare("http", &hook.url);
            route.auth = level;
            settings.triggers.insert(name.into(), route);
        }
    })
    .await;
    let user = server.token(false);
    let supreme = server.token(true);

    call(&server, "open", None, &[], json!({})).await.data();
    call(&server, "open", Some(&user), &[], json!({}))
        .await
        .data();
    call(&server, "open", Some("not.a.jwt"), &[], json!({}))
        .await
        .assert_error(401, "invalid-token");

    call(&server, "members", None, &[], json!({}))
        .await
        .assert_error(401, "unauthorized");
    call(&server, "members", Some(&user), &[], json!({}))
        .await
        .data();

    call(&server, "admins", None, &[], json!({}))
        .await
        .assert_error(401, "unauthorized");
    call(&server, "admins", Some(&user), &[], json!({}))
        .await
        .assert_error(403, "forbidden");
    call(&server, "admins", Some(&supreme), &[], json!({}))
        .await
        .data();

    assert_eq!(
        hook.requests().len(),
        4,
        "refused calls never reach the target"
    );
}

#[tokio::test]
async fn an_unknown_trigger_is_a_404() {
    let server = TestServer::start().await;
    for token in [None, Some(server.token(true))] {
        call(&server, "no-such-trigger", token.as_deref(), &[], json!({}))
            .await
            .assert_error(404, "unknown-trigger");
    }
}

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

#[tokio::test]
async fn triggers_are_listed_with_targets_for_supreme_callers_only() {
    let server = TestServer::start().await;
    let response = server
        .http()
        .get(server.url("/triggers"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    let response = server
        .http()
        .get(server.url("/triggers"))
        .bearer_auth(server.token(false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let names: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    // The five triggers of the old service, as the shipped routes.toml declares them.
    assert_eq!(
        names,
        [
            "ccpa",
            "gen-sms-wave-codes",
            "process-scheduled",
            "selection",
            "waveprep"
        ]
    );
    assert_eq!(
        body["data"][0],
        json!({
            "name": "ccpa", "kind": "lambda", "auth": "public", "mode": "sync",
            "description": "Records a CCPA (privacy) request.",
            "timeoutMs": 30000, "maxPayload": 6291456
        })
    );
    let text = body.to_string();
    assert!(!text.contains("target"), "{text}");
    assert!(!text.contains("Lambda\""), "no function names: {text}");
    assert!(!text.contains("arn:"), "no ARNs: {text}");

    let listed = server.client().list_triggers().await.unwrap().into_inner();
    let selection = listed.data.iter().find(|t| t.name == "selection").unwrap();
    assert_eq!(selection.kind, "step-function");
    assert_eq!(selection.auth, hoist_client::types::Level::Supreme);
    assert_eq!(selection.mode, None);
    assert_eq!(
        selection.target.as_deref(),
        Some("arn:aws:states:us-east-1:123456789012:stateMachine:selectionStepFn")
    );
}

#[tokio::test]
async fn trigger_calls_are_counted_by_name_kind_and_outcome() {
    let hook = Recorder::start(200, json!({})).await;
    let server = TestServer::start_with(|settings| {
        settings
            .triggers
            .insert("hook".into(), declare("http", &hook.url));
        settings
            .triggers
            .insert("down".into(), declare("http", REFUSED_URL));
    })
    .await;
    let token = server.token(true);
    for _ in 0..2 {
        call(&server, "hook", Some(&token), &[], json!({}))
            .await
            .data();
    }
    call(&server, "down", Some(&token), &[], json!({}))
        .await
        .assert_error(502, "trigger-failed");
    call(&server, "nope", Some(&token), &[], json!({}))
        .await
        .assert_error(404, "unknown-trigger");
    let text = server.metrics().await;
    for line in [
        r#"hoist_trigger_calls_total{kind="http",name="hook",outcome="ok"} 2"#,
        r#"hoist_trigger_calls_total{kind="http",name="down",outcome="failed"} 1"#,
        r#"hoist_trigger_duration_seconds_count{kind="http",name="hook"} 2"#,
    ] {
        assert!(text.contains(line), "{line} in:\n{text}");
    }
    assert!(!text.contains("nope"), "unknown names never become labels");
}
