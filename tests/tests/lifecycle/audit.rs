//! The audit trail: deletes, trigger calls and dev tokens become NDJSON objects in the audit
//! alias, read back with the test's own S3 client on moto; a clean shutdown writes the batch
//! still in memory; a full batch is written at once.

use std::time::Duration;

use hoist_server::config::Settings;
use hoist_tests::peers::Recorder;
use hoist_tests::{TestServer, eventually, moto, send};
use reqwest::Method;
use serde_json::{Value, json};

use super::webhook;

/// Hoist on moto with an `uploads` alias and an `audit` alias on buckets of their own.
async fn hoist_with_audit(configure: impl FnOnce(&mut Settings)) -> (TestServer, String) {
    let uploads = moto::unique_bucket("audit-uploads");
    let audit = moto::unique_bucket("audit-trail");
    moto::create_bucket(&uploads).await;
    moto::create_bucket(&audit).await;
    let server = TestServer::start_with(|settings| {
        moto::use_bucket_on(settings, &moto::endpoint(), "uploads", &uploads);
        settings.buckets.insert(
            "audit".into(),
            hoist_server::config::BucketRoute {
                name: Some(audit.clone()),
                ..Default::default()
            },
        );
        settings.images.bucket = Some("uploads".into());
        settings.audit.bucket = Some("audit".into());
        settings.audit.replica = Some("replica-a".into());
        configure(settings);
    })
    .await;
    (server, audit)
}

/// Every audit object under `audit/` in `bucket`, read past Hoist: (key, events).
async fn audit_objects(bucket: &str) -> Vec<(String, Vec<Value>)> {
    let s3 = moto::s3();
    let listed = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix("audit/")
        .send()
        .await
        .expect("moto lists the audit bucket");
    let mut objects = Vec::new();
    for object in listed.contents() {
        let key = object.key().expect("a key").to_owned();
        let body = s3
            .get_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .expect("moto reads the audit object")
            .body
            .collect()
            .await
            .expect("the body")
            .into_bytes();
        let events = std::str::from_utf8(&body)
            .expect("NDJSON is UTF-8")
            .lines()
            .map(|line| serde_json::from_str(line).expect("one JSON event per line"))
            .collect();
        objects.push((key, events));
    }
    objects
}

fn is_audit_key(key: &str) -> bool {
    // audit/YYYY/MM/DD/HH/<replica>-<seq>.ndjson
    let parts: Vec<&str> = key.split('/').collect();
    parts.len() == 6
        && parts[0] == "audit"
        && parts[1].len() == 4
        && parts[2..5]
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
        && parts[5].starts_with("replica-a-")
        && parts[5].ends_with(".ndjson")
}

#[tokio::test]
async fn deletes_triggers_and_dev_tokens_are_audited_and_shutdown_writes_the_batch() {
    let receiver = Recorder::start(200, json!({"ok": true})).await;
    let (server, audit_bucket) = hoist_with_audit(|settings| {
        settings
            .triggers
            .insert("notify".into(), webhook(&receiver.url));
    })
    .await;

    for key in ["a.txt", "b.txt"] {
        send(
            server
                .supreme(
                    Method::PUT,
                    &format!("/files/object?bucketName=uploads&key=gone/{key}"),
                )
                .body("x"),
        )
        .await
        .data();
    }
    let delete = send(server.supreme(
        Method::DELETE,
        "/files?bucketName=uploads&fileKeys=gone/a.txt,gone/b.txt",
    ))
    .await;
    delete.data();
    let trigger = send(
        server
            .supreme(Method::POST, "/trigger/notify")
            .header("content-type", "application/json")
            .body(json!({"data": {"n": 1}}).to_string()),
    )
    .await;
    trigger.data();
    let token = send(server.request(Method::GET, "/dev/token?sub=minted&supreme=true", None)).await;
    token.data();
    let presign = send(
        server
            .supreme(Method::POST, "/files/presign")
            .json(&json!({"bucketName": "uploads", "key": "shared/q1.pdf", "method": "GET", "expiresIn": 120})),
    )
    .await;
    presign.data();

    // One batch of 1000 events or a minute: nothing is written yet.
    assert!(audit_objects(&audit_bucket).await.is_empty());
    server.stop().await;

    let objects = audit_objects(&audit_bucket).await;
    assert_eq!(
        objects.len(),
        1,
        "the shutdown wrote one batch: {objects:#?}"
    );
    let (key, events) = &objects[0];
    assert!(is_audit_key(key), "{key}");
    let find = |action: &str| -> &Value {
        events
            .iter()
            .find(|event| event["action"] == action)
            .unwrap_or_else(|| panic!("a `{action}` event in {events:#?}"))
    };

    let presigned = find("presign");
    assert_eq!(presigned["sub"], "tester");
    assert_eq!(presigned["outcome"], "issued");
    assert_eq!(presigned["details"]["key"], "shared/q1.pdf");
    assert_eq!(presigned["details"]["method"], "GET");
    assert_eq!(presigned["details"]["expiresIn"], 120);
    let deleted = find("delete");
    assert_eq!(deleted["sub"], "tester");
    assert_eq!(deleted["client"], "127.0.0.1");
    assert_eq!(deleted["outcome"], "ok");
    assert_eq!(deleted["correlationId"], delete.correlation_id.as_str());
    assert_eq!(deleted["details"]["bucket"], "uploads");
    assert_eq!(
        deleted["details"]["deleted"],
        json!(["gone/a.txt", "gone/b.txt"])
    );

    let called = find("trigger");
    assert_eq!(called["sub"], "tester");
    assert_eq!(called["outcome"], "ok");
    assert_eq!(called["details"]["trigger"], "notify");
    assert_eq!(called["correlationId"], trigger.correlation_id.as_str());

    let minted = find("dev-token");
    assert!(minted["sub"].is_null(), "minted anonymously: {minted}");
    assert_eq!(minted["client"], "127.0.0.1");
    assert_eq!(minted["details"]["sub"], "minted");
    assert_eq!(minted["details"]["supreme"], true);
    assert_eq!(minted["correlationId"], token.correlation_id.as_str());
}

#[tokio::test]
async fn a_full_batch_is_written_without_waiting() {
    let (server, audit_bucket) = hoist_with_audit(|settings| {
        settings.audit.batch = 2;
        settings.audit.flush = Duration::from_secs(3600);
    })
    .await;
    for n in 0..2 {
        send(server.request(Method::GET, &format!("/dev/token?sub=u{n}"), None))
            .await
            .data();
    }
    eventually("a batch of two written", || async {
        !audit_objects(&audit_bucket).await.is_empty()
    })
    .await;
    let objects = audit_objects(&audit_bucket).await;
    let (key, events) = &objects[0];
    assert!(is_audit_key(key), "{key}");
    let subs: Vec<&Value> = events.iter().map(|e| &e["details"]["sub"]).collect();
    assert_eq!(subs, [&json!("u0"), &json!("u1")]);
}

#[tokio::test]
async fn audit_events_are_log_lines_on_their_own_target() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let server = hoist_tests::binary::BinaryServer::start(dir.path(), &[]);
    let answer = send(
        reqwest::Client::new()
            .get(format!("{}/dev/token?sub=logged", server.base_url))
            .header("x-correlation-id", "audit-log-1"),
    )
    .await;
    answer.data();
    let mut lines = Vec::new();
    for _ in 0..50 {
        lines.extend(server.drain_logs(Duration::from_millis(100)));
        if lines.iter().any(|line| line["target"] == "hoist::audit") {
            break;
        }
    }
    let audit = lines
        .iter()
        .find(|line| line["target"] == "hoist::audit")
        .unwrap_or_else(|| panic!("an audit line in {lines:#?}"));
    assert_eq!(audit["action"], "dev-token");
    assert_eq!(audit["outcome"], "ok");
    assert_eq!(audit["client"], "127.0.0.1");
    assert_eq!(audit["correlation_id"], "audit-log-1");
    let details: Value = serde_json::from_str(audit["details"].as_str().expect("details as JSON"))
        .expect("details are JSON");
    assert_eq!(details["sub"], "logged");
}
