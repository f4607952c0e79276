//! End-to-end tests of triggers: Lambda and Step Functions on moto server, webhooks on a
//! local recorder, and peers that refuse connections or never answer. Ground truth (the
//! executions started, the requests sent) is read past Hoist.

mod catalog;
mod lambda;
mod limits;
mod step_function;
mod webhook;

use std::time::Duration;

use hoist_server::config::TriggerRoute;
use hoist_tests::{Answer, TestServer, moto, send};
use reqwest::Method;
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

/// `POST /trigger/{name}` with `{"data": data}`, a token and extra headers.
async fn call(
    server: &TestServer,
    name: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    data: Value,
) -> Answer {
    // Not a timing assertion: a safety net so that a hang fails the test instead of stalling
    // the suite. Every trigger in these tests has a much shorter timeout of its own.
    let mut request = server
        .request(Method::POST, &format!("/trigger/{name}"), token)
        .timeout(Duration::from_secs(60))
        .header("content-type", "application/json")
        .body(json!({ "data": data }).to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request).await
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
