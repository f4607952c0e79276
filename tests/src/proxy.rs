//! A TCP proxy in front of an S3 endpoint that a test can kill mid-transfer: listener and
//! every open connection go at once, the way a crashed or unplugged store disappears.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// A running proxy.
pub struct KillableProxy {
    pub addr: SocketAddr,
    forwarded: Arc<AtomicU64>,
    server: tokio::task::JoinHandle<()>,
}

impl KillableProxy {
    /// Starts forwarding a loopback port to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let forwarded = Arc::new(AtomicU64::new(0));
        let counter = forwarded.clone();
        let server = tokio::spawn(async move {
            // Connections live in this set, so aborting this task closes all of them.
            let mut connections = JoinSet::new();
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let counter = counter.clone();
                connections.spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        pipe(client, server, counter).await;
                    }
                });
            }
        });
        Self {
            addr,
            forwarded,
            server,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Bytes sent from clients to the upstream so far.
    pub fn forwarded_bytes(&self) -> u64 {
        self.forwarded.load(Ordering::SeqCst)
    }

    /// Closes the listener and every connection: later connects are refused.
    pub async fn kill(self) {
        self.server.abort();
        let _ = self.server.await;
    }
}

async fn pipe(client: TcpStream, server: TcpStream, forwarded: Arc<AtomicU64>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = async {
        let mut buffer = vec![0; 64 * 1024];
        loop {
            let n = match client_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if server_write.write_all(&buffer[..n]).await.is_err() {
                break;
            }
            forwarded.fetch_add(n as u64, Ordering::SeqCst);
        }
        let _ = server_write.shutdown().await;
    };
    let downstream = async {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    };
    tokio::join!(upstream, downstream);
}
