//! The checks of `[telemetry]`: the OTLP collector is a URL spans can be sent to.

use crate::aws::check_endpoint;
use crate::config::{ConfigProblem, TelemetrySettings};

/// Every problem of `[telemetry]`.
pub fn check(telemetry: &TelemetrySettings) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    if let Some(endpoint) = &telemetry.otlp_endpoint
        && let Err(message) = check_endpoint(endpoint)
    {
        problems.push(ConfigProblem::new("telemetry.otlp_endpoint", message));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_collector_is_an_http_url() {
        assert!(check(&TelemetrySettings::default()).is_empty());
        let collector = |endpoint: &str| TelemetrySettings {
            otlp_endpoint: Some(endpoint.into()),
            ..TelemetrySettings::default()
        };
        assert!(check(&collector("http://otel-collector:4318")).is_empty());
        assert_eq!(
            check(&collector("otel-collector:4318"))[0].key,
            "telemetry.otlp_endpoint"
        );
    }
}
