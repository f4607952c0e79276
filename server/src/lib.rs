//! Hoist: an upload and trigger gateway in front of S3, Lambda and Step Functions.
//!
//! `app` wires everything; `api` holds the HTTP operations; `images` the base64 image checks;
//! `storage` the S3 side; `config` the settings; `auth` the tokens; `http` the envelopes and
//! middleware; `triggers` the Lambda, Step Functions and webhook plugins behind
//! `POST /trigger/{name}`; `limits` the request rate limits; `validation` runs the checks each
//! of them has of its own section; `hooks`, `janitor` and `audit` the upload lifecycle
//! (triggers after uploads, aborting abandoned multipart uploads, the audit trail).

pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub(crate) mod aws;
pub mod config;
pub(crate) mod context;
pub mod hooks;
pub(crate) mod http;
pub mod images;
pub mod janitor;
pub(crate) mod limits;
pub(crate) mod metrics;
pub mod state;
pub mod storage;
pub mod telemetry;
pub(crate) mod triggers;
pub mod validation;

pub use app::Application;
pub use config::{ConfigSource, Settings};
