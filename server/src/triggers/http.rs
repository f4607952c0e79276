//! The `http` trigger kind: POSTs the payload as JSON to a webhook URL.
//!
//! A 2xx answer is a success and a 4xx the webhook's refusal (returned, like a Lambda
//! function error, as `success: false` with its status and body); anything else, and any
//! transport failure, is a downstream failure.

use std::time::Duration;

use futures_util::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use secrecy::ExposeSecret;

use super::{Built, Call, Kind, Outcome, Setup, Trigger, TriggerError, answer_payload};
use crate::aws::check_endpoint;
use crate::config::TriggerRoute;
use crate::context::correlation;

pub const KIND: Kind = Kind {
    name: "http",
    keys: &["headers"],
    payload_limit: |_| BODY_LIMIT,
    check,
    build,
};

/// Largest request body sent, and largest answer read, like a synchronous Lambda's.
const BODY_LIMIT: usize = 6 * 1024 * 1024;

/// Headers Hoist sets on every call, which a declaration may not replace.
const OWN_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
    correlation::HEADER,
    "idempotency-key",
];

fn check(route: &TriggerRoute) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    if let Err(message) = check_endpoint(&route.target) {
        problems.push(("target", message));
    }
    for (name, value) in &route.headers {
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            problems.push(("headers", format!("`{name}` is not a header name")));
        } else if OWN_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            problems.push(("headers", format!("`{name}` is set by Hoist itself")));
        } else if HeaderValue::from_str(value.expose_secret()).is_err() {
            // The value is a secret: name the header, never the value.
            problems.push((
                "headers",
                format!("the value of `{name}` is not a header value"),
            ));
        }
    }
    problems
}

fn build(route: &TriggerRoute, setup: &Setup<'_>) -> Built {
    let mut headers = HeaderMap::new();
    for (name, value) in &route.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
        let mut value = HeaderValue::from_str(value.expose_secret()).map_err(|e| e.to_string())?;
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .user_agent(concat!("hoist/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(setup.timeout.min(Duration::from_secs(10)))
        .timeout(setup.timeout)
        // A redirected POST turns into a GET on most servers; a webhook that moved is a
        // configuration problem to see, not to follow.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    Ok(Box::new(HttpTrigger {
        client,
        url: route.target.clone(),
    }))
}

struct HttpTrigger {
    client: reqwest::Client,
    url: String,
}

impl Trigger for HttpTrigger {
    fn invoke<'a>(&'a self, call: &'a Call) -> BoxFuture<'a, Result<Outcome, TriggerError>> {
        Box::pin(async move {
            let body = call.payload(None)?;
            let mut request = self
                .client
                .post(&self.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(correlation::HEADER, &call.correlation_id)
                .body(body);
            if let Some(key) = &call.idempotency_key {
                request = request.header("idempotency-key", key);
            }
            let mut response = request.send().await.map_err(transport)?;
            let status = response.status();
            let mut answer = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(transport)? {
                if answer.len() + chunk.len() > BODY_LIMIT {
                    return Err(TriggerError::Unreachable(
                        format!("the answer exceeds {BODY_LIMIT} bytes").into(),
                    ));
                }
                answer.extend_from_slice(&chunk);
            }
            if status.is_success() || status.is_client_error() {
                return Ok(Outcome::Answered {
                    status: status.as_u16(),
                    payload: answer_payload(&answer),
                    function_error: None,
                });
            }
            Err(TriggerError::Downstream {
                code: format!("HTTP {}", status.as_u16()),
                message: String::from_utf8_lossy(&answer[..answer.len().min(512)]).into_owned(),
            })
        })
    }
}

/// A transport failure; reqwest's error stays the source, its whole chain for the log.
fn transport(error: reqwest::Error) -> TriggerError {
    if error.is_timeout() {
        return TriggerError::Timeout;
    }
    TriggerError::Unreachable(Box::new(error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    #[test]
    fn urls_and_headers_are_checked() {
        let mut route = TriggerRoute {
            kind: "http".into(),
            target: "https://hooks.example.com/hoist".into(),
            ..TriggerRoute::default()
        };
        route
            .headers
            .insert("x-hook-secret".into(), SecretString::from("s3cr3t"));
        assert!(check(&route).is_empty());
        route.target = "hooks.example.com".into();
        route
            .headers
            .insert("Content-Type".into(), SecretString::from("text/plain"));
        route
            .headers
            .insert("bad header".into(), SecretString::from("x"));
        route
            .headers
            .insert("x-multi".into(), SecretString::from("line\nbreak"));
        let problems = check(&route);
        let keys: Vec<&str> = problems.iter().map(|(key, _)| *key).collect();
        assert_eq!(
            keys,
            ["target", "headers", "headers", "headers"],
            "{problems:?}"
        );
        assert!(
            problems.iter().all(|(_, m)| !m.contains("line")),
            "secret values never appear: {problems:?}"
        );
    }
}
