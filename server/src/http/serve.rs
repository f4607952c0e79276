//! Serving the gateway: an accept loop over hyper-util's HTTP/1 + HTTP/2 connections with the
//! poem endpoint as the service, graceful shutdown, and a [`Watchdog`] per connection that
//! closes it when a request head is slower than `server.header_timeout` or when it sits idle
//! (no request in flight) for `server.idle_timeout`.
//!
//! Why not poem's `Server`: it gives hyper no timer, so hyper's own header timeout never runs,
//! and its idle timeout counts any socket traffic, not requests. Why not hyper's
//! `header_read_timeout`: hyper 1.x starts it as soon as it waits for a head, which on a
//! keep-alive connection is the end of the previous response, so it would also close idle
//! connections at the header timeout; and hyper-util's protocol detection (the first bytes of
//! every connection) runs before any hyper timer, so a client that sends nothing is never cut.
//! Both clocks therefore live here.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Endpoint, Request};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::refusal::{Refusal, Refusals};
pub use super::watchdog::Timeouts;
use super::watchdog::{Expired, Watchdog, Watched};
use crate::config::{ConfigProblem, ServerSettings};

/// Every problem of the connection timeouts of `[server]`.
pub fn check(server: &ServerSettings) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    for (key, value) in [
        ("server.header_timeout", server.header_timeout),
        ("server.idle_timeout", server.idle_timeout),
    ] {
        if value.is_zero() {
            problems.push(ConfigProblem::new(key, "must be longer than zero"));
        }
    }
    problems
}

/// Serves `endpoint` on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish within `grace` and drops the connections still open after it.
pub async fn serve<E>(
    listener: TcpListener,
    endpoint: E,
    timeouts: Timeouts,
    refusals: Refusals,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) where
    E: Endpoint + 'static,
{
    let endpoint = Arc::new(endpoint);
    let local = listener.local_addr().ok();
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let connection = Connection {
                        endpoint: endpoint.clone(),
                        local: local.unwrap_or(peer),
                        peer,
                        timeouts,
                        refusals: refusals.clone(),
                        stopping: stopping.clone(),
                    };
                    connections.spawn(connection.serve(stream));
                }
                Err(error) => {
                    // Out of file descriptors, typically: wait a little instead of spinning.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "closing connections still busy after the shutdown timeout"
        );
        connections.shutdown().await;
    }
}

/// One accepted connection and what serving it needs.
struct Connection<E> {
    endpoint: Arc<E>,
    local: SocketAddr,
    peer: SocketAddr,
    timeouts: Timeouts,
    refusals: Refusals,
    stopping: watch::Receiver<bool>,
}

impl<E: Endpoint + 'static> Connection<E> {
    async fn serve(mut self, stream: TcpStream) {
        // Responses are small JSON documents: send them now rather than wait for more.
        let _ = stream.set_nodelay(true);
        let watchdog = Arc::new(Watchdog::new(self.timeouts));
        let io = TokioIo::new(Watched::new(stream, watchdog.clone()));
        let service = {
            let watchdog = watchdog.clone();
            let (endpoint, local, peer) = (self.endpoint.clone(), self.local, self.peer);
            hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let in_flight = watchdog.request_started();
                let endpoint = endpoint.clone();
                let request = Request::from((
                    request,
                    LocalAddr(local.into()),
                    RemoteAddr(peer.into()),
                    poem::http::uri::Scheme::HTTP,
                ));
                async move {
                    let response = hyper::Response::from(endpoint.get_response(request).await);
                    // The request stays in flight until hyper is done with the body.
                    Ok::<_, Infallible>(response.map(|body| in_flight.guard(body)))
                }
            })
        };
        let builder = auto::Builder::new(TokioExecutor::new());
        let connection = builder.serve_connection(io, service);
        tokio::pin!(connection);
        let alarm = tokio::time::sleep_until(watchdog.deadline());
        tokio::pin!(alarm);
        loop {
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(peer = %self.peer, %error, "connection ended with an error");
                    }
                    return;
                }
                () = &mut alarm => match watchdog.check() {
                    Expired::Head => {
                        self.refusals.record(
                            Refusal::HeaderTimeout,
                            &format!("{}: no complete request head within {:?}", self.peer, self.timeouts.header),
                        );
                        // Dropping the connection closes the socket; a client this slow gets
                        // no answer, as from nginx or Go's server.
                        return;
                    }
                    Expired::Idle => {
                        self.refusals.record(
                            Refusal::IdleTimeout,
                            &format!("{}: idle for {:?}", self.peer, self.timeouts.idle),
                        );
                        connection.as_mut().graceful_shutdown();
                        break;
                    }
                    Expired::Not => alarm.as_mut().reset(watchdog.deadline()),
                },
                () = watchdog.changed() => alarm.as_mut().reset(watchdog.deadline()),
                _ = self.stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    break;
                }
            }
        }
        // Requests already in flight finish (the server's shutdown grace bounds them); an idle
        // connection closes at once.
        let _ = connection.await;
    }
}
