//! The trigger registry: every declared trigger built once at start-up, and the wrapper
//! around each call (time budget, metrics, the log line with the cause of a failure).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;

use super::{Call, KINDS, Kind, Outcome, Setup, Trigger, TriggerError, Verdict};
use crate::auth::Level;
use crate::config::{AwsSettings, ConfigProblem, TriggerRoute};
use crate::metrics::Metrics;

/// Time budget of a trigger that declares none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest time budget: a Lambda function runs at most 15 minutes.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// One declared trigger, ready to call.
pub struct Entry {
    pub name: String,
    /// The kind's name (`lambda`, `step-function`, `http`).
    pub kind: &'static str,
    pub auth: Level,
    pub description: Option<String>,
    /// Function, state machine ARN or URL; shown to supreme callers only.
    pub target: String,
    pub timeout: Duration,
    pub payload_limit: usize,
    trigger: Box<dyn Trigger>,
}

impl Entry {
    pub fn mode(&self) -> Option<&'static str> {
        self.trigger.mode()
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("auth", &self.auth)
            .field("target", &self.target)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Every declared trigger, by name.
#[derive(Debug)]
pub struct Triggers {
    by_name: BTreeMap<String, Entry>,
    metrics: Arc<Metrics>,
}

impl Triggers {
    /// Builds every declaration, which [`check`](super::check) passed (start-up checks the
    /// whole configuration first); what a kind still cannot build is listed as a problem.
    pub fn build(
        routes: &BTreeMap<String, TriggerRoute>,
        sdk: &SdkConfig,
        aws: &AwsSettings,
        metrics: Arc<Metrics>,
    ) -> Result<Self, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        let mut by_name = BTreeMap::new();
        for (name, route) in routes {
            let Some(kind) = kind(&route.kind) else {
                problems.push(ConfigProblem::new(
                    format!("triggers.{name}.kind"),
                    format!("unknown trigger kind `{}`", route.kind),
                ));
                continue;
            };
            let timeout = route.timeout.unwrap_or(DEFAULT_TIMEOUT);
            let setup = Setup { sdk, aws, timeout };
            match (kind.build)(route, &setup) {
                Ok(trigger) => {
                    by_name.insert(
                        name.clone(),
                        Entry {
                            name: name.clone(),
                            kind: kind.name,
                            auth: route.auth,
                            description: route.description.clone(),
                            target: route.target.clone(),
                            timeout,
                            payload_limit: payload_limit(kind, route),
                            trigger,
                        },
                    );
                }
                Err(message) => {
                    problems.push(ConfigProblem::new(format!("triggers.{name}"), message))
                }
            }
        }
        if problems.is_empty() {
            Ok(Self { by_name, metrics })
        } else {
            Err(problems)
        }
    }

    pub fn get(&self, name: &str) -> Result<&Entry, TriggerError> {
        self.by_name
            .get(name)
            .ok_or_else(|| TriggerError::Unknown(name.to_owned()))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.by_name.values()
    }

    /// Calls `entry` within its time budget, counts the outcome and logs it, inside the
    /// request's span (and so with its correlation id). A failure's line names the trigger,
    /// its target and the downstream error code; its cause travels with the error and is
    /// logged once, with the request's answer, by the HTTP middleware.
    pub async fn call(&self, entry: &Entry, mut call: Call) -> Result<Outcome, TriggerError> {
        call.limit = entry.payload_limit;
        let started = Instant::now();
        let result = tokio::time::timeout(entry.timeout, entry.trigger.invoke(&call))
            .await
            .unwrap_or(Err(TriggerError::Timeout));
        let elapsed = started.elapsed();
        let verdict = match &result {
            Ok(outcome) => outcome.verdict(),
            Err(error) => error.verdict(),
        };
        let (trigger, kind, outcome) = (entry.name.as_str(), entry.kind, verdict.as_str());
        self.metrics
            .trigger_calls
            .with_label_values(&[trigger, kind, outcome])
            .inc();
        // Refused calls never left the process; their duration says nothing downstream.
        if verdict != Verdict::Refused {
            self.metrics
                .trigger_duration
                .with_label_values(&[trigger, kind])
                .observe(elapsed.as_secs_f64());
        }
        let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
        match (&result, verdict) {
            (
                Ok(Outcome::Answered {
                    status,
                    function_error,
                    ..
                }),
                Verdict::TargetError,
            ) => tracing::warn!(
                trigger,
                kind,
                outcome,
                status,
                function_error,
                elapsed_ms,
                "trigger target reported an error"
            ),
            (Ok(_), _) => tracing::info!(trigger, kind, outcome, elapsed_ms, "trigger called"),
            (Err(error), Verdict::Refused) => {
                tracing::info!(trigger, kind, outcome, reason = %error, "trigger call refused");
            }
            (Err(error), _) => tracing::error!(
                trigger,
                kind,
                outcome,
                error_code = error.code().unwrap_or("unknown"),
                // `target` is the log line's module path in JSON logs.
                trigger_target = %entry.target,
                timeout = ?entry.timeout,
                elapsed_ms,
                "trigger call failed"
            ),
        }
        result
    }
}

/// The kind `routes.toml` names `name`.
pub(super) fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|kind| kind.name == name)
}

/// The declaration's payload limit: its own `max_payload` when lower than the kind's.
fn payload_limit(kind: &Kind, route: &TriggerRoute) -> usize {
    let limit = (kind.payload_limit)(route);
    route.max_payload.map_or(limit, |max| max.min(limit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LambdaMode;

    #[test]
    fn payload_limits_come_from_the_kind_unless_lowered() {
        let lambda = kind("lambda").unwrap();
        let mut r = TriggerRoute {
            kind: "lambda".into(),
            target: "fn".into(),
            ..TriggerRoute::default()
        };
        assert_eq!(payload_limit(lambda, &r), 6 * 1024 * 1024);
        r.mode = Some(LambdaMode::Async);
        assert_eq!(payload_limit(lambda, &r), 1024 * 1024);
        r.max_payload = Some(10);
        assert_eq!(payload_limit(lambda, &r), 10);
        let sfn = kind("step-function").unwrap();
        let machine = TriggerRoute {
            kind: "step-function".into(),
            ..TriggerRoute::default()
        };
        assert_eq!(payload_limit(sfn, &machine), 256 * 1024);
    }
}
