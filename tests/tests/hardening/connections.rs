//! Connections: a head that never ends, idle keep-alive connections, and many silent ones.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use super::{Hoist, closed_within, read_answer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_sent_a_byte_at_a_time_is_cut_at_the_header_timeout() {
    let hoist = Hoist::start(&[("HOIST_SERVER__HEADER_TIMEOUT", "1s")]);
    let stream = hoist.connect().await;
    let (mut reader, mut writer) = stream.into_split();
    let finished = Arc::new(AtomicBool::new(false));
    // A 60-byte head at one byte per 100 ms would take 6 s.
    let head = format!(
        "GET /heartbeat HTTP/1.1\r\nHost: hoist\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(20)
    );
    let slowloris = tokio::spawn({
        let finished = finished.clone();
        async move {
            for byte in head.bytes() {
                if writer.write_all(&[byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            finished.store(true, Ordering::SeqCst);
        }
    });
    let answer = tokio::time::timeout(Duration::from_secs(20), read_answer(&mut reader))
        .await
        .expect("the connection ends");
    assert!(
        answer.is_none(),
        "no answer to a head that never came in time: {answer:?}"
    );
    assert!(
        !finished.load(Ordering::SeqCst),
        "the connection was closed while the head was still arriving"
    );
    slowloris.abort();
    assert!(hoist.refused("header-timeout").await >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_at_the_idle_timeout_not_the_header_timeout() {
    let hoist = Hoist::start(&[
        ("HOIST_SERVER__HEADER_TIMEOUT", "1s"),
        ("HOIST_SERVER__IDLE_TIMEOUT", "3s"),
    ]);
    let mut stream = hoist.connect().await;
    let request = b"GET /heartbeat HTTP/1.1\r\nHost: hoist\r\n\r\n";
    stream.write_all(request).await.unwrap();
    assert_eq!(
        read_answer(&mut stream).await.expect("an answer").status,
        200
    );
    // Idle for twice the header timeout: still open, because idle is not a slow head.
    tokio::time::sleep(Duration::from_secs(2)).await;
    stream.write_all(request).await.unwrap();
    assert_eq!(
        read_answer(&mut stream).await.expect("kept alive").status,
        200
    );
    let idle_since = Instant::now();
    assert!(
        closed_within(&mut stream, Duration::from_secs(20)).await,
        "closed when idle"
    );
    assert!(
        idle_since.elapsed() >= Duration::from_millis(2500),
        "closed by the idle timeout, not earlier: {:?}",
        idle_since.elapsed()
    );
    assert!(hoist.refused("idle-timeout").await >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_silent_connections_neither_block_others_nor_stay() {
    let hoist = Hoist::start(&[("HOIST_SERVER__HEADER_TIMEOUT", "3s")]);
    let mut silent = Vec::new();
    for _ in 0..300 {
        silent.push(hoist.connect().await);
    }
    // Meanwhile the gateway answers at once.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    for _ in 0..3 {
        let response = http.get(hoist.url("/heartbeat")).send().await;
        assert_eq!(response.expect("heartbeat within a second").status(), 200);
    }
    let mut closed = 0;
    for stream in &mut silent {
        if closed_within(stream, Duration::from_secs(20)).await {
            closed += 1;
        }
    }
    assert_eq!(
        closed, 300,
        "every silent connection is closed after the header timeout"
    );
    assert!(hoist.refused("header-timeout").await >= 300);
}
