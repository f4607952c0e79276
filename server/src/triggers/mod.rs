//! Triggers: named targets clients call as `POST /trigger/{name}`, declared in `routes.toml`.
//!
//! Each kind is a plugin: one module holding a [`Kind`] (its name, the keys it reads, its
//! payload limit, how a declaration is checked and built) and a [`Trigger`] (the call). The
//! [`registry`] builds every declared trigger at start-up and wraps each call in the parts
//! all kinds share: the timeout, metrics and the log line. SDK types stay inside the modules.
//!
//! Adding a kind: write `triggers/<kind>.rs` with a `pub const KIND: Kind` and add it to
//! [`KINDS`]. `check-config`, start-up, `GET /triggers` and the metrics pick it up from there.

mod check;
mod error;
pub(crate) mod http;
pub(crate) mod lambda;
mod registry;
pub(crate) mod step_function;

pub use check::check;
pub use error::TriggerError;
pub use registry::Triggers;

use std::time::Duration;

use aws_config::SdkConfig;
use futures_util::future::BoxFuture;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::config::{AwsSettings, TriggerRoute};
use crate::context::correlation;

/// Every trigger kind `routes.toml` may name.
pub const KINDS: &[Kind] = &[lambda::KIND, step_function::KIND, http::KIND];

/// A trigger kind: what `kind = "<name>"` in `routes.toml` selects.
#[derive(Debug)]
pub struct Kind {
    /// Its name in `routes.toml`.
    pub name: &'static str,
    /// The kind-specific keys it reads (see [`TriggerRoute::kind_specific_keys`]); a
    /// declaration setting any other is refused rather than silently ignored.
    pub keys: &'static [&'static str],
    /// The largest payload the target takes, in bytes, for this declaration.
    pub payload_limit: fn(&TriggerRoute) -> usize,
    /// Problems with the declaration's `target` and kind-specific keys, as (key, message).
    pub check: fn(&TriggerRoute) -> Vec<(&'static str, String)>,
    /// Builds the trigger of a declaration that passed `check`.
    pub build: fn(&TriggerRoute, &Setup<'_>) -> Built,
}

/// A built trigger, or why it could not be built.
pub type Built = Result<Box<dyn Trigger>, String>;

/// What building a trigger may use.
#[derive(Debug)]
pub struct Setup<'a> {
    /// The shared SDK configuration (endpoint, credentials, retries) from [`crate::aws`].
    pub sdk: &'a SdkConfig,
    pub aws: &'a AwsSettings,
    /// The trigger's time budget, already defaulted.
    pub timeout: Duration,
}

/// One target, called with the payload of a request.
pub trait Trigger: Send + Sync {
    /// The invocation mode shown by `GET /triggers`, for kinds that have modes.
    fn mode(&self) -> Option<&'static str> {
        None
    }

    /// Calls the target. Implementations build what they send with [`Call::payload`], which
    /// refuses oversized payloads before anything leaves the process.
    fn invoke<'a>(&'a self, call: &'a Call) -> BoxFuture<'a, Result<Outcome, TriggerError>>;
}

/// What a call achieved downstream.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The target ran and answered (Lambda `RequestResponse`, an HTTP webhook).
    Answered {
        /// Lambda's status code, or the webhook's HTTP status.
        status: u16,
        /// The answer: its JSON, or its text as a JSON string when it is not JSON.
        payload: Option<Value>,
        /// Lambda's `FunctionError` (`Handled`, `Unhandled`) when the function failed.
        function_error: Option<String>,
    },
    /// The target queued the payload and answered at once (Lambda `Event`).
    Queued { status: u16 },
    /// A Step Functions execution started, or had already started under this
    /// `Idempotency-Key` with the same payload.
    Started {
        execution_arn: String,
        /// RFC 3339.
        start_date: String,
    },
}

impl Outcome {
    /// Whether the target did what was asked without reporting an error of its own.
    pub fn success(&self) -> bool {
        match self {
            Outcome::Answered {
                status,
                function_error,
                ..
            } => function_error.is_none() && (200..300).contains(status),
            Outcome::Queued { .. } | Outcome::Started { .. } => true,
        }
    }

    /// The target's status: Lambda's status code or the webhook's HTTP status.
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Answered { status, .. } | Outcome::Queued { status } => Some(*status),
            Outcome::Started { .. } => None,
        }
    }

    fn verdict(&self) -> Verdict {
        if self.success() {
            Verdict::Ok
        } else {
            Verdict::TargetError
        }
    }
}

/// How a call ended, as the `outcome` label of the trigger metrics names it: `ok`,
/// `target-error`, `refused`, `timeout` or `failed`.
pub fn outcome_label(result: &Result<Outcome, TriggerError>) -> &'static str {
    match result {
        Ok(outcome) => outcome.verdict().as_str(),
        Err(error) => error.verdict().as_str(),
    }
}

/// How a call ended, as metrics (`outcome` label) and logs name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// The target did what was asked.
    Ok,
    /// The target ran and reported an error (function error, webhook 4xx).
    TargetError,
    /// Hoist refused the call before sending anything (payload too large, reserved field,
    /// idempotency conflict).
    Refused,
    /// The target did not answer within the trigger's timeout.
    Timeout,
    /// The target could not be reached or its service failed.
    Failed,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::TargetError => "target-error",
            Verdict::Refused => "refused",
            Verdict::Timeout => "timeout",
            Verdict::Failed => "failed",
        }
    }
}

/// One call of a trigger, as the plugins see it.
#[derive(Debug)]
pub struct Call {
    /// The `data` object the client sent.
    pub data: Map<String, Value>,
    /// The request's correlation id, passed downstream so logs can be joined.
    pub correlation_id: String,
    /// The client's `Idempotency-Key`, already checked to be a valid execution name.
    pub idempotency_key: Option<String>,
    /// The trigger's payload limit; set by the registry.
    limit: usize,
}

/// Longest `Idempotency-Key`: Step Functions execution names have at most 80 characters.
const MAX_IDEMPOTENCY_KEY: usize = 80;

impl Call {
    /// A call of the current request (its correlation id). The key must be usable as a Step
    /// Functions execution name whatever the kind, so that a client's keys work everywhere.
    pub fn new(
        data: Map<String, Value>,
        idempotency_key: Option<String>,
    ) -> Result<Self, TriggerError> {
        if let Some(key) = &idempotency_key {
            let valid = (1..=MAX_IDEMPOTENCY_KEY).contains(&key.len())
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            if !valid {
                return Err(TriggerError::InvalidIdempotencyKey);
            }
        }
        Ok(Self {
            data,
            correlation_id: correlation::current(),
            idempotency_key,
            limit: usize::MAX,
        })
    }

    /// The payload as sent downstream: `data` as JSON, with the correlation id added under
    /// `correlation_field` when the trigger has one. Refused when `data` already uses that
    /// field (Hoist would overwrite the client's value) or when it exceeds the limit.
    pub fn payload(&self, correlation_field: Option<&str>) -> Result<String, TriggerError> {
        if let Some(field) = correlation_field
            && self.data.contains_key(field)
        {
            return Err(TriggerError::ReservedField(field.to_owned()));
        }
        let text = serde_json::to_string(&WithCorrelation {
            data: &self.data,
            field: correlation_field.map(|field| (field, self.correlation_id.as_str())),
        })
        .expect("a JSON map serializes");
        if text.len() > self.limit {
            return Err(TriggerError::TooLarge {
                size: text.len(),
                limit: self.limit,
            });
        }
        Ok(text)
    }
}

/// `data` serialized as it is, plus one more entry when a correlation field is set; written
/// straight from the client's map, which may be megabytes, rather than from a copy.
struct WithCorrelation<'a> {
    data: &'a Map<String, Value>,
    field: Option<(&'a str, &'a str)>,
}

impl Serialize for WithCorrelation<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.data.len() + 1))?;
        for (key, value) in self.data {
            map.serialize_entry(key, value)?;
        }
        if let Some((field, id)) = self.field {
            map.serialize_entry(field, id)?;
        }
        map.end()
    }
}

/// A target's answer as JSON: parsed when it is JSON, else its text as a JSON string;
/// `None` when empty.
pub(crate) fn answer_payload(bytes: &[u8]) -> Option<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    Some(
        serde_json::from_slice(bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(data: Value, limit: usize) -> Call {
        let Value::Object(data) = data else {
            panic!("an object")
        };
        let mut call = Call::new(data, None).unwrap();
        call.limit = limit;
        call.correlation_id = "corr-1".into();
        call
    }

    #[test]
    fn the_payload_carries_the_correlation_id_only_when_asked() {
        let c = call(json!({"eventId": "123"}), 1000);
        assert_eq!(c.payload(None).unwrap(), r#"{"eventId":"123"}"#);
        assert_eq!(
            c.payload(Some("correlationId")).unwrap(),
            r#"{"eventId":"123","correlationId":"corr-1"}"#
        );
    }

    #[test]
    fn a_payload_using_the_correlation_field_is_refused() {
        let c = call(json!({"correlationId": "mine"}), 1000);
        assert!(matches!(
            c.payload(Some("correlationId")),
            Err(TriggerError::ReservedField(field)) if field == "correlationId"
        ));
        assert!(c.payload(None).is_ok(), "no field, no conflict");
    }

    #[test]
    fn the_limit_counts_the_bytes_sent_including_the_correlation_id() {
        // {"a":"xxxxx"} is 13 bytes; with "c":"corr-1" it is 26.
        let c = call(json!({"a": "xxxxx"}), 13);
        assert!(c.payload(None).is_ok());
        assert!(matches!(
            c.payload(Some("c")),
            Err(TriggerError::TooLarge {
                size: 26,
                limit: 13
            })
        ));
    }

    #[test]
    fn idempotency_keys_must_be_valid_execution_names() {
        for good in ["a", "order-42_retry.1", &"k".repeat(80)] {
            assert!(
                Call::new(Map::new(), Some(good.to_owned())).is_ok(),
                "{good}"
            );
        }
        for bad in ["", "with space", "a/b", "ü", "x:y", &"k".repeat(81)] {
            assert!(
                matches!(
                    Call::new(Map::new(), Some(bad.to_owned())),
                    Err(TriggerError::InvalidIdempotencyKey)
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn answers_are_json_or_text() {
        assert_eq!(answer_payload(b""), None);
        assert_eq!(answer_payload(b" \n"), None);
        assert_eq!(answer_payload(br#"{"ok":1}"#), Some(json!({"ok": 1})));
        assert_eq!(answer_payload(b"plain"), Some(json!("plain")));
    }

    #[test]
    fn success_needs_a_2xx_status_and_no_function_error() {
        let answered = |status, error: Option<&str>| Outcome::Answered {
            status,
            payload: None,
            function_error: error.map(str::to_owned),
        };
        assert!(answered(200, None).success());
        assert!(!answered(200, Some("Unhandled")).success());
        assert!(!answered(422, None).success());
        assert!(Outcome::Queued { status: 202 }.success());
    }
}
