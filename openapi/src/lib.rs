//! The Hoist API client, generated from `openapi.yaml` by progenitor (see `build.rs`), plus
//! constructors that set the bearer token and timeouts suited to uploads.

#![allow(
    unused_qualifications,
    clippy::all,
    reason = "generated code is not held to the workspace's lints"
)]

include!(concat!(env!("OUT_DIR"), "/codegen.rs"));

use std::time::Duration;

/// How to reach a Hoist server.
#[derive(Debug, Clone)]
pub struct Connect {
    /// Base URL, e.g. `http://127.0.0.1:8080`.
    pub base_url: String,
    /// Bearer token, if any.
    pub token: Option<String>,
}

/// Errors building a client.
#[derive(Debug)]
pub struct BuildError(pub String);

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BuildError {}

impl Connect {
    pub fn new(base_url: impl Into<String>, token: Option<String>) -> Self {
        Self {
            base_url: base_url.into(),
            token,
        }
    }

    /// The HTTP client every call goes through: the token as a default header, and no total
    /// timeout (an upload may take long) but connect and read timeouts.
    pub fn http(&self) -> Result<reqwest::Client, BuildError> {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(token) = &self.token {
            let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|e| BuildError(format!("token is not a valid header value: {e}")))?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(300))
            .build()
            .map_err(|e| BuildError(e.to_string()))
    }

    /// The generated client.
    pub fn client(&self) -> Result<Client, BuildError> {
        Ok(Client::new_with_client(
            self.base_url.trim_end_matches('/'),
            self.http()?,
        ))
    }
}
