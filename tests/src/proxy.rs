//! A TCP proxy in front of an S3 endpoint. A test can kill it mid-transfer (listener and
//! every open connection go at once, the way a crashed or unplugged store disappears), and
//! can count requests on the wire by a byte pattern of their request line: ground truth of
//! how many calls of a kind reached the store, independent of what Hoist reports.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// A running proxy.
pub struct KillableProxy {
    pub addr: SocketAddr,
    counters: Arc<Counters>,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct Counters {
    forwarded: AtomicU64,
    pattern: Vec<u8>,
    matches: AtomicU64,
}

impl KillableProxy {
    /// Starts forwarding a loopback port to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        Self::counting(upstream, b"").await
    }

    /// Starts forwarding, counting occurrences of `pattern` in what clients send upstream
    /// (for instance `b"?delete HTTP/1.1"`, the request line of a DeleteObjects call).
    pub async fn counting(upstream: SocketAddr, pattern: &[u8]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let counters = Arc::new(Counters {
            pattern: pattern.to_vec(),
            ..Counters::default()
        });
        let shared = counters.clone();
        let server = tokio::spawn(async move {
            // Connections live in this set, so aborting this task closes all of them.
            let mut connections = JoinSet::new();
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let counters = shared.clone();
                connections.spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        pipe(client, server, counters).await;
                    }
                });
            }
        });
        Self {
            addr,
            counters,
            server,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Bytes sent from clients to the upstream so far.
    pub fn forwarded_bytes(&self) -> u64 {
        self.counters.forwarded.load(Ordering::SeqCst)
    }

    /// Occurrences of the counted pattern so far.
    pub fn matches(&self) -> u64 {
        self.counters.matches.load(Ordering::SeqCst)
    }

    /// Closes the listener and every connection: later connects are refused.
    pub async fn kill(self) {
        self.server.abort();
        let _ = self.server.await;
    }
}

async fn pipe(client: TcpStream, server: TcpStream, counters: Arc<Counters>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = async {
        let mut buffer = vec![0; 64 * 1024];
        // The end of the previous read, so a pattern split across two reads still counts.
        let mut carried: Vec<u8> = Vec::new();
        loop {
            let n = match client_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if server_write.write_all(&buffer[..n]).await.is_err() {
                break;
            }
            counters.forwarded.fetch_add(n as u64, Ordering::SeqCst);
            let pattern = &counters.pattern;
            if !pattern.is_empty() {
                carried.extend_from_slice(&buffer[..n]);
                let found = carried
                    .windows(pattern.len())
                    .filter(|window| window == pattern)
                    .count();
                counters.matches.fetch_add(found as u64, Ordering::SeqCst);
                let keep = carried.len().min(pattern.len() - 1);
                carried.drain(..carried.len() - keep);
            }
        }
        let _ = server_write.shutdown().await;
    };
    let downstream = async {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    };
    tokio::join!(upstream, downstream);
}
