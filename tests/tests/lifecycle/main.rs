//! End-to-end tests of the upload lifecycle: upload hooks delivered to a local webhook from
//! every upload route, the janitor against moto's multipart uploads, and the audit trail read
//! back from its NDJSON objects with the test's own S3 client.

mod audit;
mod hooks;
mod janitor;

use hoist_server::config::TriggerRoute;

/// An `http` trigger (webhook) on `url`.
fn webhook(url: &str) -> TriggerRoute {
    TriggerRoute {
        kind: "http".into(),
        target: url.into(),
        timeout: Some(std::time::Duration::from_secs(5)),
        ..TriggerRoute::default()
    }
}

/// The value of the Prometheus sample named exactly `series` (0 when absent).
fn sample(metrics: &str, series: &str) -> f64 {
    hoist_tests::sample(metrics, series).unwrap_or(0.0)
}
