//! Upload bodies: too slow, holding the whole buffer budget, or compressed.

use std::io::Write;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hoist_tests::moto;
use tokio::io::AsyncWriteExt;

use super::{Hoist, chunked_head, read_answer, write_chunk};

const MIB: usize = 1024 * 1024;

/// The binary on moto, with `bucket` as its only bucket.
fn on_moto(bucket: &str, env: &[(&str, &str)]) -> Hoist {
    let endpoint = moto::endpoint();
    let mut all = vec![
        ("HOIST_AWS__ENDPOINT", endpoint.as_str()),
        ("HOIST_AWS__ACCESS_KEY_ID", moto::ACCESS_KEY),
        ("HOIST_AWS__SECRET_ACCESS_KEY", moto::SECRET_KEY),
        ("HOIST_AWS__FORCE_PATH_STYLE", "true"),
        ("HOIST_BUCKETS__UPLOADS__NAME", bucket),
        ("HOIST_BUCKETS__IMAGES__NAME", bucket),
    ];
    all.extend_from_slice(env);
    Hoist::start(&all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_slower_than_the_minimum_rate_is_refused_and_its_multipart_upload_aborted() {
    let bucket = moto::unique_bucket("slow-body");
    let s3 = moto::create_bucket(&bucket).await;
    let hoist = on_moto(
        &bucket,
        &[
            ("HOIST_UPLOAD__PART_SIZE", "5242880"),
            ("HOIST_UPLOAD__MIN_RATE", "16384"),
            ("HOIST_UPLOAD__MIN_RATE_WINDOW", "3s"),
        ],
    );
    let token = hoist.token(true).await;
    let mut stream = hoist.connect().await;
    let path = "/files/object?key=slow.bin";
    stream
        .write_all(chunked_head("PUT", path, &token, "application/octet-stream").as_bytes())
        .await
        .unwrap();
    // Six MiB at once, so a multipart upload starts and its first part is sent...
    let data = hoist_tests::test_bytes(6 * MIB, 1);
    for chunk in data.chunks(256 * 1024) {
        write_chunk(&mut stream, chunk).await.unwrap();
    }
    let (mut reader, mut writer) = stream.into_split();
    // ... then 2 KiB/s for as long as the server listens.
    let trickle = tokio::spawn(async move {
        let chunk = [7u8; 512];
        while write_chunk(&mut writer, &chunk).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    let mut started = false;
    for _ in 0..100 {
        if !moto::multipart_uploads(&s3, &bucket).await.is_empty() {
            started = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        started,
        "the upload became a multipart upload before it slowed down"
    );
    let answer = tokio::time::timeout(Duration::from_secs(30), read_answer(&mut reader))
        .await
        .expect("refused in time")
        .expect("an answer");
    answer.assert_error(408, "request-timeout");
    trickle.abort();

    let head = s3
        .head_object()
        .bucket(&bucket)
        .key("slow.bin")
        .send()
        .await;
    assert!(head.is_err(), "nothing stored");
    let mut left = moto::multipart_uploads(&s3, &bucket).await;
    for _ in 0..100 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = moto::multipart_uploads(&s3, &bucket).await;
    }
    assert!(left.is_empty(), "no multipart upload left behind: {left:?}");
    assert!(hoist.refused("slow-body").await >= 1);
}

/// Starts a chunked upload that sends `bytes` and then nothing, on a connection of its own.
async fn stalled_upload(hoist: &Hoist, token: &str, key: &str) -> tokio::net::TcpStream {
    let mut stream = hoist.connect().await;
    let path = format!("/files/object?key={key}");
    stream
        .write_all(chunked_head("PUT", &path, token, "application/octet-stream").as_bytes())
        .await
        .unwrap();
    write_chunk(&mut stream, &[1u8; 1024]).await.unwrap();
    stream
}

async fn buffer_bytes(hoist: &Hoist) -> u64 {
    let text = reqwest::get(hoist.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    super::metric(&text, "hoist_upload_buffer_bytes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_that_hold_the_whole_budget_make_others_busy_not_stuck() {
    let part = 5 * MIB;
    let budget = (2 * part).to_string();
    let hoist = Hoist::start(&[
        ("HOIST_UPLOAD__PART_SIZE", "5242880"),
        ("HOIST_UPLOAD__MAX_BUFFER_BYTES", budget.as_str()),
        ("HOIST_UPLOAD__BUDGET_WAIT", "2s"),
        ("HOIST_UPLOAD__READ_TIMEOUT", "8s"),
    ]);
    let token = hoist.token(true).await;
    // Two uploads of unknown length reserve a whole part each, then stall.
    let mut first = stalled_upload(&hoist, &token, "stalled-1").await;
    let mut second = stalled_upload(&hoist, &token, "stalled-2").await;
    let mut reserved = 0;
    for _ in 0..100 {
        reserved = buffer_bytes(&hoist).await;
        if reserved >= 2 * part as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        reserved,
        2 * part as u64,
        "the stalled uploads hold the whole budget"
    );

    let http = reqwest::Client::new();
    let put = |key: &'static str| {
        http.put(hoist.url(&format!("/files/object?key={key}")))
            .bearer_auth(&token)
            .body(Bytes::from_static(b"a small file"))
            .send()
    };
    let asked = Instant::now();
    let busy = put("third").await.unwrap();
    let waited = asked.elapsed();
    assert_eq!(busy.status(), 503);
    let retry_after: u64 = busy
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!(retry_after >= 1);
    let body: serde_json::Value = busy.json().await.unwrap();
    hoist_tests::assert_error(503, &body, 503, "server-busy");
    assert!(
        waited < Duration::from_secs(8),
        "answered after budget_wait, before the stalled uploads were cut: {waited:?}"
    );

    // The stalled uploads are cut at their read timeout, and the budget is free again.
    for stalled in [&mut first, &mut second] {
        let answer = tokio::time::timeout(Duration::from_secs(30), read_answer(stalled))
            .await
            .expect("cut in time")
            .expect("an answer");
        answer.assert_error(408, "request-timeout");
    }
    let stored = put("fourth").await.unwrap();
    assert_eq!(stored.status(), 200, "{:?}", stored.text().await);
    assert!(hoist.refused("budget-wait").await >= 1);
    assert!(hoist.refused("stalled-body").await >= 2);
}

/// `size` zero bytes, gzipped.
fn gzip_of_zeros(size: usize) -> Vec<u8> {
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![0u8; MIB];
    for _ in 0..size / MIB {
        gzip.write_all(&block).unwrap();
    }
    gzip.finish().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_upload_bodies_are_refused_unread_never_inflated() {
    let bucket = moto::unique_bucket("gzip-body");
    let s3 = moto::create_bucket(&bucket).await;
    let hoist = on_moto(&bucket, &[]);
    let token = hoist.token(true).await;
    let bomb = Bytes::from(gzip_of_zeros(64 * MIB));
    assert!(bomb.len() < MIB);
    // A fresh connection per request: the server closes a connection whose body it refused
    // unread, and a pooled connection picked up just as it closes would carry a request the
    // server never sees, which the refusal count below would then miss.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let before = hoist.rss();
    let sampler = hoist.sample_rss();
    // Eight raw uploads and eight forms at once, and the gateway still answers meanwhile.
    let mut sends = Vec::new();
    for i in 0..8 {
        sends.push(tokio::spawn(
            http.put(hoist.url(&format!("/files/object?key=bomb-{i}")))
                .bearer_auth(&token)
                .header("content-encoding", "gzip")
                .body(bomb.clone())
                .send(),
        ));
        sends.push(tokio::spawn(
            http.post(hoist.url(&format!("/files?prefix=bomb-{i}")))
                .bearer_auth(&token)
                .header("content-type", hoist_tests::form::content_type())
                .header("content-encoding", "gzip")
                .body(bomb.clone())
                .send(),
        ));
    }
    let heartbeat = reqwest::get(hoist.url("/heartbeat")).await.unwrap();
    assert_eq!(heartbeat.status(), 200);
    for send in sends {
        // The refusal comes before the body is read, so the client may still be sending when
        // the server closes: it then sees a reset instead of the 415. The refusal count below
        // says the server refused every one of them.
        match send.await.unwrap() {
            Ok(response) => {
                let status = response.status().as_u16();
                let body: serde_json::Value = response.json().await.unwrap();
                hoist_tests::assert_error(status, &body, 415, "unsupported-content-encoding");
            }
            Err(error) => assert!(!error.is_timeout(), "answered, not hung: {error}"),
        }
    }
    let growth = sampler.peak().saturating_sub(before);
    assert!(
        growth < 32 * MIB as u64,
        "nothing was inflated: grew {} MiB",
        growth / MIB as u64
    );
    let listed = s3.list_objects_v2().bucket(&bucket).send().await.unwrap();
    assert_eq!(listed.key_count(), Some(0), "nothing stored");
    assert!(moto::multipart_uploads(&s3, &bucket).await.is_empty());
    assert_eq!(
        hoist.refused("content-encoding").await,
        16,
        "each one refused with 415"
    );

    // The same bytes sent as what they are (a .gz file) are stored as they are.
    let stored = http
        .put(hoist.url("/files/object?key=zeros.gz"))
        .bearer_auth(&token)
        .header("content-type", "application/gzip")
        .body(bomb.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 200);
    let object = s3
        .get_object()
        .bucket(&bucket)
        .key("zeros.gz")
        .send()
        .await
        .unwrap();
    assert_eq!(object.body.collect().await.unwrap().into_bytes(), bomb);
}
