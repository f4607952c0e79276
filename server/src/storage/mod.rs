//! Storage: bucket aliases resolved to S3 buckets, and the services a [`Bucket`] offers:
//! `upload` and `put_whole` (`upload/`), `list` and `page` (`listing.rs`), `delete`
//! (`delete.rs`), `presign` (`presign.rs`), the `tus_*` resumable uploads (`tus/`) and
//! `object_url`. The S3 client behind them (`s3.rs`) is private to this
//! module; a new service is one more `impl Bucket` in a file of its own, over a new call in
//! `s3.rs`.

mod check;
pub(crate) mod checksum;
pub(crate) mod content;
pub(crate) mod delete;
pub mod embedded;
mod error;
pub(crate) mod keys;
mod lifecycle;
pub(crate) mod listing;
pub(crate) mod model;
pub(crate) mod presign;
mod s3;
pub(crate) mod tus;
pub(crate) mod upload;

pub use check::{alias_problem, check_buckets, check_delete, check_embedded, check_list};
pub use error::{StorageError, Unready};

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use futures_util::future::join_all;

use crate::aws;
use crate::config::Settings;
use content::{ContentPolicy, TypePattern};
use embedded::{EmbeddedLayout, EmbeddedS3};
use s3::{Connection, S3Bucket};

/// One configured alias and the bucket behind it; a clone shares the client.
#[derive(Debug, Clone)]
pub struct Bucket {
    pub alias: String,
    /// The real bucket name; never chosen by clients.
    pub name: String,
    pub region: String,
    pub assumes_role: bool,
    store: S3Bucket,
    /// What this alias stores: `allowed_types` and how active content is stored.
    policy: ContentPolicy,
    /// Where the embedded store keeps this bucket, when it lives there: its keys are
    /// checked against what a filesystem can hold before any call.
    embedded: Option<EmbeddedLayout>,
}

impl Bucket {
    /// The object's URL on its store's endpoint (path-style or virtual-hosted, as configured);
    /// not signed, so reading it needs credentials.
    pub fn object_url(&self, key: &str) -> String {
        self.store.object_url(key)
    }
}

/// All configured aliases. Clients can name only these.
#[derive(Debug)]
pub struct Buckets {
    by_alias: BTreeMap<String, Bucket>,
    default_alias: Option<String>,
}

impl Buckets {
    /// Builds one client per alias. With an embedded store, aliases without an endpoint of
    /// their own live there, and their buckets are created.
    pub async fn connect(
        settings: &Settings,
        sdk: &SdkConfig,
        embedded: Option<&EmbeddedS3>,
    ) -> Result<Self, StorageError> {
        let mut by_alias = BTreeMap::new();
        for (alias, route) in &settings.buckets {
            let name = route.name.clone().unwrap_or_else(|| alias.clone());
            let region = route
                .region
                .clone()
                .unwrap_or_else(|| settings.aws.region.clone());
            let on_embedded = embedded.filter(|_| route.endpoint.is_none());
            let credentials = match (&route.role_arn, on_embedded) {
                (Some(role_arn), None) => Some(
                    aws::assumed_role(
                        sdk,
                        role_arn,
                        route.session_name.as_deref().unwrap_or("hoist"),
                        route.external_id.as_deref(),
                    )
                    .await,
                ),
                (Some(_), Some(_)) => {
                    tracing::warn!(
                        alias,
                        "role_arn is ignored: this alias lives on the embedded store"
                    );
                    on_embedded.map(EmbeddedS3::credentials)
                }
                (None, _) => on_embedded.map(EmbeddedS3::credentials),
            };
            let connection = Connection {
                bucket: name.clone(),
                region: region.clone(),
                endpoint: route
                    .endpoint
                    .clone()
                    .or_else(|| on_embedded.map(|e| e.endpoint.clone()))
                    .or_else(|| settings.aws.endpoint.clone()),
                force_path_style: route
                    .force_path_style
                    .unwrap_or(on_embedded.is_some() || settings.aws.force_path_style),
                credentials,
                embedded: on_embedded.is_some(),
            };
            let store = S3Bucket::new(sdk, connection);
            if on_embedded.is_some() {
                store.ensure_exists().await?;
            }
            // The patterns were checked with the configuration.
            let allowed = route.allowed_types.as_ref().map(|types| {
                types
                    .iter()
                    .filter_map(|pattern| TypePattern::parse(pattern).ok())
                    .collect()
            });
            by_alias.insert(
                alias.clone(),
                Bucket {
                    alias: alias.clone(),
                    embedded: on_embedded.map(|store| EmbeddedLayout::new(store.root(), &name)),
                    name,
                    region,
                    assumes_role: route.role_arn.is_some(),
                    store,
                    policy: ContentPolicy::new(allowed, route.inline_active_content),
                },
            );
        }
        Ok(Self {
            by_alias,
            default_alias: settings.files.default_bucket.clone(),
        })
    }

    /// The bucket of `alias`, or of the default alias when none is named.
    pub fn resolve(&self, alias: Option<&str>) -> Result<&Bucket, StorageError> {
        let alias = match alias.map(str::trim).filter(|a| !a.is_empty()) {
            Some(alias) => alias,
            None => self
                .default_alias
                .as_deref()
                .ok_or(StorageError::NoDefaultBucket)?,
        };
        self.by_alias
            .get(alias)
            .ok_or_else(|| StorageError::UnknownBucket(alias.to_owned()))
    }

    /// The bucket of a configured alias, without a default.
    pub fn get(&self, alias: &str) -> Option<&Bucket> {
        self.by_alias.get(alias)
    }

    pub fn default_alias(&self) -> Option<&str> {
        self.default_alias.as_deref()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Bucket> {
        self.by_alias.values()
    }

    /// Checks every alias concurrently: all the aliases when each answered, else the ones
    /// that did not, with why.
    pub async fn ready(&self) -> Result<Vec<&str>, Unready> {
        let checks = self.by_alias.values().map(|bucket| async move {
            (bucket.alias.clone(), bucket.store.check_reachable().await)
        });
        let failures: Vec<_> = join_all(checks)
            .await
            .into_iter()
            .filter_map(|(alias, result)| result.err().map(|error| (alias, error)))
            .collect();
        if failures.is_empty() {
            Ok(self.by_alias.keys().map(String::as_str).collect())
        } else {
            Err(Unready(failures))
        }
    }
}
