//! Hoist served in-process by [`Application`] with the checked-in `test` settings, and the
//! requests tests send it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hoist_server::config::Settings;
use hoist_server::state::AppState;
use hoist_server::{Application, ConfigSource};
use reqwest::{Method, RequestBuilder};
use secrecy::ExposeSecret;
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// The checked-in `test` settings, with the embedded store rooted in `data_dir`.
pub fn test_settings(data_dir: &Path) -> Settings {
    let mut settings = ConfigSource::in_dir(&super::repo_root(), "test")
        .load()
        .unwrap_or_else(|problems| panic!("test configuration does not load: {problems:?}"));
    settings.storage.embedded.root = data_dir.to_path_buf();
    settings
}

/// Hoist served in-process, stopped when dropped.
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

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A request to `path`, with `token` as its bearer token when there is one.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let request = self.http().request(method, self.url(path));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// A request to `path` with a fresh supreme token (what every file route needs).
    pub fn supreme(&self, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path, Some(&self.token(true)))
    }

    /// A TCP connection to the server, for requests written byte by byte (a declared
    /// length that is never sent, a client that leaves halfway).
    pub async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.base_url.trim_start_matches("http://"))
            .await
            .expect("the server accepts connections")
    }

    /// An independent S3 client on the embedded store.
    pub fn embedded_s3(&self) -> aws_sdk_s3::Client {
        let (endpoint, key, secret) = self.embedded.as_ref().expect("runs on the embedded store");
        super::s3_client(endpoint, key, secret)
    }

    /// Every key under `prefix` in `bucket` (a real name) of the embedded store, read past
    /// Hoist and past S3's 1000-key pages.
    pub async fn stored_keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let mut pages = self
            .embedded_s3()
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.expect("the store lists the bucket");
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
        }
        keys
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
