//! The declarative part of the configuration (`routes.toml`): bucket aliases, routes and
//! triggers.

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::level::Level;

/// `[buckets.<alias>]`: one bucket clients may name by its alias.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct BucketRoute {
    /// The real bucket name; defaults to the alias.
    pub name: Option<String>,
    /// Region of the bucket; defaults to `[aws] region`.
    pub region: Option<String>,
    /// S3 endpoint for this alias only; defaults to `[aws] endpoint`.
    pub endpoint: Option<String>,
    pub force_path_style: Option<bool>,
    /// Role assumed through STS for this alias's calls.
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    /// STS session name; defaults to `hoist`.
    pub session_name: Option<String>,
    /// The only content types stored in this alias: `type/subtype` or `type/*` patterns. Any
    /// other type is refused on every upload route. `None`: every type.
    pub allowed_types: Option<Vec<String>>,
    /// Store types a browser runs or renders as a page (HTML, XHTML, SVG, XML, JavaScript) as
    /// sent; by default they get `Content-Disposition: attachment`.
    pub inline_active_content: bool,
    /// Triggers called with an upload event after every object stored in this alias.
    pub on_upload: Vec<String>,
    /// Whether uploads wait for those triggers (`sync`) or queue them (`async`).
    pub hook: super::HookMode,
}

/// `[files]`: the file upload routes.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct FilesRoute {
    /// Alias used when a request names no bucket.
    pub default_bucket: Option<String>,
}

/// `[images]`: the base64 image route (`POST /images`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct ImagesRoute {
    /// Alias images are stored in; `[files] default_bucket` when unset.
    pub bucket: Option<String>,
    /// Content types accepted; each must be an image format Hoist recognizes by its bytes.
    pub allowed: Vec<String>,
    /// Largest decoded image, in bytes. The route's request body limit is derived from it.
    pub max_size: u64,
    /// Key prefix for stored images, normalized like a client prefix.
    pub prefix: Option<String>,
}

impl Default for ImagesRoute {
    fn default() -> Self {
        Self {
            bucket: None,
            allowed: vec!["image/gif".into(), "image/png".into(), "image/jpeg".into()],
            max_size: 10 * 1024 * 1024,
            prefix: None,
        }
    }
}

/// `[triggers.<name>]`: a target clients call as `POST /trigger/<name>`.
///
/// `kind` and `target` are plain strings so that `check-config` can report every bad
/// declaration at once; the trigger registry knows the kinds and what each reads.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct TriggerRoute {
    /// The plugin that serves it: `lambda`, `step-function` or `http`.
    pub kind: String,
    /// Function name or ARN (lambda), state machine ARN (step-function), URL (http).
    pub target: String,
    /// Who may call it; supreme unless declared otherwise.
    pub auth: Level,
    /// lambda: wait for the result (`sync`, the default) or only queue the event (`async`).
    pub mode: Option<LambdaMode>,
    /// Longest wait for the target, retries included; defaults to 30 s.
    #[serde(with = "humantime_serde::option")]
    pub timeout: Option<Duration>,
    /// Largest payload in bytes, below the kind's own limit (which is the default).
    pub max_payload: Option<usize>,
    /// lambda with a function name: its region; defaults to `[aws] region`. ARNs carry theirs.
    pub region: Option<String>,
    /// lambda, step-function: the payload field that carries the correlation id. Step
    /// functions default to `correlationId`, Lambda functions to none (they get it in the
    /// client context); `""` turns it off.
    pub correlation_field: Option<String>,
    /// http: extra request headers, e.g. a shared secret. Secret values, never logged.
    #[serde(serialize_with = "super::print::redacted_values")]
    pub headers: BTreeMap<String, SecretString>,
    /// What it does, shown to callers of `GET /triggers`.
    pub description: Option<String>,
    /// Calls of this trigger per period, all callers together (`"10/min"`); none when unset.
    pub rate_limit: Option<String>,
}

impl TriggerRoute {
    /// The kind-specific keys this declaration sets, so a kind can refuse keys it ignores.
    pub fn kind_specific_keys(&self) -> Vec<&'static str> {
        let mut keys = Vec::new();
        if self.mode.is_some() {
            keys.push("mode");
        }
        if self.region.is_some() {
            keys.push("region");
        }
        if self.correlation_field.is_some() {
            keys.push("correlation_field");
        }
        if !self.headers.is_empty() {
            keys.push("headers");
        }
        keys
    }
}

/// How a Lambda function is invoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LambdaMode {
    /// `RequestResponse`: wait for the function's result.
    #[default]
    Sync,
    /// `Event`: Lambda queues the event and answers 202 at once.
    Async,
}

/// A bucket alias or trigger name, the names `routes.toml` declares: clients send them in
/// query strings and paths, so they are kept to letters, digits, `-` and `_`.
pub fn is_valid_alias(alias: &str) -> bool {
    !alias.is_empty()
        && alias
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
