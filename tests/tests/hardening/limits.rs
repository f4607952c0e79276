//! Rate limits: per trigger, per client address, and what is never limited.

use hoist_tests::moto;
use serde_json::{Value, json};

use super::Hoist;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_eleventh_call_of_a_ten_per_minute_trigger_is_refused_with_retry_after() {
    // The default-mode moto: the function does not exist there, so each call that passes the
    // limit is a 502; which answer the target gives does not matter here.
    let endpoint = moto::default_mode_endpoint();
    let hoist = Hoist::start(&[
        ("HOIST_AWS__ENDPOINT", endpoint.as_str()),
        ("HOIST_AWS__ACCESS_KEY_ID", moto::ACCESS_KEY),
        ("HOIST_AWS__SECRET_ACCESS_KEY", moto::SECRET_KEY),
        ("HOIST_AWS__FORCE_PATH_STYLE", "true"),
        ("HOIST_TRIGGERS__CCPA__RATE_LIMIT", "10/min"),
    ]);
    let http = reqwest::Client::new();
    let call = || {
        http.post(hoist.url("/trigger/ccpa"))
            .json(&json!({"data": {"request": "forget me"}}))
            .send()
    };
    for i in 0..10 {
        let status = call().await.unwrap().status().as_u16();
        assert_ne!(status, 429, "call {} is within the limit", i + 1);
    }
    let refused = call().await.unwrap();
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    // One call comes back every 6 s at 10/min.
    assert!((1..=6).contains(&retry_after), "{retry_after}");
    let body: Value = refused.json().await.unwrap();
    hoist_tests::assert_error(429, &body, 429, "rate-limited");
    assert!(hoist.refused("rate-limited").await >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_tokens_are_limited_per_address_and_health_routes_never() {
    let hoist = Hoist::start(&[("HOIST_LIMITS__PER_IP", "3/min")]);
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            http.get(hoist.url("/dev/token"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    for path in ["/heartbeat", "/ready", "/metrics", "/openapi.yaml", "/docs"] {
        for _ in 0..10 {
            let status = http.get(hoist.url(path)).send().await.unwrap().status();
            assert!(status.is_success(), "{path}: {status}");
        }
    }
}
