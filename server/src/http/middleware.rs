//! The one middleware around every route: correlation id, span, access log, metrics, the
//! error envelope for every error (including those poem raises before a handler runs), and
//! the one log line with the cause of an error.

use std::sync::Arc;
use std::time::Instant;

use poem::http::{HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::OperationId;
use tracing::Instrument;

use super::ApiError;
use super::error::Cause;
use super::refusal::{RefusalNote, Refusals};
use crate::context::{correlation, peer};
use crate::metrics::Metrics;
use crate::telemetry::{self, ErrorChain};

/// Serves one request inside its correlation scope and span, and records it.
pub async fn observe<E: Endpoint>(ep: Arc<E>, req: Request, metrics: Arc<Metrics>) -> Response {
    let id = correlation::from_request(&req);
    let client = peer::of(&req);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!(
        "request",
        correlation_id = %id,
        method = %method,
        path = %path,
    );
    telemetry::continue_trace(&span, req.headers());
    let started = Instant::now();
    let mut response = correlation::scope(
        id.clone(),
        peer::scope(
            client,
            async move {
                match ep.call(req).await {
                    Ok(output) => output.into_response(),
                    Err(error) => render_error(error),
                }
            }
            .instrument(span.clone()),
        ),
    )
    .await;

    let operation = operation_label(&response, &path);
    let status = response.status();
    let elapsed = started.elapsed();
    if let Some(cause) = response.extensions_mut().remove::<Cause>() {
        span.in_scope(|| log_cause(status, &cause));
    }
    if let Some(note) = response.extensions_mut().remove::<RefusalNote>() {
        span.in_scope(|| {
            Refusals::new(metrics.refused.clone()).record(note.refusal, &note.message)
        });
    }
    metrics
        .requests
        .with_label_values(&[operation, status.as_str()])
        .inc();
    metrics
        .request_duration
        .with_label_values(&[operation])
        .observe(elapsed.as_secs_f64());
    span.in_scope(|| {
        tracing::info!(
            operation,
            status = status.as_u16(),
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "served"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(correlation::HEADER, value);
    }
    response
}

/// The one place the cause of an error is logged: a failure of Hoist or downstream (5xx) as
/// an error, a refusal's cause (a body that broke off) for debugging only.
fn log_cause(status: StatusCode, cause: &Cause) {
    let (code, error) = (cause.code.as_str(), ErrorChain(&*cause.error));
    if status.is_server_error() {
        tracing::error!(status = status.as_u16(), code, error = %error, "request failed");
    } else {
        tracing::debug!(status = status.as_u16(), code, error = %error, "request refused");
    }
}

/// Errors built from an [`ApiError`] already carry the envelope; anything else poem raised
/// (unknown route, wrong method, unparsable query or body, missing auth) gets one here.
pub(crate) fn render_error(error: poem::Error) -> Response {
    let operation = error.data::<OperationId>().copied();
    let mut response = if error.is_from_response() {
        error.into_response()
    } else {
        ApiError::from_poem(&error).into_response()
    };
    if let Some(operation) = operation {
        response.set_data(operation);
    }
    response
}

/// A bounded label: the operation id, or a fixed name for the few routes outside the spec.
fn operation_label(response: &Response, path: &str) -> &'static str {
    if let Some(OperationId(id)) = response.data::<OperationId>() {
        return id;
    }
    match path {
        "/metrics" => "metrics",
        "/openapi.yaml" => "openapi",
        p if p.starts_with("/docs") => "docs",
        _ => "unmatched",
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Mutex;

    use poem::endpoint::make;

    use super::*;
    use crate::http::ErrorCode;

    /// Log lines written while the test runs, as JSON.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Lines {
        fn mentioning(&self, text: &str) -> Vec<serde_json::Value> {
            let bytes = self.0.lock().unwrap().clone();
            String::from_utf8(bytes)
                .unwrap()
                .lines()
                .filter(|line| line.contains(text))
                .map(|line| serde_json::from_str(line).unwrap())
                .collect()
        }
    }

    async fn serve(error: ApiError, as_poem_error: bool) -> (Response, Lines) {
        let lines = Lines::default();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_max_level(tracing::Level::DEBUG)
            .with_writer({
                let lines = lines.clone();
                move || lines.clone()
            })
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let endpoint = make(move |_| {
            let error = error.clone();
            async move {
                if as_poem_error {
                    Err(poem::Error::from(error))
                } else {
                    Ok(error.into_response())
                }
            }
        });
        let request = Request::builder().uri_str("/files").finish();
        let response = observe(Arc::new(endpoint), request, Arc::new(Metrics::new())).await;
        (response, lines)
    }

    #[tokio::test]
    async fn the_cause_of_a_failure_is_logged_once_and_never_sent() {
        for as_poem_error in [true, false] {
            let cause = std::io::Error::other("disk on fire");
            let (response, lines) = serve(ApiError::internal(cause), as_poem_error).await;
            assert_eq!(response.status(), 500);
            assert!(response.data::<Cause>().is_none(), "the cause stays inside");
            let body = response.into_body().into_string().await.unwrap();
            assert!(!body.contains("disk on fire"), "{body}");
            assert!(body.contains(r#""code":"internal""#), "{body}");
            let logged = lines.mentioning("disk on fire");
            assert_eq!(logged.len(), 1, "{logged:?}");
            assert_eq!(logged[0]["level"], "ERROR", "{}", logged[0]);
            assert_eq!(logged[0]["code"], "internal", "{}", logged[0]);
            assert_eq!(logged[0]["status"], 500, "{}", logged[0]);
        }
    }

    #[tokio::test]
    async fn a_refusal_without_a_cause_logs_no_error() {
        let refusal = ApiError::new(ErrorCode::MissingFile, "the form has no `file` part");
        let (response, lines) = serve(refusal, true).await;
        assert_eq!(response.status(), 400);
        assert!(lines.mentioning("request failed").is_empty());
        assert!(lines.mentioning("request refused").is_empty());
    }
}
