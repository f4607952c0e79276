//! The moto servers that `tests/run` starts (S3, STS, IAM, Lambda, Step Functions), and
//! clients of their own that set up functions and state machines and read ground truth.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use hoist_server::config::Settings;

/// Credentials moto accepts (it checks no signatures unless told to).
pub const ACCESS_KEY: &str = "testing";
pub const SECRET_KEY: &str = "testing";
/// moto's account.
pub const ACCOUNT: &str = "123456789012";
const LAMBDA_ROLE: &str = "hoist-tests-lambda";

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: this test needs moto server. \
             Run the suite with `tests/run`, which installs and starts it."
        )
    })
}

/// The shared moto endpoint from `HOIST_TEST_MOTO_ENDPOINT`. Tests that need it fail loudly
/// when it is missing rather than skip: run the suite with `tests/run`, which starts moto.
pub fn endpoint() -> String {
    required_env("HOIST_TEST_MOTO_ENDPOINT")
}

/// A second moto, left in its default Lambda mode: there, invoking a function that does not
/// exist fails with `ResourceNotFoundException` as on AWS (the no-Docker mode of the shared
/// one answers 200 for any name), and invoking one that exists reports a function error
/// (moto has no Docker to run it in). No test may switch it to the no-Docker mode.
pub fn default_mode_endpoint() -> String {
    required_env("HOIST_TEST_MOTO_DEFAULT_ENDPOINT")
}

/// A JSON POST to moto's control API (`/moto-api/...`) of the shared server.
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

/// Switches the shared moto's Lambda to its no-Docker mode, where Invoke answers with the
/// payload (or a queued canned result) instead of running code. Idempotent, and must run
/// before any function is created: functions created before the switch become invisible.
pub async fn lambda_without_docker() {
    control(
        "/moto-api/config",
        serde_json::json!({"lambda": {"use_docker": false}}),
    )
    .await;
}

/// Queues the result the next invocation of any function in `region` returns (no-Docker
/// mode). The queue is per region, so a test that uses it needs a region of its own.
pub async fn queue_lambda_result(region: &str, result: &serde_json::Value) {
    control(
        "/moto-api/static/lambda-simple/response",
        serde_json::json!({"results": [result.to_string()], "region": region}),
    )
    .await;
}

/// Points every AWS client of `settings` at the moto at `endpoint`.
pub fn use_moto(settings: &mut Settings, endpoint: &str) {
    settings.aws.endpoint = Some(endpoint.to_owned());
    settings.aws.access_key_id = Some(ACCESS_KEY.to_owned());
    settings.aws.secret_access_key = Some(SECRET_KEY.into());
}

/// SDK configuration of the tests' own clients on a moto.
pub fn sdk(endpoint: &str, region: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            ACCESS_KEY, SECRET_KEY, None, None, "test",
        )))
        .build()
}

/// An S3 client on moto, independent of Hoist.
pub fn s3() -> aws_sdk_s3::Client {
    super::s3_client(&endpoint(), ACCESS_KEY, SECRET_KEY)
}

/// A Step Functions client on the shared moto, independent of Hoist.
pub fn sfn() -> aws_sdk_sfn::Client {
    aws_sdk_sfn::Client::new(&sdk(&endpoint(), "us-east-1"))
}

/// An IAM client on the moto at `endpoint`, independent of Hoist.
pub fn iam(endpoint: &str) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&sdk(endpoint, "us-east-1"))
}

/// Creates a Lambda function named `name` in `region` of the moto at `endpoint`, and the
/// IAM role moto insists it has; returns its ARN.
pub async fn create_function(endpoint: &str, region: &str, name: &str) -> String {
    let config = sdk(endpoint, region);
    let role = match aws_sdk_iam::Client::new(&config)
        .create_role()
        .role_name(LAMBDA_ROLE)
        .assume_role_policy_document("{}")
        .send()
        .await
    {
        Ok(created) => created.role().map(|r| r.arn().to_owned()),
        Err(_) => None,
    };
    // Another test may have created the role first.
    let role = role.unwrap_or_else(|| format!("arn:aws:iam::{ACCOUNT}:role/{LAMBDA_ROLE}"));
    // moto stores the code without running it: an empty zip archive will do.
    let empty_zip = [b"PK\x05\x06".as_slice(), &[0; 18]].concat();
    let created = aws_sdk_lambda::Client::new(&config)
        .create_function()
        .function_name(name)
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .role(role)
        .handler("index.handler")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_smithy_types::Blob::new(empty_zip))
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("moto creates function {name}: {e:?}"));
    created.function_arn().expect("an ARN").to_owned()
}

/// Creates a state machine with one Pass state on the shared moto; returns its ARN.
pub async fn create_state_machine(name: &str) -> String {
    let definition = serde_json::json!({
        "StartAt": "Done",
        "States": {"Done": {"Type": "Pass", "End": true}}
    });
    sfn()
        .create_state_machine()
        .name(name)
        .definition(definition.to_string())
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/hoist-tests-sfn"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("moto creates state machine {name}: {e:?}"))
        .state_machine_arn()
        .to_owned()
}

/// A bucket name unique to one test, so tests can share one moto.
pub fn unique_bucket(prefix: &str) -> String {
    unique(prefix)
}

/// A name unique to one test (functions, state machines, buckets), so tests can share moto.
pub fn unique(prefix: &str) -> String {
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

/// Points `settings` at the moto at `endpoint`, with `alias` (the default and only alias,
/// images included) naming `bucket` there.
pub fn use_bucket_on(settings: &mut Settings, endpoint: &str, alias: &str, bucket: &str) {
    use_moto(settings, endpoint);
    settings.aws.force_path_style = true;
    settings.buckets.clear();
    settings.buckets.insert(
        alias.to_owned(),
        hoist_server::config::BucketRoute {
            name: Some(bucket.to_owned()),
            ..Default::default()
        },
    );
    settings.files.default_bucket = Some(alias.to_owned());
    // A start-up refuses an `[images] bucket` naming an alias that is gone.
    settings.images.bucket = None;
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
        self.check_signatures_after("0").await;
    }

    /// Switches moto's signature checks off again (it counts actions up to infinity first).
    pub async fn stop_checking_signatures(&self) {
        self.check_signatures_after("inf").await;
    }

    /// moto checks signatures once it has served `actions` more requests.
    async fn check_signatures_after(&self, actions: &str) {
        let response = reqwest::Client::new()
            .post(format!("{}/moto-api/reset-auth", self.endpoint))
            .body(actions.to_owned())
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
