//! The `log` audit sink: every event as one line on the tracing target `hoist::audit`,
//! always on, so a log pipeline can route audit lines apart from the rest.

use futures_util::future::BoxFuture;

use super::{AuditEvent, Built, Setup, Sink, SinkKind};

pub const SINK: SinkKind = SinkKind { name: "log", build };

fn build(_: &Setup<'_>) -> Built {
    Ok(Some(Box::new(LogSink)))
}

#[derive(Debug)]
struct LogSink;

impl Sink for LogSink {
    fn record(&self, event: &AuditEvent) {
        let details = serde_json::Value::Object(event.details.clone());
        tracing::info!(
            target: "hoist::audit",
            action = event.action.as_str(),
            sub = event.sub.as_deref(),
            client = event.client.as_deref(),
            outcome = %event.outcome,
            correlation_id = %event.correlation_id,
            details = %details,
            "audit"
        );
    }

    fn flush(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}
