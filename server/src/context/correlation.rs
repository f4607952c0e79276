//! The correlation id of the request being served, readable anywhere inside its task.

use poem::Request;

/// Header carrying the correlation id in and out.
pub const HEADER: &str = "x-correlation-id";

tokio::task_local! {
    static CORRELATION_ID: String;
}

/// The current request's correlation id, or `-` outside a request.
pub fn current() -> String {
    CORRELATION_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "-".into())
}

/// Runs `fut` with `id` as the current correlation id.
///
/// tokio's own future, not an `async fn` around it: a wrapper would hold `fut` twice (as its
/// argument and inside the scope), and every request's future is moved around whole.
pub fn scope<F: Future>(id: String, fut: F) -> impl Future<Output = F::Output> {
    CORRELATION_ID.scope(id, fut)
}

/// The id a client sent, if it is sane, or a new one. Client ids are echoed into logs and
/// headers, so only short printable ones are taken.
pub fn from_request(req: &Request) -> String {
    req.header(HEADER)
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 128
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}
