//! CORS as a browser sees it: the preflight of an allowed origin is answered with the allow
//! headers, any other origin's is refused in the envelope with no `Access-Control-*` header,
//! actual responses expose what a page must read (correlation id, tus headers), errors keep
//! their envelope, CORS is off unless origins are listed, and the env form works on the binary.

use hoist_tests::binary::BinaryServer;
use hoist_tests::{TestServer, send};
use reqwest::Method;
use reqwest::header::HeaderMap;

const APP: &str = "https://app.example.com";

async fn with_cors() -> TestServer {
    TestServer::start_with(|settings| {
        settings.cors.allowed_origins = vec![APP.into(), "http://127.0.0.1:5173".into()];
    })
    .await
}

/// A preflight for `method` with `headers` from `origin`.
async fn preflight(
    base: &str,
    path: &str,
    origin: &str,
    method: &str,
    headers: &str,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .request(Method::OPTIONS, format!("{base}{path}"))
        .header("origin", origin)
        .header("access-control-request-method", method);
    if !headers.is_empty() {
        request = request.header("access-control-request-headers", headers);
    }
    request.send().await.expect("Hoist answers")
}

/// The comma-separated values of `name`, lowercased, whatever the number of header lines.
fn listed(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .flat_map(|value| value.to_str().expect("text").split(','))
        .map(|item| item.trim().to_ascii_lowercase())
        .filter(|item| !item.is_empty())
        .collect()
}

fn no_cors_headers(headers: &HeaderMap) {
    for name in headers.keys() {
        assert!(
            !name.as_str().starts_with("access-control-"),
            "no CORS header for this origin: {headers:?}"
        );
    }
}

#[tokio::test]
async fn a_preflight_from_an_allowed_origin_gets_the_allow_headers() {
    let server = with_cors().await;
    let response = preflight(
        &server.base_url,
        "/files",
        APP,
        "POST",
        "authorization, content-type, idempotency-key, x-amz-checksum-crc32c",
    )
    .await;
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers["access-control-allow-origin"], APP);
    let methods = listed(headers, "access-control-allow-methods");
    for method in ["get", "post", "put", "patch", "delete", "head"] {
        assert!(
            methods.contains(&method.to_owned()),
            "{method}: {methods:?}"
        );
    }
    let allowed = listed(headers, "access-control-allow-headers");
    for header in [
        "authorization",
        "content-type",
        "idempotency-key",
        "x-correlation-id",
        "x-amz-checksum-crc32c",
        "x-amz-checksum-sha256",
    ] {
        assert!(
            allowed.contains(&header.to_owned()),
            "{header}: {allowed:?}"
        );
    }
    assert_eq!(headers["access-control-max-age"], "600");
    assert!(listed(headers, "vary").contains(&"origin".to_owned()));
    assert!(
        headers.get("access-control-allow-credentials").is_none(),
        "bearer tokens, never cookies"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_preflight_from_another_origin_is_refused_without_cors_headers() {
    let server = with_cors().await;
    for origin in [
        "https://evil.example.com",
        "http://app.example.com",
        "https://app.example.com:8443",
        "null",
    ] {
        let response = preflight(&server.base_url, "/files", origin, "POST", "authorization").await;
        no_cors_headers(response.headers());
        hoist_tests::answer::Answer::read(response)
            .await
            .assert_error(403, "origin-not-allowed");
    }
    // An allowed origin asking for a method no route takes.
    let response = preflight(&server.base_url, "/files", APP, "CONNECT", "").await;
    assert_eq!(response.status(), 403);
    server.stop().await;
}

#[tokio::test]
async fn actual_responses_expose_the_correlation_id_and_keep_the_envelope() {
    let server = with_cors().await;
    let heartbeat = send(
        server
            .http()
            .get(server.url("/heartbeat"))
            .header("origin", APP),
    )
    .await;
    assert_eq!(heartbeat.status, 200);
    assert_eq!(heartbeat.header("access-control-allow-origin"), Some(APP));
    let exposed = listed(&heartbeat.headers, "access-control-expose-headers");
    for header in ["x-correlation-id", "x-truncated", "location", "retry-after"] {
        assert!(
            exposed.contains(&header.to_owned()),
            "{header}: {exposed:?}"
        );
    }
    assert!(listed(&heartbeat.headers, "vary").contains(&"origin".to_owned()));

    // An error under CORS: the page can read both the envelope and its correlation id.
    let refused = send(
        server
            .http()
            .get(server.url("/files/list"))
            .header("origin", APP),
    )
    .await;
    refused.assert_error(401, "unauthorized");
    assert_eq!(refused.header("access-control-allow-origin"), Some(APP));

    // Another origin's simple request is served (only browsers enforce CORS), with no CORS
    // header, so a browser keeps the answer from that page.
    let other = send(
        server
            .http()
            .get(server.url("/heartbeat"))
            .header("origin", "https://evil.example.com"),
    )
    .await;
    assert_eq!(other.status, 200);
    no_cors_headers(&other.headers);
    server.stop().await;
}

#[tokio::test]
async fn a_tus_creation_preflight_allows_and_exposes_the_tus_headers() {
    let server = with_cors().await;
    let response = preflight(
        &server.base_url,
        "/tus",
        "http://127.0.0.1:5173",
        "POST",
        "authorization, tus-resumable, upload-length, upload-metadata, upload-checksum",
    )
    .await;
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    let allowed = listed(headers, "access-control-allow-headers");
    for header in [
        "tus-resumable",
        "upload-length",
        "upload-offset",
        "upload-metadata",
        "upload-checksum",
    ] {
        assert!(
            allowed.contains(&header.to_owned()),
            "{header}: {allowed:?}"
        );
    }
    let exposed = listed(headers, "access-control-expose-headers");
    for header in [
        "location",
        "upload-offset",
        "upload-length",
        "upload-expires",
        "tus-resumable",
        "tus-version",
        "tus-max-size",
    ] {
        assert!(
            exposed.contains(&header.to_owned()),
            "{header}: {exposed:?}"
        );
    }
    let patch = preflight(
        &server.base_url,
        "/tus/some-upload",
        "http://127.0.0.1:5173",
        "PATCH",
        "tus-resumable, upload-offset, content-type",
    )
    .await;
    assert_eq!(patch.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn cors_is_off_unless_origins_are_listed() {
    let server = TestServer::start().await;
    let response = preflight(&server.base_url, "/files", APP, "POST", "authorization").await;
    no_cors_headers(response.headers());
    hoist_tests::answer::Answer::read(response)
        .await
        .assert_error(405, "method-not-allowed");
    let heartbeat = send(
        server
            .http()
            .get(server.url("/heartbeat"))
            .header("origin", APP),
    )
    .await;
    assert_eq!(heartbeat.status, 200);
    no_cors_headers(&heartbeat.headers);
    server.stop().await;
}

#[tokio::test]
async fn the_env_form_turns_cors_on_in_the_binary_and_bad_origins_refuse_to_start() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let data = dir.path().join("data");
    let server = BinaryServer::start(
        dir.path(),
        &[
            (
                "HOIST_STORAGE__EMBEDDED__ROOT",
                data.to_str().expect("utf-8"),
            ),
            (
                "HOIST_CORS__ALLOWED_ORIGINS",
                r#"["https://app.example.com"]"#,
            ),
            ("HOIST_CORS__MAX_AGE", "2m"),
        ],
    );
    let response = preflight(
        &server.base_url,
        "/files/object",
        APP,
        "PUT",
        "content-type",
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], APP);
    assert_eq!(response.headers()["access-control-max-age"], "120");
    let refused = preflight(
        &server.base_url,
        "/files/object",
        "https://other.example.com",
        "PUT",
        "",
    )
    .await;
    assert_eq!(refused.status(), 403);
    server.terminate();

    let finished = hoist_tests::binary::run_bare(
        dir.path(),
        &["check-config"],
        &[
            ("HOIST_ENV", "test"),
            (
                "HOIST_CONFIG_DIR",
                hoist_tests::repo_root()
                    .join("configs")
                    .to_str()
                    .expect("utf-8"),
            ),
            (
                "HOIST_CORS__ALLOWED_ORIGINS",
                r#"["https://app.example.com/"]"#,
            ),
        ],
    );
    assert!(!finished.success, "{finished:?}");
    assert!(
        format!("{}{}", finished.stdout, finished.stderr).contains("cors.allowed_origins"),
        "the problem names the key: {finished:?}"
    );
}
