//! Base64 images inside the memory budget: many maximal images at once wait their turn (or
//! are told to come back), they do not grow memory with their number.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::Hoist;

const MIB: u64 = 1024 * 1024;
const PNG: &[u8] = include_bytes!("../../../server/tests/fixtures/images/pixel.png");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_maximal_images_at_once_stay_inside_the_budget() {
    let hoist = Hoist::start(&[
        ("HOIST_UPLOAD__MAX_BUFFER_BYTES", "134217728"),
        ("HOIST_UPLOAD__BUDGET_WAIT", "60s"),
    ]);
    let token = hoist.token(false).await;
    // A PNG signature and 9.5 MiB after it: just under [images] max_size (10 MiB).
    let mut image = PNG.to_vec();
    image.extend(hoist_tests::test_bytes((9 * MIB + MIB / 2) as usize, 3));
    let body = bytes::Bytes::from(
        serde_json::to_vec(&serde_json::json!({
            "base64": STANDARD.encode(&image),
            "contentType": "image/png",
            "fileName": "big.png",
        }))
        .unwrap(),
    );
    let http = reqwest::Client::new();
    // Warm up once, so the allocator's first growth is not counted as the flood's.
    let first = http
        .post(hoist.url("/images"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let before = hoist.rss();
    let sampler = hoist.sample_rss();
    let posts: Vec<_> = (0..16)
        .map(|_| {
            let request = http
                .post(hoist.url("/images"))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(body.clone());
            tokio::spawn(request.send())
        })
        .collect();
    let mut stored = 0;
    for post in posts {
        let response = post.await.unwrap().expect("every request is answered");
        match response.status().as_u16() {
            200 => stored += 1,
            503 => assert!(response.headers().contains_key("retry-after")),
            other => panic!("unexpected {other}: {:?}", response.text().await),
        }
    }
    let growth = sampler.peak().saturating_sub(before);
    eprintln!(
        "16 images: {stored} stored, the rest busy; RSS growth {} MiB",
        growth / MIB
    );
    assert!(stored >= 1);
    assert!(growth < 256 * MIB, "memory grew by {} MiB", growth / MIB);
}
