//! The moto server that `tests/run` starts (S3, STS, IAM, Lambda, Step Functions).

use std::time::Duration;

/// Credentials moto accepts (it checks no signatures unless told to).
pub const ACCESS_KEY: &str = "testing";
pub const SECRET_KEY: &str = "testing";

/// The moto endpoint from `HOIST_TEST_MOTO_ENDPOINT`. Tests that need it fail loudly when
/// it is missing rather than skip: run the suite with `tests/run`, which starts moto.
pub fn endpoint() -> String {
    std::env::var("HOIST_TEST_MOTO_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "HOIST_TEST_MOTO_ENDPOINT is not set: this test needs moto server. \
             Run the suite with `tests/run`, which installs and starts it."
        )
    })
}

/// A JSON POST to moto's control API (`/moto-api/...`).
pub async fn control(path: &str, body: serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", endpoint()))
        .json(&body)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap_or_else(|e| panic!("moto {path}: {e}"));
    assert!(
        response.status().is_success(),
        "moto {path}: {}",
        response.status()
    );
}

/// An S3 client on moto, independent of Hoist.
pub fn s3() -> aws_sdk_s3::Client {
    super::s3_client(&endpoint(), ACCESS_KEY, SECRET_KEY)
}

/// A bucket name unique to one test, so tests can share one moto.
pub fn unique_bucket(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}
