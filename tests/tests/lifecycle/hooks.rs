//! Upload hooks: one event per stored object from every upload route, sync hooks reported
//! in the response, retries with backoff, and a full queue that drops and counts.

use std::time::Duration;

use base64::Engine;
use hoist_server::config::{HookMode, Settings};
use hoist_tests::form::{self, Field};
use hoist_tests::peers::{REFUSED_URL, Recorder};
use hoist_tests::{TestServer, eventually, send, test_bytes};
use reqwest::Method;
use serde_json::{Value, json};

use super::{sample, webhook};

const PNG: &[u8] = include_bytes!("../../../server/tests/fixtures/images/pixel.png");

/// Binds trigger `hook` to every alias, in `mode`.
fn bind_hook(settings: &mut Settings, url: &str, mode: HookMode) {
    settings.triggers.insert("hook".into(), webhook(url));
    for route in settings.buckets.values_mut() {
        route.on_upload = vec!["hook".into()];
        route.hook = mode;
    }
}

async fn put_object(server: &TestServer, key: &str, data: &[u8]) -> hoist_tests::Answer {
    send(
        server
            .supreme(
                Method::PUT,
                &format!("/files/object?bucketName=uploads&key={key}"),
            )
            .header("content-type", "text/plain")
            .body(data.to_vec()),
    )
    .await
}

#[tokio::test]
async fn every_upload_route_fires_one_event_with_the_documented_fields() {
    let receiver = Recorder::start(200, json!({"ok": true})).await;
    let server =
        TestServer::start_with(|settings| bind_hook(settings, &receiver.url, HookMode::Async))
            .await;

    let raw = put_object(&server, "hooks/raw.txt", b"raw body").await;
    let fields = [
        Field::text("bucketName", "uploads"),
        Field::text("prefix", "hooks"),
        Field::file("form.txt", Some("text/plain"), test_bytes(1000, 1)),
    ];
    let form = send(form::post(&server, "", form::whole(&fields))).await;
    let image = send(
        server
            .supreme(Method::POST, "/images")
            .header("content-type", "application/json")
            .body(
                json!({
                    "base64": base64::engine::general_purpose::STANDARD.encode(PNG),
                    "contentType": "image/png",
                    "fileName": "pixel.png"
                })
                .to_string(),
            ),
    )
    .await;
    let answers = [&raw, &form, &image];
    for answer in answers {
        assert!(
            answer.data()["hooks"].is_null(),
            "async hooks are not reported: {answer:?}"
        );
    }

    eventually("three upload events delivered", || async {
        receiver.requests().len() >= 3
    })
    .await;
    let events: Vec<Value> = receiver.requests().iter().map(|r| r.json()).collect();
    for answer in answers {
        let stored = answer.data();
        let matching: Vec<&Value> = events
            .iter()
            .filter(|event| event["key"] == stored["key"])
            .collect();
        assert_eq!(matching.len(), 1, "one event for {stored}: {events:#?}");
        let event = matching[0];
        assert_eq!(event["event"], "upload");
        assert_eq!(event["bucket"], stored["bucket"]);
        assert_eq!(event["size"], stored["size"]);
        assert_eq!(event["contentType"], stored["contentType"]);
        assert_eq!(event["checksum"], stored["checksum"]);
        assert_eq!(event["uploadedBy"], "tester");
        assert_eq!(event["correlationId"], answer.correlation_id.as_str());
        let at = event["at"].as_str().expect("at is a string");
        humantime::parse_rfc3339(at).unwrap_or_else(|e| panic!("`at` is RFC 3339 ({e}): {at}"));
    }
    for request in receiver.requests() {
        assert_eq!(request.method, "POST");
        let key = request
            .header("idempotency-key")
            .expect("an Idempotency-Key");
        assert!(key.starts_with("upload-"), "{key}");
    }
    assert_eq!(events.iter().filter(|e| e["bucket"] == "images").count(), 1);

    let metrics = server.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            r#"hoist_hook_deliveries_total{outcome="ok",trigger="hook"}"#
        ),
        3.0,
        "{metrics}"
    );
    // Nothing more arrives: one delivery per object.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.requests().len(), 3);
}

#[tokio::test]
async fn a_finished_tus_upload_fires_one_event() {
    let receiver = Recorder::start(200, json!({"ok": true})).await;
    let server =
        TestServer::start_with(|settings| bind_hook(settings, &receiver.url, HookMode::Async))
            .await;
    let data = test_bytes(3000, 4);
    let tus = |method: Method, path: &str| {
        server
            .supreme(method, path)
            .header("tus-resumable", "1.0.0")
    };
    let name = base64::engine::general_purpose::STANDARD.encode("tus.txt");
    let kind = base64::engine::general_purpose::STANDARD.encode("text/plain");
    let created = tus(Method::POST, "/tus")
        .header("upload-length", data.len().to_string())
        .header(
            "upload-metadata",
            format!("filename {name},filetype {kind}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    for (offset, end) in [(0, 1000), (1000, 3000)] {
        let patched = tus(Method::PATCH, &location)
            .header("content-type", "application/offset+octet-stream")
            .header("upload-offset", offset.to_string())
            .body(data.slice(offset..end))
            .send()
            .await
            .unwrap();
        assert_eq!(patched.status(), 204);
    }
    eventually("the tus upload's event", || async {
        !receiver.requests().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let events: Vec<Value> = receiver.requests().iter().map(|r| r.json()).collect();
    assert_eq!(
        events.len(),
        1,
        "one event, after the last byte: {events:#?}"
    );
    assert_eq!(events[0]["key"], "tus.txt");
    assert_eq!(events[0]["size"], 3000);
    assert_eq!(events[0]["contentType"], "text/plain");
    assert_eq!(events[0]["checksum"], hoist_tests::crc32c_base64(&data));
    assert_eq!(events[0]["uploadedBy"], "tester");
}

#[tokio::test]
async fn sync_hooks_report_their_outcome_in_the_response() {
    let receiver = Recorder::start(200, json!({"ok": true})).await;
    let server = TestServer::start_with(|settings| {
        bind_hook(settings, &receiver.url, HookMode::Sync);
        settings
            .triggers
            .insert("down".into(), webhook(REFUSED_URL));
        let uploads = settings
            .buckets
            .get_mut("uploads")
            .expect("an uploads alias");
        uploads.on_upload = vec!["hook".into(), "down".into()];
    })
    .await;

    let answer = put_object(&server, "sync/a.txt", b"hello").await;
    let hooks = answer.data()["hooks"]
        .as_array()
        .expect("hooks reported")
        .clone();
    assert_eq!(
        receiver.requests().len(),
        1,
        "delivered before the response"
    );
    assert_eq!(receiver.requests()[0].json()["key"], "sync/a.txt");
    assert_eq!(
        hooks,
        [
            json!({"trigger": "hook", "success": true, "outcome": "ok", "status": 200}),
            json!({"trigger": "down", "success": false, "outcome": "failed"}),
        ]
    );
    // The upload itself succeeded whatever its hooks did.
    let s3 = server.embedded_s3();
    let object = s3
        .get_object()
        .bucket("hoist-uploads")
        .key("sync/a.txt")
        .send()
        .await
        .expect("the object is stored");
    assert_eq!(
        object.body.collect().await.unwrap().into_bytes().as_ref(),
        b"hello"
    );
}

#[tokio::test]
async fn a_failing_webhook_is_retried_and_delivered_once() {
    let receiver = Recorder::start_sequence(&[500, 500, 200], json!({"ok": true})).await;
    let server = TestServer::start_with(|settings| {
        bind_hook(settings, &receiver.url, HookMode::Async);
        settings.hooks.backoff = Duration::from_millis(50);
    })
    .await;

    put_object(&server, "retry/a.txt", b"again").await.data();
    eventually("the third attempt", || async {
        receiver.requests().len() >= 3
    })
    .await;
    eventually("the success counted", || async {
        let metrics = server.metrics().await;
        sample(
            &metrics,
            r#"hoist_hook_deliveries_total{outcome="ok",trigger="hook"}"#,
        ) == 1.0
    })
    .await;
    let requests = receiver.requests();
    let first = &requests[0];
    for request in &requests {
        assert_eq!(
            request.json(),
            first.json(),
            "every attempt sends the same event"
        );
        assert_eq!(
            request.header("idempotency-key"),
            first.header("idempotency-key"),
            "and the same Idempotency-Key"
        );
    }
    let metrics = server.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            r#"hoist_hook_deliveries_total{outcome="retried",trigger="hook"}"#
        ),
        2.0,
        "{metrics}"
    );
    // Delivered means done: no fourth call, well past the backoff.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.requests().len(), 3);
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_is_given_up_after_max_attempts() {
    let receiver = Recorder::start(503, json!({"down": true})).await;
    let server = TestServer::start_with(|settings| {
        bind_hook(settings, &receiver.url, HookMode::Async);
        settings.hooks.backoff = Duration::from_millis(20);
        settings.hooks.max_attempts = 3;
    })
    .await;
    put_object(&server, "giveup/a.txt", b"x").await.data();
    eventually("the delivery given up", || async {
        let metrics = server.metrics().await;
        sample(
            &metrics,
            r#"hoist_hook_deliveries_total{outcome="failed",trigger="hook"}"#,
        ) == 1.0
    })
    .await;
    assert_eq!(receiver.requests().len(), 3, "max_attempts = 3");
}

#[tokio::test]
async fn a_full_queue_drops_the_oldest_and_counts_it() {
    let server = TestServer::start_with(|settings| {
        bind_hook(settings, REFUSED_URL, HookMode::Async);
        // Every delivery fails at once and then waits minutes for its retry, so the queue
        // only fills.
        settings.hooks.backoff = Duration::from_secs(300);
        settings.hooks.queue = 2;
        settings.hooks.concurrency = 1;
    })
    .await;
    for i in 0..5 {
        put_object(&server, &format!("full/{i}.txt"), b"x")
            .await
            .data();
    }
    // Five deliveries, room for two: once every delivery has failed its first attempt, two
    // wait for their retry and three were pushed out.
    eventually("three deliveries dropped, two waiting", || async {
        let metrics = server.metrics().await;
        sample(
            &metrics,
            r#"hoist_hook_deliveries_total{outcome="dropped",trigger="hook"}"#,
        ) == 3.0
            && sample(&metrics, "hoist_hook_queue_depth") == 2.0
    })
    .await;
    let metrics = server.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            r#"hoist_hook_deliveries_total{outcome="ok",trigger="hook"}"#
        ),
        0.0
    );
}
