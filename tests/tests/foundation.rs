//! End-to-end tests of the foundation: embedded store, readiness, envelopes, auth over HTTP,
//! the generated client, metrics, `check-config` and graceful shutdown.

use std::process::Command;

use hoist_server::config::BucketRoute;
use hoist_tests::binary::{BinaryServer, binary_path};
use hoist_tests::{TestServer, assert_client_error, send};
use reqwest::Method;

#[test]
fn binary_serves_the_embedded_store_with_logged_credentials_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = BinaryServer::start(
        dir.path(),
        &[("HOIST_STORAGE__EMBEDDED__ROOT", data.to_str().unwrap())],
    );
    let endpoint = server
        .startup_field("embedded_s3_endpoint")
        .expect("endpoint logged");
    let key = server.startup_field("access_key_id").expect("key logged");
    let secret = server
        .startup_field("secret_access_key")
        .expect("secret logged");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let names = runtime.block_on(async {
        let s3 = hoist_tests::s3_client(&endpoint, &key, &secret);
        let buckets = s3
            .list_buckets()
            .send()
            .await
            .expect("the embedded store answers");
        let heartbeat = reqwest::get(format!("{}/heartbeat", server.base_url))
            .await
            .unwrap();
        assert_eq!(heartbeat.status(), 200);
        buckets
            .buckets()
            .iter()
            .filter_map(|b| b.name().map(str::to_owned))
            .collect::<Vec<_>>()
    });
    assert!(names.contains(&"hoist-uploads".to_owned()), "{names:?}");
    assert!(names.contains(&"hoist-images".to_owned()), "{names:?}");
    assert!(
        data.join("hoist-uploads").is_dir(),
        "buckets are folders under the root"
    );
    let status = server.terminate();
    assert!(status.success(), "SIGTERM is a clean shutdown: {status:?}");
}

/// A log collector that stops reading (the pipe to it full) must not stall requests: lines
/// queue in the server's writer thread, none is dropped, and all reach the collector once it
/// reads again.
#[test]
fn requests_go_on_while_the_log_reader_stalls_and_no_line_is_lost() {
    const REQUESTS: usize = 2_000;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = BinaryServer::start(
        dir.path(),
        &[
            ("HOIST_STORAGE__EMBEDDED__ROOT", data.to_str().unwrap()),
            ("HOIST_LIMITS__PER_IP", "off"),
        ],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let stall = server.stall_logs();
    // About 300 bytes a line: 2,000 lines are ten times what a pipe holds (64 KiB).
    runtime.block_on(async {
        use futures_util::StreamExt;
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap();
        let base = server.base_url.as_str();
        futures_util::stream::iter(0..REQUESTS)
            .map(|i| {
                let client = client.clone();
                async move {
                    let response = client
                        .get(format!("{base}/heartbeat"))
                        .header("x-correlation-id", format!("stalled-{i}"))
                        .send()
                        .await
                        .unwrap_or_else(|error| {
                            panic!("request {i} with the log stalled: {error}")
                        });
                    assert_eq!(response.status(), 200);
                }
            })
            .buffer_unordered(8)
            .collect::<Vec<()>>()
            .await;
    });
    drop(stall);
    let mut served = std::collections::BTreeSet::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while served.len() < REQUESTS && std::time::Instant::now() < deadline {
        for line in server.drain_logs(std::time::Duration::from_millis(200)) {
            if line["message"] == "served"
                && let Some(id) = line["span"]["correlation_id"].as_str()
            {
                served.insert(id.to_owned());
            }
        }
    }
    let missing: Vec<_> = (0..REQUESTS)
        .map(|i| format!("stalled-{i}"))
        .filter(|id| !served.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} lines lost: {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    let (status, logs) = server.terminate_and_drain();
    assert!(status.success(), "{status:?}");
    assert_eq!(
        logs.last().map(|line| line["message"].clone()),
        Some("hoist stopped".into()),
        "the last line before the exit is written too"
    );
}

#[test]
fn check_config_lists_every_problem_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let routes = dir.path().join("routes.toml");
    std::fs::write(
        &routes,
        "[buckets.uploads]\nregoin = \"us-east-1\"\n[buckets.far]\nregion = \"moon-1\"\n\
         [files]\ndefault_bucket = \"uploads\"\n",
    )
    .unwrap();
    let output = Command::new(binary_path())
        .args(["check-config", "--routes"])
        .arg(&routes)
        .arg("--config-dir")
        .arg(hoist_tests::repo_root().join("configs"))
        .args(["--env", "test"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("buckets.uploads.regoin: unknown key"),
        "{stderr}"
    );
    assert!(stderr.contains("buckets.far.region"), "{stderr}");
    assert!(stderr.contains("2 configuration problem(s)"), "{stderr}");

    let ok = Command::new(binary_path())
        .arg("check-config")
        .current_dir(hoist_tests::repo_root())
        .env("HOIST_ENV", "test")
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn openapi_command_prints_the_spec_without_config() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(binary_path())
        .arg("openapi")
        .current_dir(dir.path())
        .env("HOIST_CONFIG_DIR", dir.path().join("nowhere"))
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        hoist_server::api::spec_yaml()
    );
}

#[tokio::test]
async fn ready_turns_503_when_an_alias_is_unreachable() {
    let healthy = TestServer::start().await;
    let answer = send(healthy.request(Method::GET, "/ready", None)).await;
    assert_eq!(answer.status, 200, "{answer:?}");

    let server = TestServer::start_with(|settings| {
        settings.buckets.insert(
            "far".into(),
            BucketRoute {
                name: Some("far-away".into()),
                // Nothing listens on port 1.
                endpoint: Some("http://127.0.0.1:1".into()),
                force_path_style: Some(true),
                ..BucketRoute::default()
            },
        );
    })
    .await;
    let answer = send(server.request(Method::GET, "/ready", None)).await;
    answer.assert_error(503, "not-ready");
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("far"), "{message}");
    assert!(
        !message.contains("uploads"),
        "healthy aliases are not blamed: {message}"
    );
}

#[tokio::test]
async fn every_error_uses_the_envelope_with_the_correlation_id() {
    let server = TestServer::start().await;

    send(server.request(Method::GET, "/no/such/route", None))
        .await
        .assert_error(404, "not-found");
    send(server.request(Method::DELETE, "/heartbeat", None))
        .await
        .assert_error(405, "method-not-allowed");
    let answer = send(server.request(Method::GET, "/dev/token?ttl=soon", None)).await;
    answer.assert_error(400, "bad-request");
    assert!(
        answer.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ttl")
    );

    let answer = send(
        server
            .request(Method::GET, "/nowhere", None)
            .header("x-correlation-id", "client-chosen-42"),
    )
    .await;
    assert_eq!(answer.correlation_id, "client-chosen-42");
    assert_eq!(answer.body["error"]["correlationId"], "client-chosen-42");

    let answer = send(
        server
            .request(Method::GET, "/heartbeat", None)
            .header("x-correlation-id", "bad id\twith control"),
    )
    .await;
    assert!(!answer.correlation_id.is_empty(), "{answer:?}");
    assert_ne!(
        answer.correlation_id, "bad id\twith control",
        "unsafe ids are replaced"
    );
}

#[tokio::test]
async fn tokens_are_checked_over_http() {
    let server = TestServer::start().await;
    let buckets = |token: Option<&str>| send(server.request(Method::GET, "/buckets", token));

    buckets(None).await.assert_error(401, "unauthorized");
    buckets(Some("not.a.jwt"))
        .await
        .assert_error(401, "invalid-token");

    let user = server.token(false);
    let answer = buckets(Some(&user)).await;
    assert_eq!(
        answer.status, 200,
        "buckets need only a user token: {answer:?}"
    );
    let body = &answer.body;
    let aliases: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["alias"].as_str().unwrap())
        .collect();
    assert_eq!(aliases, ["images", "uploads"]);
    assert!(
        !body.to_string().contains("hoist-uploads"),
        "real names stay private"
    );
}

#[tokio::test]
async fn dev_tokens_are_served_only_when_enabled() {
    let server = TestServer::start().await;
    let answer = send(server.request(Method::GET, "/dev/token?supreme=true&sub=ops", None)).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let token = answer.body["data"]["token"].as_str().unwrap();
    let claims = server.state.auth.verify(token).unwrap();
    assert!(claims.is_supreme);
    assert_eq!(claims.sub.as_deref(), Some("ops"));

    let locked = TestServer::start_with(|s| s.auth.dev_tokens = false).await;
    send(locked.request(Method::GET, "/dev/token", None))
        .await
        .assert_error(404, "not-found");
}

#[tokio::test]
async fn generated_client_calls_a_running_server() {
    let server = TestServer::start().await;
    let client = server.client();
    let heartbeat = client.heartbeat().await.unwrap().into_inner();
    assert_eq!(heartbeat.data.status, "ok");
    let buckets = client.list_buckets().await.unwrap().into_inner();
    let default: Vec<_> = buckets.data.iter().filter(|b| b.is_default).collect();
    assert_eq!(default.len(), 1);
    assert_eq!(default[0].alias, "uploads");

    let anonymous = hoist_client::Connect::new(&server.base_url, None)
        .client()
        .unwrap();
    assert_client_error(anonymous.list_buckets().await, 401, "unauthorized");
}

#[tokio::test]
async fn metrics_count_requests_by_operation() {
    let server = TestServer::start().await;
    let http = server.http();
    for _ in 0..3 {
        http.get(server.url("/heartbeat")).send().await.unwrap();
    }
    http.get(server.url("/missing")).send().await.unwrap();
    let text = server.metrics().await;
    assert!(
        text.contains(r#"hoist_http_requests_total{operation="heartbeat",status="200"} 3"#),
        "{text}"
    );
    assert!(
        text.contains(r#"hoist_http_requests_total{operation="unmatched",status="404"} 1"#),
        "{text}"
    );
    assert!(!text.contains("/missing"), "paths never become labels");
}

#[tokio::test]
async fn docs_and_spec_are_served() {
    let server = TestServer::start().await;
    let http = server.http();
    let spec = http.get(server.url("/openapi.yaml")).send().await.unwrap();
    assert_eq!(spec.status(), 200);
    assert_eq!(spec.text().await.unwrap(), hoist_server::api::spec_yaml());
    let docs = http.get(server.url("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("Swagger UI"));
}
