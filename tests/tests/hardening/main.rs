//! Hardening: the real binary against slow, silent and hostile clients over real sockets,
//! with the timeouts shortened through its environment. Memory is read from the server's
//! `/proc/<pid>/status`; S3 ground truth from the tests' own clients.

mod bodies;
mod connections;
mod forms;
mod images;
mod limits;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hoist_tests::binary::BinaryServer;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// The binary on an embedded store of its own, or pointed at moto.
pub struct Hoist {
    pub server: BinaryServer,
    _dir: tempfile::TempDir,
}

impl Hoist {
    /// The binary on its embedded store, with `env` on top of the test settings.
    pub fn start(env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        let data = dir.path().join("data");
        let mut all = vec![(
            "HOIST_STORAGE__EMBEDDED__ROOT",
            data.to_str().expect("utf-8"),
        )];
        all.extend_from_slice(env);
        let server = BinaryServer::start(dir.path(), &all);
        Self { server, _dir: dir }
    }

    /// `host:port`.
    pub fn addr(&self) -> &str {
        self.server.base_url.trim_start_matches("http://")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url)
    }

    pub async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.addr())
            .await
            .expect("Hoist accepts")
    }

    /// A dev token (the test settings serve them).
    pub async fn token(&self, supreme: bool) -> String {
        let answer: Value = reqwest::get(self.url(&format!("/dev/token?supreme={supreme}")))
            .await
            .expect("/dev/token answers")
            .json()
            .await
            .expect("JSON");
        answer["data"]["token"]
            .as_str()
            .expect("a token")
            .to_owned()
    }

    /// `hoist_refused_total{reason}` as `/metrics` shows it.
    pub async fn refused(&self, reason: &str) -> u64 {
        let text = reqwest::get(self.url("/metrics"))
            .await
            .expect("/metrics answers")
            .text()
            .await
            .expect("text");
        metric(
            &text,
            &format!("hoist_refused_total{{reason=\"{reason}\"}}"),
        )
    }

    /// The server's resident memory, in bytes.
    pub fn rss(&self) -> u64 {
        rss_of(self.server.pid())
    }

    /// Samples the server's resident memory until the returned sampler is stopped.
    pub fn sample_rss(&self) -> RssPeak {
        RssPeak::start(self.server.pid())
    }
}

/// A metric's value in Prometheus text (0 when absent).
pub fn metric(text: &str, series: &str) -> u64 {
    hoist_tests::sample(text, series).map_or(0, |value| value as u64)
}

fn rss_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib * 1024
}

/// The highest resident memory seen, sampled every 10 ms on a thread of its own.
pub struct RssPeak {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl RssPeak {
    fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let stop = stop.clone();
            move || {
                let mut peak = 0;
                while !stop.load(Ordering::Relaxed) {
                    peak = peak.max(rss_of(pid));
                    std::thread::sleep(Duration::from_millis(10));
                }
                peak.max(rss_of(pid))
            }
        });
        Self { stop, thread }
    }

    pub fn peak(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("the sampler")
    }
}

/// A response read off a raw socket.
#[derive(Debug)]
pub struct RawAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl RawAnswer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Asserts the error envelope with `status` and `code`.
    pub fn assert_error(&self, status: u16, code: &str) {
        hoist_tests::assert_error(self.status, &self.body, status, code);
    }
}

/// Reads one response (a JSON body with `Content-Length`, as every Hoist answer has), or
/// `None` when the connection closes first.
pub async fn read_answer(stream: &mut (impl AsyncRead + Unpin)) -> Option<RawAnswer> {
    let mut buffer = Vec::new();
    let mut byte = [0u8; 1];
    while !buffer.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => buffer.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8_lossy(&buffer).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.ok()?;
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Some(RawAnswer {
        status,
        headers,
        body,
    })
}

/// Waits until the peer closes (EOF or reset), up to `limit`; whether it did.
pub async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut sink = [0u8; 1024];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

/// One chunk of a `Transfer-Encoding: chunked` body.
pub async fn write_chunk(
    stream: &mut (impl AsyncWrite + Unpin),
    data: &[u8],
) -> std::io::Result<()> {
    stream
        .write_all(format!("{:x}\r\n", data.len()).as_bytes())
        .await?;
    stream.write_all(data).await?;
    stream.write_all(b"\r\n").await
}

/// A request head for a chunked body.
pub fn chunked_head(method: &str, path: &str, token: &str, content_type: &str) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: hoist\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
}
