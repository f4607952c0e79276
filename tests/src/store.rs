//! An s3s-fs store of a test's own, outside Hoist, so the test can put a proxy between the
//! two; with its independent client for ground truth.

use hoist_server::config::Settings;
use secrecy::ExposeSecret;

/// A running store with one bucket, removed with its folder when dropped.
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
        let s3 = super::s3_client(
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
