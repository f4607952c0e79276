//! The one middleware around every route: correlation id, span, access log, metrics, the
//! error envelope for every error (including those poem raises before a handler runs), and
//! the one log line with the cause of an error.

use std::sync::Arc;
use std::time::Instant;

use poem::http::{HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::OperationId;
use tracing::Instrument;

use super::error::Cause;
use super::{ApiError, correlation};
use crate::metrics::Metrics;
use crate::telemetry::{self, ErrorChain};

/// Serves one request inside its correlation scope and span, and records it.
pub async fn observe<E: Endpoint>(ep: Arc<E>, req: Request, metrics: Arc<Metrics>) -> Response {
    let id = correlation::from_request(&req);
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
        async move {
            match ep.call(req).await {
                Ok(output) => output.into_response(),
                Err(error) => render_error(error),
            }
        }
        .instrument(span.clone()),
    )
    .await;

    let operation = operation_label(&response, &path);
    let status = response.status();
    let elapsed = started.elapsed();
    if let Some(cause) = response.extensions_mut().remove::<Cause>() {
        span.in_scope(|| log_cause(status, &cause));
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
fn render_error(error: poem::Error) -> Response {
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
