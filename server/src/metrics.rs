//! Prometheus metrics: one registry per application, labelled by operation id, never by path.

mod lifecycle;

pub use lifecycle::LifecycleMetrics;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// What a failure is counted as: the `reason` label, which is the error code the client sees.
/// Services count their failures through it; the HTTP layer, which owns the codes, says each
/// domain error's reason.
pub trait FailureReason {
    fn reason(&self) -> &'static str;
}

/// Every metric Hoist exports.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// Requests by operation id and status code.
    pub requests: IntCounterVec,
    /// Request duration by operation id.
    pub request_duration: HistogramVec,
    /// Bytes stored by uploads that completed.
    pub upload_bytes: IntCounter,
    /// Uploads that failed, by reason (error code).
    pub upload_failures: IntCounterVec,
    /// Multipart uploads aborted after a failure or disconnect.
    pub multipart_aborts: IntCounter,
    /// Bytes of the memory budget reserved right now: part buffers, and image and trigger
    /// bodies while they are parsed (bounded by `upload.max_buffer_bytes`).
    pub upload_buffer_bytes: IntGauge,
    /// Form uploads held in a temporary file because `file` came before its destination.
    pub uploads_spooled: IntCounter,
    /// Trigger calls by trigger name, kind and outcome.
    pub trigger_calls: IntCounterVec,
    /// Trigger call duration by trigger name and kind.
    pub trigger_duration: HistogramVec,
    /// Connections and requests turned away to protect the gateway, by reason.
    pub refused: IntCounterVec,
    /// Upload hooks, audit trail and janitor.
    pub lifecycle: LifecycleMetrics,
}

impl Metrics {
    pub fn new() -> Self {
        let registry =
            Registry::new_custom(Some("hoist".into()), None).expect("a static prefix is valid");
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by operation and status",
            ),
            &["operation", "status"],
        )
        .expect("static metric definition");
        let request_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request duration").buckets(
                vec![
                    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                    60.0, 300.0,
                ],
            ),
            &["operation"],
        )
        .expect("static metric definition");
        let upload_bytes = IntCounter::new("upload_bytes_total", "Bytes stored by uploads")
            .expect("static metric definition");
        let upload_failures = IntCounterVec::new(
            Opts::new("upload_failures_total", "Failed uploads by reason"),
            &["reason"],
        )
        .expect("static metric definition");
        let multipart_aborts = IntCounter::new(
            "multipart_aborts_total",
            "Multipart uploads aborted after a failure",
        )
        .expect("static metric definition");
        let upload_buffer_bytes = IntGauge::new(
            "upload_buffer_bytes",
            "Bytes of the memory budget (part buffers, image and trigger bodies) reserved right now",
        )
        .expect("static metric definition");
        let uploads_spooled = IntCounter::new(
            "uploads_spooled_total",
            "Form uploads spooled to a temporary file (file sent before its destination)",
        )
        .expect("static metric definition");
        let trigger_calls = IntCounterVec::new(
            Opts::new(
                "trigger_calls_total",
                "Trigger calls by name, kind and outcome",
            ),
            &["name", "kind", "outcome"],
        )
        .expect("static metric definition");
        let trigger_duration = HistogramVec::new(
            HistogramOpts::new("trigger_duration_seconds", "Trigger call duration"),
            &["name", "kind"],
        )
        .expect("static metric definition");
        let refused = IntCounterVec::new(
            Opts::new(
                "refused_total",
                "Connections and requests refused to protect the gateway, by reason",
            ),
            &["reason"],
        )
        .expect("static metric definition");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(request_duration.clone()),
            Box::new(upload_bytes.clone()),
            Box::new(upload_failures.clone()),
            Box::new(multipart_aborts.clone()),
            Box::new(upload_buffer_bytes.clone()),
            Box::new(uploads_spooled.clone()),
            Box::new(trigger_calls.clone()),
            Box::new(trigger_duration.clone()),
            Box::new(refused.clone()),
        ] {
            registry
                .register(collector)
                .expect("each metric is registered once");
        }
        let lifecycle = LifecycleMetrics::register(&registry);
        Self {
            lifecycle,
            registry,
            requests,
            request_duration,
            upload_bytes,
            upload_failures,
            multipart_aborts,
            upload_buffer_bytes,
            uploads_spooled,
            trigger_calls,
            trigger_duration,
            refused,
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("encoding to a Vec cannot fail");
        String::from_utf8(buffer).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
