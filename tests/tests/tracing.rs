//! OpenTelemetry export: spans reach an OTLP/HTTP collector and continue the caller's W3C
//! trace. In its own test binary because it installs the process-wide subscriber.

use std::sync::mpsc;

use hoist_server::config::TelemetrySettings;
use hoist_tests::TestServer;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::{EndpointExt, Route, Server, handler, post};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

#[handler]
fn collect(body: Vec<u8>, sink: Data<&mpsc::Sender<Vec<u8>>>) {
    let _ = sink.send(body);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn spans_are_exported_over_otlp_and_continue_the_callers_trace() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (sink, bodies) = mpsc::channel::<Vec<u8>>();
    let collector = runtime.block_on(async {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
        let app = Route::new().at("/v1/traces", post(collect)).data(sink);
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        addr
    });

    // Built outside the runtime: the exporter's HTTP client is blocking.
    let telemetry = hoist_server::telemetry::init(&TelemetrySettings {
        otlp_endpoint: Some(format!("http://{collector}")),
        log_filter: "info".into(),
        ..TelemetrySettings::default()
    })
    .unwrap();

    runtime.block_on(async {
        let server = TestServer::start().await;
        let response = reqwest::Client::new()
            .get(server.url("/heartbeat"))
            .header("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        server.stop().await;
    });
    // Flushes the batch; the collector keeps serving on the runtime's worker threads.
    telemetry.shutdown();

    let bodies: Vec<Vec<u8>> = bodies.try_iter().collect();
    assert!(!bodies.is_empty(), "the collector received spans");
    assert!(
        bodies
            .iter()
            .any(|body| contains(body, &hex(TRACE_ID)) && contains(body, b"request")),
        "a request span carries the caller's trace id"
    );
    assert!(
        bodies.iter().any(|body| contains(body, b"hoist")),
        "spans name the service"
    );
}
