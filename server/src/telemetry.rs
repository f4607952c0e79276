//! Logging and tracing set-up: pretty lines in development, JSON in production, each line
//! inside its request's span (and so carrying the correlation id); with
//! `telemetry.otlp_endpoint` set, spans are also exported over OTLP/HTTP, continuing the
//! caller's W3C `traceparent`. Lines are written to stdout by a thread of their own, so a
//! request never waits on a `write` to a pipe. The checks of `[telemetry]` are in `check`.

mod check;

pub use check::check;

use opentelemetry::propagation::Extractor;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::config::{LogFormat, TelemetrySettings};

/// Log lines queued for the writer thread at most; past it a logging request waits for the
/// thread (no line is dropped), so the queue's memory is bounded (a line is ~0.4 KiB).
const QUEUED_LINES: usize = 16_384;

/// Bytes of log lines gathered into one `write` when many are queued: under load the access
/// log costs a system call per batch, not per request.
const WRITE_BATCH: usize = 64 * 1024;

/// Keeps the log writer thread and the span exporter alive; [`Telemetry::shutdown`] flushes
/// what is buffered.
#[derive(Debug)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
    /// Dropped last: writes the lines still queued, then stops the writer thread. It waits
    /// about a second at most (tracing-appender's own bound), so an exit never hangs on a
    /// log reader that stopped reading; what such a reader had not taken by then is lost.
    _log_writer: WorkerGuard,
}

impl Telemetry {
    /// Exports the spans still buffered, and the log lines. Call outside an async runtime.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(error) = provider.shutdown()
        {
            eprintln!("hoist: flushing traces failed: {error}");
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot set up OTLP export to {endpoint}: {message}")]
pub struct TelemetryError {
    endpoint: String,
    message: String,
}

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Installs the global subscriber; a second call (tests) keeps the first. Builds the OTLP
/// exporter, which uses a blocking HTTP client: call this before starting a runtime.
pub fn init(settings: &TelemetrySettings) -> Result<Telemetry, TelemetryError> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.log_filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    // Blocking, not lossy: an access log with holes is worse than a request that waits for
    // a full queue (which the default lossy writer would answer by dropping lines).
    let (writer, log_writer) = NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(QUEUED_LINES)
        .thread_name("hoist-log")
        .finish(std::io::BufWriter::with_capacity(
            WRITE_BATCH,
            std::io::stdout(),
        ));
    let fmt: BoxedLayer = match settings.log_format {
        // json-subscriber, not tracing-subscriber's `json()`: the same lines, but span fields
        // are kept as JSON once instead of re-parsed for every event (the access log line).
        LogFormat::Json => json_subscriber::fmt::layer()
            .with_writer(writer)
            .with_current_span(true)
            .with_span_list(false)
            .flatten_event(true)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().with_writer(writer).boxed(),
    };
    let mut layers = vec![fmt];
    let mut telemetry = Telemetry {
        provider: None,
        _log_writer: log_writer,
    };
    if let Some(endpoint) = &settings.otlp_endpoint {
        let error = |message: String| TelemetryError {
            endpoint: endpoint.clone(),
            message,
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
            .with_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| error(e.to_string()))?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                Resource::builder()
                    .with_service_name(settings.service_name.clone())
                    .build(),
            )
            .build();
        let tracer = provider.tracer("hoist");
        layers.push(tracing_opentelemetry::layer().with_tracer(tracer).boxed());
        telemetry.provider = Some(provider);
    }
    let _ = tracing_subscriber::registry()
        .with(layers)
        .with(filter)
        .try_init();
    Ok(telemetry)
}

/// Continues the caller's trace (W3C `traceparent`) in `span`, when it sent one.
pub fn continue_trace(span: &tracing::Span, headers: &poem::http::HeaderMap) {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    if headers.contains_key("traceparent") {
        let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&HeaderExtractor(headers))
        });
        let _ = span.set_parent(parent);
    }
}

/// An error with its sources, `outer: inner: innermost`, as one log field (JSON logs show only
/// a value's `Display`, which for an error with a `#[source]` is the outer part alone). A
/// source whose text the line already ends with is skipped, for errors that repeat their
/// source in their own message.
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut line = self.0.to_string();
        let mut source = self.0.source();
        while let Some(error) = source {
            let text = error.to_string();
            if !line.ends_with(&text) {
                line.push_str(": ");
                line.push_str(&text);
            }
            source = error.source();
        }
        f.write_str(&line)
    }
}

struct HeaderExtractor<'a>(&'a poem::http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("storage unreachable")]
        Hidden(#[source] std::io::Error),
        #[error("cannot read: {0}")]
        Repeated(#[source] std::io::Error),
    }

    #[test]
    fn a_chain_names_every_source_once() {
        let refused = || std::io::Error::other("connection refused");
        assert_eq!(
            ErrorChain(&Outer::Hidden(refused())).to_string(),
            "storage unreachable: connection refused"
        );
        assert_eq!(
            ErrorChain(&Outer::Repeated(refused())).to_string(),
            "cannot read: connection refused"
        );
    }
}
