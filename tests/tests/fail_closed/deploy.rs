//! The binary as a deployment runs it: from an empty folder, with no `HOIST_ENV`, configured
//! by `HOIST_*` variables only. It serves as production (JSON logs, no dev tokens, no
//! embedded store), refuses to start with development settings, and its check-config,
//! print-config and healthcheck do what operators rely on.

use hoist_tests::binary::{BinaryServer, run_bare};
use hoist_tests::{moto, send};
use reqwest::Method;
use serde_json::json;

use super::{now, sign};

/// A production secret: 64 hex characters, as `openssl rand -hex 32` makes them.
const SECRET: &str = "4f1c2b9e8d7a6f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c";

#[tokio::test]
async fn an_unconfigured_binary_serves_as_production_against_s3() {
    let dir = tempfile::tempdir().expect("an empty folder");
    let endpoint = moto::endpoint();
    let env = [
        ("HOIST_AUTH__SECRET", SECRET),
        ("HOIST_AWS__ENDPOINT", endpoint.as_str()),
        ("HOIST_SERVER__BIND", "127.0.0.1:0"),
    ];
    let server = BinaryServer::start_bare(dir.path(), &env);
    for line in &server.startup_lines {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "every log line is JSON: {line}"
        );
    }
    assert!(
        server
            .startup_logs
            .iter()
            .any(|line| line["environment"] == "production"),
        "{:?}",
        server.startup_logs
    );
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.base_url);
    let heartbeat = send(http.get(url("/heartbeat"))).await;
    assert_eq!(heartbeat.status, 200, "{heartbeat:?}");
    send(http.get(url("/dev/token?supreme=true")))
        .await
        .assert_error(404, "not-found");
    let token = sign(SECRET, &json!({"exp": now() + 600, "isSupreme": true}));
    let buckets = send(http.get(url("/buckets")).bearer_auth(&token)).await;
    assert_eq!(buckets.data(), &json!([]), "no routes file, no alias");
    drop(server);
    assert!(
        std::fs::read_dir(dir.path())
            .expect("the folder")
            .next()
            .is_none(),
        "nothing written to the working folder (no embedded store)"
    );

    // The same binary with a bucket declared in the environment stores on S3 (moto),
    // with credentials from the default chain.
    let bucket = moto::unique_bucket("deploy");
    let s3 = moto::create_bucket(&bucket).await;
    let env = [
        ("HOIST_AUTH__SECRET", SECRET),
        ("HOIST_AWS__ENDPOINT", endpoint.as_str()),
        ("HOIST_AWS__FORCE_PATH_STYLE", "true"),
        ("HOIST_SERVER__BIND", "127.0.0.1:0"),
        ("HOIST_BUCKETS__UPLOADS__NAME", bucket.as_str()),
        ("HOIST_FILES__DEFAULT_BUCKET", "uploads"),
        ("AWS_ACCESS_KEY_ID", moto::ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", moto::SECRET_KEY),
    ];
    let server = BinaryServer::start_bare(dir.path(), &env);
    let stored = send(
        http.put(format!("{}/files/object?key=deployed.txt", server.base_url))
            .bearer_auth(&token)
            .header("content-type", "text/plain")
            .body("from a bare binary"),
    )
    .await;
    assert_eq!(stored.status, 200, "{stored:?}");
    let object = s3
        .get_object()
        .bucket(&bucket)
        .key("deployed.txt")
        .send()
        .await
        .expect("the object is on S3");
    let bytes = object.body.collect().await.expect("body").into_bytes();
    assert_eq!(&bytes[..], b"from a bare binary");
}

#[test]
fn production_refuses_to_start_with_development_settings() {
    let dir = tempfile::tempdir().expect("an empty folder");
    let development_secret = "hoist-development-secret-not-for-production";
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[
                ("HOIST_AUTH__SECRET", SECRET),
                ("HOIST_AUTH__DEV_TOKENS", "true"),
            ],
            "auth.dev_tokens",
        ),
        (&[], "auth.secret: HS256 needs a secret"),
        (&[("HOIST_AUTH__SECRET", development_secret)], "checked in"),
        (&[("HOIST_AUTH__SECRET", "short")], "at least 32 bytes"),
        (
            &[
                ("HOIST_AUTH__SECRET", SECRET),
                ("HOIST_STORAGE__EMBEDDED__ENABLED", "true"),
            ],
            "storage.embedded.enabled",
        ),
    ];
    for (env, reason) in cases {
        let run = run_bare(dir.path(), &[], env);
        assert!(!run.success, "{env:?} must not start: {run:?}");
        assert!(
            run.stderr
                .contains("refusing to start (production environment)"),
            "{run:?}"
        );
        assert!(run.stderr.contains(reason), "{env:?}: {reason} in {run:?}");
    }
    // Development is a choice that must be spelled out.
    let run = run_bare(
        dir.path(),
        &["check-config"],
        &[
            ("HOIST_ENV", "development"),
            ("HOIST_AUTH__SECRET", development_secret),
            ("HOIST_AUTH__DEV_TOKENS", "true"),
        ],
    );
    assert!(run.success, "{run:?}");
}

#[test]
fn a_file_named_explicitly_must_exist() {
    let dir = tempfile::tempdir().expect("an empty folder");
    let run = run_bare(
        dir.path(),
        &["check-config", "--routes", "missing-routes.toml"],
        &[("HOIST_AUTH__SECRET", SECRET)],
    );
    assert!(!run.success, "{run:?}");
    assert!(
        run.stderr.contains("missing-routes.toml: file not found"),
        "{run:?}"
    );
    let run = run_bare(
        dir.path(),
        &["check-config"],
        &[
            ("HOIST_AUTH__SECRET", SECRET),
            ("HOIST_CONFIG_DIR", "/nonexistent/hoist"),
        ],
    );
    assert!(!run.success, "{run:?}");
    assert!(run.stderr.contains("config folder not found"), "{run:?}");
}

#[test]
fn check_config_lists_every_mistake_of_a_routes_file_with_a_type_error() {
    let dir = tempfile::tempdir().expect("a folder");
    let routes = dir.path().join("routes.toml");
    std::fs::write(
        &routes,
        r#"
[buckets.uploads]
nmae = "acme-uploads"

[buckets.shared]
role_arn = "arn:aws:iam::12:role/x"
region = "mars-1"

[files]
default_bucket = "missing"

[triggers.waveprep]
kind = "lambda"
target = "processSmsWaveFilesLambda"
timeout = 30

[triggers.other]
kind = "lamda"
target = "x"
"#,
    )
    .expect("routes written");
    let run = run_bare(
        dir.path(),
        &["check-config", "--routes", "routes.toml"],
        &[("HOIST_AUTH__SECRET", SECRET)],
    );
    assert!(!run.success, "{run:?}");
    for expected in [
        "triggers.waveprep.timeout: invalid type",
        "buckets.uploads.nmae: unknown key; did you mean `name`?",
        "buckets.shared.role_arn",
        "buckets.shared.region",
        "files.default_bucket",
        "triggers.other.kind",
    ] {
        assert!(
            run.stderr.contains(expected),
            "{expected} in {}",
            run.stderr
        );
    }
    assert!(
        run.stderr.starts_with("6 configuration problem(s)"),
        "{}",
        run.stderr
    );
}

#[test]
fn print_config_shows_the_merged_settings_with_secrets_redacted() {
    let dir = tempfile::tempdir().expect("an empty folder");
    let run = run_bare(
        dir.path(),
        &["print-config"],
        &[
            ("HOIST_AUTH__SECRET", SECRET),
            ("HOIST_AWS__ACCESS_KEY_ID", "AKIAEXAMPLE"),
            ("HOIST_AWS__SECRET_ACCESS_KEY", "aws-secret-value"),
            ("HOIST_SERVER__BIND", "0.0.0.0:9000"),
        ],
    );
    assert!(run.success, "{run:?}");
    assert!(
        !run.stdout.contains(SECRET) && !run.stdout.contains("aws-secret-value"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("secret = \"<redacted>\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("bind = \"0.0.0.0:9000\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("log_format = \"json\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("# environment: production"),
        "{}",
        run.stdout
    );
    let same = run_bare(
        dir.path(),
        &["check-config", "--print"],
        &[("HOIST_AUTH__SECRET", SECRET)],
    );
    assert!(same.success && same.stdout.contains("[server]"), "{same:?}");
}

#[tokio::test]
async fn the_admin_listener_takes_metrics_and_readiness_off_the_public_port() {
    let dir = tempfile::tempdir().expect("an empty folder");
    let env = [
        ("HOIST_AUTH__SECRET", SECRET),
        ("HOIST_SERVER__BIND", "127.0.0.1:0"),
        ("HOIST_SERVER__ADMIN_BIND", "127.0.0.1:0"),
    ];
    let server = BinaryServer::start_bare(dir.path(), &env);
    let admin = server
        .startup_logs
        .iter()
        .find(|line| {
            line["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("hoist admin listening"))
        })
        .and_then(|line| line["addr"].as_str())
        .map(|addr| format!("http://{addr}"))
        .expect("the admin address is logged");
    let http = reqwest::Client::new();
    for path in ["/metrics", "/ready"] {
        send(http.get(format!("{}{path}", server.base_url)))
            .await
            .assert_error(404, "not-found");
    }
    assert_eq!(
        send(http.get(format!("{}/heartbeat", server.base_url)))
            .await
            .status,
        200
    );
    let metrics = http
        .get(format!("{admin}/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics.text().await.expect("text").contains("hoist_"),
        "Prometheus text"
    );
    assert_eq!(send(http.get(format!("{admin}/ready"))).await.status, 200);
    assert_eq!(
        send(http.get(format!("{admin}/heartbeat"))).await.status,
        200
    );
    send(http.request(Method::GET, format!("{admin}/buckets")))
        .await
        .assert_error(404, "not-found");

    // The container's HEALTHCHECK: by URL, and by [server] bind from the environment.
    let heartbeat = format!("{}/heartbeat", server.base_url);
    assert!(run_bare(dir.path(), &["healthcheck", "--url", &heartbeat], &[]).success);
    let bind = server.base_url.trim_start_matches("http://").to_owned();
    assert!(
        run_bare(
            dir.path(),
            &["healthcheck"],
            &[("HOIST_SERVER__BIND", &bind)]
        )
        .success
    );
    drop(server);
    let down = run_bare(dir.path(), &["healthcheck", "--url", &heartbeat], &[]);
    assert!(
        !down.success && down.stderr.contains("did not answer"),
        "{down:?}"
    );
}
