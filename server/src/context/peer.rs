//! The client address of the request being served, readable anywhere inside its task (the
//! audit trail records it).

use poem::Request;

tokio::task_local! {
    static CLIENT: Option<String>;
}

/// The current request's client IP address; `None` outside a request.
pub fn current() -> Option<String> {
    CLIENT.try_with(Clone::clone).ok().flatten()
}

/// The IP address of the peer that sent `req` (the connection's, not a forwarded header,
/// which a client could write).
pub fn of(req: &Request) -> Option<String> {
    req.remote_addr()
        .as_socket_addr()
        .map(|addr| addr.ip().to_string())
}

/// Runs `fut` with `client` as the current client address.
///
/// tokio's own future, not an `async fn` around it: a wrapper would hold `fut` twice (as its
/// argument and inside the scope), and every request's future is moved around whole.
pub fn scope<F: Future>(client: Option<String>, fut: F) -> impl Future<Output = F::Output> {
    CLIENT.scope(client, fut)
}
