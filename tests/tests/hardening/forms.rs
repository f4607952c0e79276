//! Hostile forms: a boundary that never comes, a part header that never ends. Both are
//! refused after a small read, and the server's memory does not follow the body.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hoist_tests::form::{BOUNDARY, content_type};
use tokio::io::AsyncWriteExt;

use super::{Hoist, chunked_head, read_answer, write_chunk};

const MIB: u64 = 1024 * 1024;

/// Sends `prefix`, then `filler` up to `total` bytes, as one chunked `POST /files`, and reads
/// the answer while sending. Returns the answer and how much was sent before it came.
async fn hostile_form(
    hoist: &Hoist,
    prefix: &[u8],
    filler: u8,
    total: u64,
) -> (super::RawAnswer, u64) {
    let token = hoist.token(true).await;
    let stream = hoist.connect().await;
    let (mut reader, mut writer) = stream.into_split();
    let sent = Arc::new(AtomicU64::new(0));
    let sender = tokio::spawn({
        let sent = sent.clone();
        let head = chunked_head("POST", "/files", &token, &content_type());
        let prefix = prefix.to_vec();
        async move {
            writer.write_all(head.as_bytes()).await?;
            write_chunk(&mut writer, &prefix).await?;
            let block = vec![filler; 64 * 1024];
            let mut total_sent = prefix.len() as u64;
            while total_sent < total {
                write_chunk(&mut writer, &block).await?;
                total_sent += block.len() as u64;
                sent.store(total_sent, Ordering::Relaxed);
            }
            Ok::<_, std::io::Error>(())
        }
    });
    let answer = tokio::time::timeout(Duration::from_secs(60), read_answer(&mut reader))
        .await
        .expect("answered in time")
        .expect("an answer before the connection closed");
    let sent_before_answer = sent.load(Ordering::Relaxed);
    sender.abort();
    (answer, sent_before_answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_whose_boundary_never_comes_is_refused_after_a_bounded_read() {
    let hoist = Hoist::start(&[]);
    let before = hoist.rss();
    let sampler = hoist.sample_rss();
    let (answer, sent) =
        hostile_form(&hoist, b"this is no multipart body; ", b'x', 256 * MIB).await;
    let peak = sampler.peak();
    answer.assert_error(400, "invalid-form");
    // Kernel socket buffers hold a few MiB on top of what the server read.
    assert!(
        sent < 64 * MIB,
        "the server stopped reading early, not after {sent} bytes"
    );
    let growth = peak.saturating_sub(before);
    eprintln!(
        "no boundary: refused after {} KiB sent, RSS growth {} KiB",
        sent / 1024,
        growth / 1024
    );
    assert!(growth < 48 * MIB, "memory grew by {} MiB", growth / MIB);
    assert!(hoist.refused("form-head").await >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_header_that_never_ends_is_refused_after_a_bounded_read() {
    let hoist = Hoist::start(&[]);
    let before = hoist.rss();
    let sampler = hoist.sample_rss();
    let prefix =
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"");
    let (answer, sent) = hostile_form(&hoist, prefix.as_bytes(), b'a', 64 * MIB).await;
    let peak = sampler.peak();
    answer.assert_error(400, "invalid-form");
    assert!(
        sent < 48 * MIB,
        "the server stopped reading early, not after {sent} bytes"
    );
    let growth = peak.saturating_sub(before);
    eprintln!(
        "endless header: refused after {} KiB sent, RSS growth {} KiB",
        sent / 1024,
        growth / 1024
    );
    assert!(growth < 48 * MIB, "memory grew by {} MiB", growth / MIB);
}
