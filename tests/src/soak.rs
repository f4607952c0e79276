//! The soak scenario of the benchmark (`bench soak --minutes N`): mixed load against a release
//! gateway for N minutes, reported every minute: throughput, p99 latency, refusals by reason
//! and peak RSS. Load: 16 clients uploading 1 KiB–64 MiB (log-uniform sizes, raw PUT),
//! 2 clients listing, and a slowloris pool of 200 connections that send a request head one
//! byte every 2 s and reconnect whenever the gateway closes them. Every request loop is
//! bounded by the duration; objects are deleted after they are stored, so disk stays flat.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::AsyncWriteExt;

use crate::binary::BinaryServer;

const MIB: usize = 1024 * 1024;
const UPLOADERS: usize = 16;
const LISTERS: usize = 2;
const SLOWLORIS: usize = 200;

/// What one minute saw.
#[derive(Default)]
struct Minute {
    uploads: Vec<f64>,
    lists: Vec<f64>,
    bytes: u64,
    statuses: BTreeMap<u16, u64>,
    errors: u64,
}

struct Shared {
    minute: Mutex<Minute>,
    stop: AtomicBool,
    slowloris_closed: AtomicU64,
}

impl Shared {
    fn record(&self, upload: bool, seconds: f64, status: Option<u16>, bytes: u64) {
        let mut minute = self.minute.lock().expect("not poisoned");
        match status {
            Some(status) => *minute.statuses.entry(status).or_default() += 1,
            None => minute.errors += 1,
        }
        if status == Some(200) {
            if upload {
                minute.uploads.push(seconds);
                minute.bytes += bytes;
            } else {
                minute.lists.push(seconds);
            }
        }
    }
}

/// A size between 1 KiB and 64 MiB, log-uniform, from a xorshift state.
fn next_size(state: &mut u64) -> usize {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    let exponent = 10.0 + (*state % 10_000) as f64 / 10_000.0 * 16.0;
    2f64.powf(exponent) as usize
}

fn p99(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[(values.len() * 99 / 100).min(values.len() - 1)]
}

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<f64>()
                        .ok()
                })
        })
        .unwrap_or(0.0)
        / 1024.0
}

/// `hoist_refused_total` by reason.
async fn refusals(http: &reqwest::Client, base: &str) -> BTreeMap<String, u64> {
    let Ok(response) = http.get(format!("{base}/metrics")).send().await else {
        return BTreeMap::new();
    };
    let text = response.text().await.unwrap_or_default();
    text.lines()
        .filter_map(|line| line.strip_prefix("hoist_refused_total{reason=\""))
        .filter_map(|rest| {
            let (reason, value) = rest.split_once("\"}")?;
            Some((reason.to_owned(), value.trim().parse::<f64>().ok()? as u64))
        })
        .collect()
}

/// Runs the soak against `gateway` (with a supreme `token`) and returns the Markdown report.
pub async fn run(gateway: &BinaryServer, token: &str, minutes: u64) -> String {
    let base = gateway.base_url.clone();
    let pid = gateway.pid();
    let data = crate::test_bytes(64 * MIB, 7);
    let shared = Arc::new(Shared {
        minute: Mutex::new(Minute::default()),
        stop: AtomicBool::new(false),
        slowloris_closed: AtomicU64::new(0),
    });
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()
        .expect("a client");
    let mut tasks = Vec::new();
    for client in 0..UPLOADERS {
        let (shared, http, base, token, data) = (
            shared.clone(),
            http.clone(),
            base.clone(),
            token.to_owned(),
            data.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut state = 0x9E37_79B9_7F4A_7C15 ^ (client as u64 + 1);
            let mut n = 0u64;
            while !shared.stop.load(Ordering::Relaxed) {
                let size = next_size(&mut state);
                let key = format!("soak/{client}/{n}");
                n += 1;
                let body: Bytes = data.slice(..size);
                let started = Instant::now();
                let answer = http
                    .put(format!("{base}/files/object?key={key}"))
                    .bearer_auth(&token)
                    .body(body)
                    .send()
                    .await;
                let seconds = started.elapsed().as_secs_f64();
                let status = answer.ok().map(|r| r.status().as_u16());
                shared.record(true, seconds, status, size as u64);
                if status == Some(200) {
                    let _ = http
                        .delete(format!("{base}/files?fileKeys={key}"))
                        .bearer_auth(&token)
                        .send()
                        .await;
                } else if status == Some(503) || status == Some(429) {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }));
    }
    for _ in 0..LISTERS {
        let (shared, http, base, token) =
            (shared.clone(), http.clone(), base.clone(), token.to_owned());
        tasks.push(tokio::spawn(async move {
            while !shared.stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let answer = http
                    .get(format!("{base}/files/list?prefix=soak"))
                    .bearer_auth(&token)
                    .send()
                    .await;
                let status = match answer {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let _ = response.bytes().await;
                        Some(status)
                    }
                    Err(_) => None,
                };
                shared.record(false, started.elapsed().as_secs_f64(), status, 0);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }));
    }
    let addr = base.trim_start_matches("http://").to_owned();
    for _ in 0..SLOWLORIS {
        let (shared, addr) = (shared.clone(), addr.clone());
        tasks.push(tokio::spawn(async move {
            let head = b"GET /heartbeat HTTP/1.1\r\nHost: soak\r\nX-Slow: ";
            while !shared.stop.load(Ordering::Relaxed) {
                let Ok(mut stream) = tokio::net::TcpStream::connect(&addr).await else {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                };
                for byte in head.iter().chain(std::iter::repeat(&b'a')) {
                    if shared.stop.load(Ordering::Relaxed)
                        || stream.write_all(&[*byte]).await.is_err()
                    {
                        break;
                    }
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                shared.slowloris_closed.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    let mut report = format!(
        "Soak: {UPLOADERS} uploaders (1 KiB–64 MiB, raw PUT), {LISTERS} listers, \
         {SLOWLORIS} slowloris connections; {minutes} min.\n\n\
         | minute | uploads/min | MiB/s stored | upload p99 s | list p99 s | statuses | \
         refusals (delta) | slowloris cut | RSS peak MiB | RSS end MiB |\n\
         |---:|---:|---:|---:|---:|---|---|---:|---:|---:|\n"
    );
    let mut previous = refusals(&http, &base).await;
    for index in 1..=minutes {
        let started = Instant::now();
        let mut peak: f64 = 0.0;
        while started.elapsed() < Duration::from_secs(60) {
            peak = peak.max(rss_mib(pid));
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let minute = std::mem::take(&mut *shared.minute.lock().expect("not poisoned"));
        let now = refusals(&http, &base).await;
        let delta: Vec<String> = now
            .iter()
            .map(|(reason, count)| (reason, count - previous.get(reason).copied().unwrap_or(0)))
            .filter(|(_, delta)| *delta > 0)
            .map(|(reason, delta)| format!("{reason} {delta}"))
            .collect();
        previous = now;
        let statuses: Vec<String> = minute
            .statuses
            .iter()
            .map(|(status, count)| format!("{status}×{count}"))
            .chain((minute.errors > 0).then(|| format!("err×{}", minute.errors)))
            .collect();
        let line = format!(
            "| {index} | {} | {:.1} | {:.2} | {:.3} | {} | {} | {} | {peak:.0} | {:.0} |\n",
            minute.uploads.len(),
            minute.bytes as f64 / MIB as f64 / 60.0,
            p99(minute.uploads),
            p99(minute.lists),
            statuses.join(" "),
            if delta.is_empty() {
                "–".to_owned()
            } else {
                delta.join(", ")
            },
            shared.slowloris_closed.swap(0, Ordering::Relaxed),
            rss_mib(pid),
        );
        eprint!("soak: {line}");
        report.push_str(&line);
    }
    shared.stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.abort();
    }
    report
}
