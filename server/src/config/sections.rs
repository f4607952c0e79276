//! The server-setting sections of the configuration (`configs/*.toml`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// `[server]`: the listener and request limits.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct ServerSettings {
    /// Address to listen on; port 0 picks a free port.
    pub bind: SocketAddr,
    /// How long in-flight requests may run after SIGINT/SIGTERM before the server exits.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    /// Largest JSON request body, in bytes.
    pub json_body_limit: usize,
    /// A second listener serving only `/metrics`, `/ready` and `/heartbeat`, so that metrics
    /// and readiness need not face the internet; the main listener then answers 404 for
    /// `/metrics` and `/ready`.
    pub admin_bind: Option<SocketAddr>,
    /// A request head must arrive within this, counted from the connection's start or from
    /// the first byte after it was idle; else the connection is closed.
    #[serde(with = "humantime_serde")]
    pub header_timeout: Duration,
    /// A keep-alive connection with no request in flight is closed after this.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// Behind a load balancer: the header that carries the client's address (the last one
    /// listed counts). Off by default: a client can write any header.
    pub client_ip_header: Option<String>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            shutdown_timeout: Duration::from_secs(30),
            json_body_limit: 8 * 1024 * 1024,
            admin_bind: None,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            client_ip_header: None,
        }
    }
}

/// The JWT signature algorithms Hoist accepts; exactly one is pinned by configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
pub enum AuthAlgorithm {
    #[default]
    HS256,
    RS256,
    ES256,
}

/// `[auth]`: how bearer tokens are verified.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct AuthSettings {
    /// The one algorithm tokens must be signed with.
    pub algorithm: AuthAlgorithm,
    /// Shared secret for HS256. No default outside development.
    #[serde(serialize_with = "super::print::redacted")]
    pub secret: Option<SecretString>,
    /// PEM public key for RS256/ES256 (inline).
    pub public_key: Option<String>,
    /// PEM public key for RS256/ES256 (path), when not inline.
    pub public_key_file: Option<PathBuf>,
    /// Required `iss` claim, when set.
    pub issuer: Option<String>,
    /// Required `aud` claim, when set.
    pub audience: Option<String>,
    /// Serve `GET /dev/token`. Development only; needs HS256.
    pub dev_tokens: bool,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    pub leeway_secs: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            algorithm: AuthAlgorithm::default(),
            secret: None,
            public_key: None,
            public_key_file: None,
            issuer: None,
            audience: None,
            dev_tokens: false,
            leeway_secs: 30,
        }
    }
}

/// `[aws]`: settings shared by every AWS client (S3, STS, Lambda, Step Functions).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct AwsSettings {
    pub region: String,
    /// Send every AWS call here instead of the real endpoints (an emulator such as moto).
    pub endpoint: Option<String>,
    /// Path-style S3 addressing (`endpoint/bucket/key`), which emulators need.
    pub force_path_style: bool,
    /// Static credentials; when absent the default AWS credential chain is used.
    pub access_key_id: Option<String>,
    #[serde(serialize_with = "super::print::redacted")]
    pub secret_access_key: Option<SecretString>,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Longest wait for one attempt of one AWS call.
    #[serde(with = "humantime_serde")]
    pub attempt_timeout: Duration,
    /// Attempts per AWS call, the first included.
    pub max_attempts: u32,
}

impl Default for AwsSettings {
    fn default() -> Self {
        Self {
            region: "us-east-1".into(),
            endpoint: None,
            force_path_style: false,
            access_key_id: None,
            secret_access_key: None,
            connect_timeout: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(60),
            max_attempts: 3,
        }
    }
}

/// `[storage]`: where objects live when no AWS is configured.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct StorageSettings {
    pub embedded: EmbeddedStorage,
}

/// `[storage.embedded]`: an in-process S3-compatible store (s3s-fs) on a local folder.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct EmbeddedStorage {
    /// Start it when `[aws] endpoint` is not set.
    pub enabled: bool,
    /// Folder holding one sub-folder per bucket.
    pub root: PathBuf,
    /// Address of its S3 endpoint; port 0 picks a free port.
    pub bind: SocketAddr,
}

impl Default for EmbeddedStorage {
    fn default() -> Self {
        Self {
            enabled: false,
            root: PathBuf::from("./data"),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

/// `[upload]`: streaming upload limits.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct UploadSettings {
    /// Size of one multipart part, in bytes (S3's minimum is 5 MiB).
    pub part_size: u64,
    /// Largest accepted file, in bytes; enforced while streaming.
    pub max_file_size: u64,
    /// Memory all uploads together may hold in part buffers; beyond it uploads wait.
    pub max_buffer_bytes: u64,
    /// Part buffers one upload may hold at once: the part being filled from the client plus
    /// the parts being sent to S3 concurrently.
    pub parts_in_flight: usize,
    /// Longest wait for the next bytes of an upload body; a stalled client is cut off so it
    /// does not hold buffer memory forever.
    #[serde(with = "humantime_serde")]
    pub read_timeout: Duration,
    /// Least average rate of a body, in bytes per second, over any `min_rate_window`; a
    /// slower body is cut off (408). 0 turns the check off.
    pub min_rate: u64,
    #[serde(with = "humantime_serde")]
    pub min_rate_window: Duration,
    /// Longest wait for buffer memory; past it the request is answered 503 `server-busy`.
    #[serde(with = "humantime_serde")]
    pub budget_wait: Duration,
    /// Disk all spooled form uploads together may use, in bytes; past it 503 `server-busy`.
    pub spool_max_bytes: u64,
    /// Longest body of known length (a raw body with `Content-Length`, a spooled form file)
    /// streamed into one PutObject instead of a multipart upload, in bytes; at most 5 GiB
    /// (S3's limit for one PUT), 0 for never.
    pub single_put_max: u64,
}

impl Default for UploadSettings {
    fn default() -> Self {
        Self {
            part_size: 8 * 1024 * 1024,
            max_file_size: 5 * 1024 * 1024 * 1024,
            max_buffer_bytes: 256 * 1024 * 1024,
            parts_in_flight: 4,
            read_timeout: Duration::from_secs(60),
            min_rate: 1024,
            min_rate_window: Duration::from_secs(30),
            budget_wait: Duration::from_secs(30),
            spool_max_bytes: 2 * 1024 * 1024 * 1024,
            single_put_max: 5 * 1024 * 1024 * 1024,
        }
    }
}

/// `[limits]`: request rates, per replica. Rates are `"N/s"`, `"N/min"`, `"N/h"` or `"off"`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct LimitsSettings {
    /// Requests per token subject on every route that takes a token; off when unset.
    pub per_principal: Option<String>,
    /// Calls of public triggers and `GET /dev/token` per client address.
    pub per_ip: String,
}

impl Default for LimitsSettings {
    fn default() -> Self {
        Self {
            per_principal: None,
            per_ip: "600/min".into(),
        }
    }
}

/// `[list]`: listing limits.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct ListSettings {
    /// Most keys read from S3 for one newest-first listing.
    pub max_keys: usize,
    pub default_limit: u32,
    pub max_limit: u32,
}

impl Default for ListSettings {
    fn default() -> Self {
        Self {
            max_keys: 10_000,
            default_limit: 50,
            max_limit: 1000,
        }
    }
}

/// `[delete]`: batch delete limits.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct DeleteSettings {
    /// Most keys one `DELETE /files` may name.
    pub max_keys: usize,
}

impl Default for DeleteSettings {
    fn default() -> Self {
        Self { max_keys: 10_000 }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    /// The built-in default: a binary started with no files logs as production does.
    #[default]
    Json,
}

/// `[telemetry]`: logs and traces.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct TelemetrySettings {
    pub log_format: LogFormat,
    /// A `tracing` filter such as `info` or `hoist_server=debug,info`; `RUST_LOG` wins.
    pub log_filter: String,
    /// OTLP/HTTP collector base URL (e.g. `http://otel-collector:4318`); spans go to
    /// `<endpoint>/v1/traces`. No export when unset.
    pub otlp_endpoint: Option<String>,
    /// `service.name` of exported spans.
    pub service_name: String,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Json,
            log_filter: "info".into(),
            otlp_endpoint: None,
            service_name: "hoist".into(),
        }
    }
}
