//! Which triggers exist and who may call them: per-trigger auth levels, unknown names, the
//! listing (targets for supreme callers only), and calls counted by name, kind and outcome.

use hoist_server::auth::Level;
use hoist_tests::peers::{REFUSED_URL, Recorder};
use hoist_tests::{TestServer, send};
use reqwest::Method;
use serde_json::json;

use super::{call, declare};

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
async fn triggers_are_listed_with_targets_for_supreme_callers_only() {
    let server = TestServer::start().await;
    let answer = send(server.request(Method::GET, "/triggers", None)).await;
    assert_eq!(answer.status, 401);

    let answer = send(server.request(Method::GET, "/triggers", Some(&server.token(false)))).await;
    assert_eq!(answer.status, 200);
    let body = &answer.body;
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
