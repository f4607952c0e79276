//! Test support for Hoist's end-to-end suite: servers started in-process or as the real
//! binary, the moto servers the suite runner started, local peers for triggers, and
//! independent AWS clients that read ground truth without going through Hoist.

pub mod binary;
pub mod form;
pub mod moto;
pub mod peers;
pub mod proxy;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use hoist_server::config::Settings;
use hoist_server::state::AppState;
use hoist_server::{Application, ConfigSource};
use secrecy::ExposeSecret;
use tokio::sync::oneshot;

/// `len` bytes that differ with `seed` and do not repeat at part boundaries (xorshift).
pub fn test_bytes(len: usize, seed: u64) -> bytes::Bytes {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out.into()
}

/// CRC32C as S3 spells it (base64 of the big-endian value), computed here, not by Hoist.
pub fn crc32c_base64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(crc32c::crc32c(data).to_be_bytes())
}

/// SHA-256 as S3 spells it (base64).
pub fn sha256_base64(data: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(data))
}

/// The repository root (where `configs/` and `routes.toml` live).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .to_path_buf()
}

/// The checked-in `test` settings, with the embedded store rooted in `data_dir`.
pub fn test_settings(data_dir: &Path) -> Settings {
    let mut settings = ConfigSource::in_dir(&repo_root(), "test")
        .load()
        .unwrap_or_else(|problems| panic!("test configuration does not load: {problems:?}"));
    settings.storage.embedded.root = data_dir.to_path_buf();
    settings
}

/// Asserts an error answer: the HTTP status, the same status in the envelope, the stable
/// code, and a message for people.
pub fn assert_error(status: u16, body: &serde_json::Value, expected: u16, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"]["status"], expected, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// An S3 client of its own, for reading ground truth past Hoist.
pub fn s3_client(endpoint: &str, access_key: &str, secret_key: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(Credentials::new(access_key, secret_key, None, None, "test"))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// An s3s-fs store of a test's own, outside Hoist, so the test can put a proxy between
/// the two; with its independent client for ground truth.
pub struct StandaloneStore {
    pub store: hoist_server::storage::embedded::EmbeddedS3,
    /// An S3 client on the store, not going through Hoist.
    pub s3: aws_sdk_s3::Client,
    _dir: tempfile::TempDir,
}

impl StandaloneStore {
    /// Starts a store on a loopback port with `bucket` created.
    pub async fn start(bucket: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        let store = hoist_server::storage::embedded::EmbeddedS3::start(
            &hoist_server::config::EmbeddedStorage {
                enabled: true,
                root: dir.path().to_path_buf(),
                bind: "127.0.0.1:0".parse().expect("an address"),
            },
        )
        .await
        .expect("s3s-fs starts");
        let s3 = s3_client(
            &store.endpoint,
            &store.access_key_id,
            store.secret_access_key.expose_secret(),
        );
        s3.create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("bucket created");
        Self {
            store,
            s3,
            _dir: dir,
        }
    }

    /// Makes `alias` of `settings` name `bucket` on this store, reached through `endpoint`
    /// (the store's own, or a proxy's), signed with the store's keys.
    pub fn route(&self, settings: &mut Settings, alias: &str, bucket: &str, endpoint: &str) {
        settings.aws.access_key_id = Some(self.store.access_key_id.clone());
        settings.aws.secret_access_key = Some(self.store.secret_access_key.clone());
        settings.buckets.insert(
            alias.to_owned(),
            hoist_server::config::BucketRoute {
                name: Some(bucket.to_owned()),
                endpoint: Some(endpoint.to_owned()),
                force_path_style: Some(true),
                ..Default::default()
            },
        );
    }
}

/// Hoist served in-process by [`Application`], stopped when dropped.
pub struct TestServer {
    pub base_url: String,
    pub state: Arc<AppState>,
    /// The embedded store's endpoint and keys, when it runs on one.
    pub embedded: Option<(String, String, String)>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _data: tempfile::TempDir,
}

impl TestServer {
    /// Hoist on the embedded store with the `test` settings.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Hoist with the `test` settings changed by `configure`.
    pub async fn start_with(configure: impl FnOnce(&mut Settings)) -> Self {
        let data = tempfile::tempdir().expect("a temp dir");
        let mut settings = test_settings(data.path());
        configure(&mut settings);
        let app = Application::build(settings)
            .await
            .unwrap_or_else(|error| panic!("hoist does not start: {error}"));
        let base_url = format!("http://{}", app.local_addr());
        let state = app.state().clone();
        let embedded = app.embedded().map(|e| {
            (
                e.endpoint.clone(),
                e.access_key_id.clone(),
                e.secret_access_key.expose_secret().to_owned(),
            )
        });
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async move {
            let _ = signal.await;
        }));
        Self {
            base_url,
            state,
            embedded,
            shutdown: Some(shutdown),
            task: Some(task),
            _data: data,
        }
    }

    /// A token minted with the server's dev-token key.
    pub fn token(&self, supreme: bool) -> String {
        self.state
            .auth
            .mint(Some("tester".into()), supreme, Duration::from_secs(600))
            .expect("the test settings enable dev tokens")
    }

    /// The generated client, authenticated with a supreme token.
    pub fn client(&self) -> hoist_client::Client {
        hoist_client::Connect::new(&self.base_url, Some(self.token(true)))
            .client()
            .expect("a client")
    }

    /// A plain HTTP client, for requests the generated client cannot make wrong on purpose.
    pub fn http(&self) -> reqwest::Client {
        reqwest::Client::new()
    }

    /// An independent S3 client on the embedded store.
    pub fn embedded_s3(&self) -> aws_sdk_s3::Client {
        let (endpoint, key, secret) = self.embedded.as_ref().expect("runs on the embedded store");
        s3_client(endpoint, key, secret)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Waits until no upload request is running and every multipart abort has finished, so
    /// a test can check that nothing was left behind without guessing how long cleanup takes.
    pub async fn uploads_idle(&self) {
        self.state.uploads.idle().await;
    }

    /// The Prometheus text of `GET /metrics`.
    pub async fn metrics(&self) -> String {
        self.http()
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("/metrics answers")
            .text()
            .await
            .expect("/metrics is text")
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server ran");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
