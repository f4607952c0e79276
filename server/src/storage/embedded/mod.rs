//! The embedded S3-compatible store: s3s-fs served in-process on a loopback port, so a
//! development run needs no AWS and still goes through aws-sdk-s3 like production.

mod keys;
mod locked;
mod verified;

pub(super) use keys::EmbeddedLayout;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use aws_credential_types::provider::SharedCredentialsProvider;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::aws;
use crate::config::EmbeddedStorage;

/// The store's access key id, the same on every run: s3s-fs ties a multipart upload to the
/// key id that started it, so with a new id per run a tus upload begun before a restart
/// could never go on after it (AccessDenied). An id is no secret; the secret is new on every
/// run.
const ACCESS_KEY_ID: &str = "HOISTEMBEDDEDSTORE";

/// Why the embedded store did not start. Only start-up meets it, so no request can be
/// answered with it.
#[derive(Debug, thiserror::Error)]
#[error("embedded store: {0}")]
pub struct EmbeddedError(String);

/// A running embedded store; it stops when dropped.
pub struct EmbeddedS3 {
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub addr: SocketAddr,
    root: PathBuf,
    server: JoinHandle<()>,
}

impl std::fmt::Debug for EmbeddedS3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedS3")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl EmbeddedS3 {
    /// Starts s3s-fs on `settings.root`, with a secret made up for this run.
    pub async fn start(settings: &EmbeddedStorage) -> Result<Self, EmbeddedError> {
        let embedded = |what: &str, e: &dyn std::fmt::Display| {
            EmbeddedError(format!("{what} {}: {e}", settings.root.display()))
        };
        std::fs::create_dir_all(&settings.root).map_err(|e| embedded("cannot create", &e))?;
        // s3s_fs::Error does not implement std::error::Error, hence the Debug formatting.
        let fs = s3s_fs::FileSystem::new(&settings.root)
            .map_err(|e| embedded("cannot open", &format!("{e:?}")))?;
        let access_key_id = ACCESS_KEY_ID.to_owned();
        let secret_access_key = SecretString::from(format!("{}{}", random_hex(), random_hex()));
        let fs =
            locked::LockedFs::new(fs, &settings.root).map_err(|e| embedded("cannot open", &e))?;
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(
            access_key_id.clone(),
            secret_access_key.expose_secret(),
        ));
        let service = builder.build();
        let listener = TcpListener::bind(settings.bind)
            .await
            .map_err(|e| EmbeddedError(format!("cannot bind {}: {e}", settings.bind)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| EmbeddedError(e.to_string()))?;
        let server = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            loop {
                let socket = match listener.accept().await {
                    Ok((socket, _)) => socket,
                    Err(error) => {
                        tracing::warn!(%error, "embedded S3 accept failed");
                        continue;
                    }
                };
                // s3s answers a GetObject with its head and then its body, two writes: with
                // Nagle's algorithm the body waits for the head's ACK, which a client on a
                // reused connection delays by 40 ms (every tus PATCH reads its state so).
                let _ = socket.set_nodelay(true);
                let connection = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, "embedded S3 connection ended");
                    }
                });
            }
        });
        Ok(Self {
            endpoint: format!("http://{addr}"),
            access_key_id,
            secret_access_key,
            addr,
            root: settings.root.clone(),
            server,
        })
    }

    /// The folder holding one sub-folder per bucket.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn credentials(&self) -> SharedCredentialsProvider {
        aws::static_credentials(&self.access_key_id, &self.secret_access_key)
    }
}

impl Drop for EmbeddedS3 {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn random_hex() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
