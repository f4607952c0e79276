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

/// Creates `bucket` on the shared moto and returns an independent client for it.
pub async fn create_bucket(bucket: &str) -> aws_sdk_s3::Client {
    let s3 = s3();
    s3.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .unwrap_or_else(|e| panic!("moto create bucket {bucket}: {e:?}"));
    s3
}

/// Keys of the multipart uploads moto holds for `bucket` (ground truth that s3s-fs cannot
/// give: it does not implement ListMultipartUploads).
pub async fn multipart_uploads(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    s3.list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .expect("moto lists multipart uploads")
        .uploads()
        .iter()
        .filter_map(|upload| upload.key().map(str::to_owned))
        .collect()
}

/// Points `settings` at the shared moto, with `alias` (the default) naming `bucket`.
pub fn use_moto(settings: &mut hoist_server::Settings, alias: &str, bucket: &str) {
    use_endpoint(settings, &endpoint(), alias, bucket);
}

/// Points `settings` at the moto at `endpoint`, with `alias` (the default) naming `bucket`.
pub fn use_endpoint(
    settings: &mut hoist_server::Settings,
    endpoint: &str,
    alias: &str,
    bucket: &str,
) {
    settings.aws.endpoint = Some(endpoint.to_owned());
    settings.aws.force_path_style = true;
    settings.aws.access_key_id = Some(ACCESS_KEY.to_owned());
    settings.aws.secret_access_key = Some(SECRET_KEY.into());
    settings.buckets.clear();
    settings.buckets.insert(
        alias.to_owned(),
        hoist_server::config::BucketRoute {
            name: Some(bucket.to_owned()),
            ..Default::default()
        },
    );
    settings.files.default_bucket = Some(alias.to_owned());
}

/// A moto server of a test's own, for what cannot be shared: switching on signature checks
/// (`/moto-api/reset-auth`) affects every client of a server. Killed when dropped.
pub struct DedicatedMoto {
    child: std::process::Child,
    pub endpoint: String,
}

impl DedicatedMoto {
    /// Starts `moto_server` (the one `tests/run` installed, `HOIST_TEST_MOTO_SERVER`) on a
    /// free loopback port and waits until it answers.
    pub async fn start() -> Self {
        let program = std::env::var("HOIST_TEST_MOTO_SERVER").unwrap_or_else(|_| {
            panic!(
                "HOIST_TEST_MOTO_SERVER is not set: this test starts a moto server of its own. \
                 Run the suite with `tests/run`, which installs moto and sets it."
            )
        });
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let child = std::process::Command::new(program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let moto = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let http = reqwest::Client::new();
        for _ in 0..300 {
            let ready = http
                .get(format!("{}/moto-api/", moto.endpoint))
                .timeout(Duration::from_secs(1))
                .send()
                .await
                .is_ok_and(|response| response.status().is_success());
            if ready {
                return moto;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the dedicated moto server did not answer within 30 s");
    }

    /// From now on every request must be signed by credentials moto issued (IAM access keys
    /// or STS sessions) and is checked against IAM policies.
    pub async fn require_signatures(&self) {
        let response = reqwest::Client::new()
            .post(format!("{}/moto-api/reset-auth", self.endpoint))
            .body("0")
            .send()
            .await
            .expect("moto reset-auth");
        assert!(response.status().is_success(), "{}", response.status());
    }
}

impl Drop for DedicatedMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
