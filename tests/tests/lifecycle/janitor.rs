//! The janitor: `hoist-server janitor --once` against moto aborts abandoned multipart uploads
//! created with the test's own S3 client, keeps young ones and those of tus uploads in
//! progress; on the embedded store, which cannot list multipart uploads, it says so and does
//! nothing.

use std::process::Command;

use hoist_tests::binary::binary_path;
use hoist_tests::{TestServer, moto, repo_root};

/// Starts a multipart upload past Hoist; returns its upload id.
async fn start_upload(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> String {
    s3.create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("moto starts a multipart upload")
        .upload_id()
        .expect("an upload id")
        .to_owned()
}

/// Runs `hoist-server janitor --once` on moto with both aliases on buckets of their own.
fn janitor_once(uploads: &str, images: &str, max_age: &str) -> (bool, String) {
    let root = repo_root();
    let output = Command::new(binary_path())
        .args(["janitor", "--once"])
        .env("HOIST_ENV", "test")
        .env("HOIST_CONFIG_DIR", root.join("configs"))
        .env("HOIST_ROUTES", root.join("routes.toml"))
        .env("HOIST_AWS__ENDPOINT", moto::endpoint())
        .env("HOIST_AWS__FORCE_PATH_STYLE", "true")
        .env("HOIST_AWS__ACCESS_KEY_ID", moto::ACCESS_KEY)
        .env("HOIST_AWS__SECRET_ACCESS_KEY", moto::SECRET_KEY)
        .env("HOIST_BUCKETS__UPLOADS__NAME", uploads)
        .env("HOIST_BUCKETS__IMAGES__NAME", images)
        .env("HOIST_JANITOR__MAX_AGE", max_age)
        .env_remove("RUST_LOG")
        .output()
        .expect("hoist-server janitor runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    (output.status.success(), format!("{stdout}\n{stderr}"))
}

#[tokio::test]
async fn janitor_once_aborts_abandoned_uploads_and_keeps_tus_uploads() {
    let uploads = moto::unique_bucket("janitor-uploads");
    let images = moto::unique_bucket("janitor-images");
    let s3 = moto::create_bucket(&uploads).await;
    moto::create_bucket(&images).await;
    let abandoned = start_upload(&s3, &uploads, "abandoned/big.bin").await;
    // A tus upload in progress, created through Hoist: its state lives in the bucket.
    let server = TestServer::start_with(|settings| {
        moto::use_bucket_on(settings, &moto::endpoint(), "uploads", &uploads);
    })
    .await;
    let created = server
        .supreme(reqwest::Method::POST, "/tus")
        .header("tus-resumable", "1.0.0")
        .header("upload-length", "10485760")
        .header("upload-metadata", "filename dHVzLmJpbg==,prefix a2VwdA==")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    server.stop().await;

    // moto reports every multipart upload as started on 2010-11-10: with a max_age longer
    // than that, both are young and nothing is aborted.
    let (ok, printed) = janitor_once(&uploads, &images, "40years");
    assert!(ok, "{printed}");
    assert!(
        printed.contains("uploads: 0 aborted, 1 younger than max_age kept, 1 tus uploads kept"),
        "{printed}"
    );
    assert_eq!(moto::multipart_uploads(&s3, &uploads).await.len(), 2);

    let (ok, printed) = janitor_once(&uploads, &images, "0s");
    assert!(ok, "{printed}");
    assert!(
        printed.contains(&format!(
            "uploads: aborted abandoned/big.bin (upload {abandoned}"
        )),
        "{printed}"
    );
    assert!(printed.contains("uploads: 1 aborted"), "{printed}");
    assert!(printed.contains("images: 0 aborted"), "{printed}");
    assert_eq!(
        moto::multipart_uploads(&s3, &uploads).await,
        ["kept/tus.bin"],
        "the tus upload is kept"
    );

    // Again, as a second replica would: nothing left to abort, no error.
    let (ok, printed) = janitor_once(&uploads, &images, "0s");
    assert!(ok, "{printed}");
    assert!(printed.contains("uploads: 0 aborted"), "{printed}");
}

#[tokio::test]
async fn on_the_embedded_store_the_janitor_reports_that_it_cannot_list() {
    let server = TestServer::start().await;
    let report = hoist_server::janitor::run_once(&server.state).await;
    assert_eq!(report.errors(), 0, "{report}");
    assert!(
        report.aliases.iter().all(|alias| alias.unsupported),
        "{report}"
    );
    assert!(
        report
            .to_string()
            .contains("ListMultipartUploads is not implemented")
    );
}

#[tokio::test]
async fn a_janitor_pass_counts_its_aborts_and_audits_each_one() {
    let uploads = moto::unique_bucket("janitor-metrics");
    let audit = moto::unique_bucket("janitor-audit");
    let s3 = moto::create_bucket(&uploads).await;
    moto::create_bucket(&audit).await;
    let upload_id = start_upload(&s3, &uploads, "left/behind.bin").await;
    let server = TestServer::start_with(|settings| {
        moto::use_bucket_on(settings, &moto::endpoint(), "uploads", &uploads);
        settings.buckets.insert(
            "audit".into(),
            hoist_server::config::BucketRoute {
                name: Some(audit.clone()),
                ..Default::default()
            },
        );
        settings.audit.bucket = Some("audit".into());
        settings.janitor.max_age = std::time::Duration::ZERO;
    })
    .await;

    let report = hoist_server::janitor::run_once(&server.state).await;
    assert_eq!(report.aborted(), 1, "{report}");
    assert!(moto::multipart_uploads(&s3, &uploads).await.is_empty());
    let metrics = server.metrics().await;
    assert_eq!(
        super::sample(&metrics, r#"hoist_janitor_aborted_total{alias="uploads"}"#),
        1.0,
        "{metrics}"
    );
    assert!(super::sample(&metrics, "hoist_janitor_last_run_timestamp_seconds") > 0.0);
    server.stop().await;

    let listed = s3
        .list_objects_v2()
        .bucket(&audit)
        .prefix("audit/")
        .send()
        .await
        .expect("moto lists the audit bucket");
    let key = listed.contents()[0]
        .key()
        .expect("an audit object")
        .to_owned();
    let body = s3
        .get_object()
        .bucket(&audit)
        .key(&key)
        .send()
        .await
        .expect("the audit object")
        .body
        .collect()
        .await
        .expect("its body")
        .into_bytes();
    let event: serde_json::Value = std::str::from_utf8(&body)
        .expect("NDJSON")
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("JSON"))
        .find(|event| event["action"] == "janitor-abort")
        .expect("a janitor-abort event");
    assert_eq!(event["sub"], "hoist-janitor");
    assert_eq!(event["outcome"], "ok");
    assert_eq!(event["details"]["key"], "left/behind.bin");
    assert_eq!(event["details"]["uploadId"], upload_id.as_str());
}
