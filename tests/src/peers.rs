//! Small local peers for trigger tests: a server that records what it is sent and answers
//! with a fixed response (a webhook, or a stand-in for an AWS endpoint), and a listener that
//! accepts connections and never answers.

use std::sync::{Arc, Mutex};

use poem::endpoint::make;
use poem::http::{HeaderMap, StatusCode};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Request, Response, Server};

/// One request a [`Recorder`] received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// An HTTP server on a free loopback port that records every request and answers each with
/// the same status and JSON body. Stops when dropped.
pub struct Recorder {
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Recorder {
    pub async fn start(status: u16, answer: serde_json::Value) -> Self {
        Self::start_sequence(&[status], answer).await
    }

    /// A recorder that answers its n-th request with `statuses[n]`, and every request after
    /// the last status with the last one (a webhook that fails twice, then recovers).
    pub async fn start_sequence(statuses: &[u16], answer: serde_json::Value) -> Self {
        let statuses = statuses.to_vec();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let answer = answer.to_string();
        let endpoint = make(move |mut req: Request| {
            let seen = seen.clone();
            let answer = answer.clone();
            let statuses = statuses.clone();
            async move {
                let body = req.take_body().into_vec().await.unwrap_or_default();
                let status = {
                    let mut seen = seen.lock().unwrap();
                    seen.push(Recorded {
                        method: req.method().to_string(),
                        path: req.uri().path().to_owned(),
                        headers: req.headers().clone(),
                        body,
                    });
                    statuses[(seen.len() - 1).min(statuses.len() - 1)]
                };
                Response::builder()
                    .status(StatusCode::from_u16(status).expect("a status"))
                    .content_type("application/json")
                    .body(answer)
            }
        });
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("a free port");
        let addr = acceptor.local_addr()[0]
            .as_socket_addr()
            .copied()
            .expect("a TCP address");
        let task = tokio::spawn(async move {
            let _ = Server::new_with_acceptor(acceptor).run(endpoint).await;
        });
        Self {
            url: format!("http://{addr}"),
            requests,
            task,
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback port that accepts connections and never reads or answers: a peer that hangs.
pub struct BlackHole {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl BlackHole {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        Self { url, task }
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback URL nothing listens on (port 1 needs root to bind): connections are refused.
pub const REFUSED_URL: &str = "http://127.0.0.1:1";
