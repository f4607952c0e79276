//! The `lambda` trigger kind: invokes a Lambda function, synchronously (`RequestResponse`)
//! or as a queued event (`Event`). aws-sdk-lambda types stay in this file.

use aws_sdk_lambda::Client;
use aws_sdk_lambda::config::Region;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use base64::Engine;
use futures_util::future::BoxFuture;
use serde_json::json;

use super::{Built, Call, Kind, Outcome, Setup, Trigger, TriggerError, answer_payload};
use crate::aws::{self, Arn, is_valid_region};
use crate::config::{LambdaMode, TriggerRoute};

pub const KIND: Kind = Kind {
    name: "lambda",
    keys: &["mode", "region", "correlation_field"],
    payload_limit,
    check,
    build,
};

/// Lambda's request limits: 6 MB for a synchronous invocation, 1 MB for an event.
const SYNC_LIMIT: usize = 6 * 1024 * 1024;
const ASYNC_LIMIT: usize = 1024 * 1024;

fn payload_limit(route: &TriggerRoute) -> usize {
    match route.mode.unwrap_or_default() {
        LambdaMode::Sync => SYNC_LIMIT,
        LambdaMode::Async => ASYNC_LIMIT,
    }
}

fn check(route: &TriggerRoute) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    let target = route.target.as_str();
    let arn_region = if target.starts_with("arn:") {
        match Arn::parse(target) {
            Some(arn)
                if arn.service == "lambda"
                    && is_valid_region(arn.region)
                    && !arn.account.is_empty()
                    && arn
                        .resource
                        .strip_prefix("function:")
                        .is_some_and(is_function_name) =>
            {
                Some(arn.region)
            }
            _ => {
                problems.push((
                    "target",
                    format!(
                        "`{target}` is not a Lambda function ARN \
                         (arn:aws:lambda:<region>:<account>:function:<name>[:<alias>])"
                    ),
                ));
                None
            }
        }
    } else {
        if !is_function_name(target) {
            problems.push((
                "target",
                format!(
                    "`{target}` is not a Lambda function name: up to 64 letters, digits, `-` or \
                     `_`, optionally followed by `:<version or alias>`"
                ),
            ));
        }
        None
    };
    if let Some(region) = &route.region {
        if !is_valid_region(region) {
            problems.push(("region", format!("`{region}` is not an AWS region")));
        } else if arn_region.is_some_and(|arn_region| arn_region != region) {
            problems.push((
                "region",
                "differs from the region in the target's ARN; leave it out".into(),
            ));
        }
    }
    problems
}

/// `name` or `name:qualifier`, as Lambda's `FunctionName` takes them.
fn is_function_name(text: &str) -> bool {
    let (name, qualifier) = match text.split_once(':') {
        Some((name, qualifier)) => (name, Some(qualifier)),
        None => (text, None),
    };
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && qualifier.is_none_or(|q| {
            (1..=128).contains(&q.len())
                && q.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_$".contains(&b))
        })
}

fn build(route: &TriggerRoute, setup: &Setup<'_>) -> Built {
    // A function in another region is reached through that region's endpoint; an ARN says
    // which one.
    let region = Arn::parse(&route.target)
        .map(|arn| arn.region.to_owned())
        .or_else(|| route.region.clone())
        .unwrap_or_else(|| setup.aws.region.clone());
    let config = aws_sdk_lambda::config::Builder::from(setup.sdk)
        .region(Region::new(region))
        .timeout_config(aws::call_timeouts(setup.aws, setup.timeout))
        .build();
    Ok(Box::new(LambdaTrigger {
        client: Client::from_conf(config),
        function: route.target.clone(),
        mode: route.mode.unwrap_or_default(),
        correlation_field: route.correlation_field.clone().filter(|f| !f.is_empty()),
    }))
}

struct LambdaTrigger {
    client: Client,
    function: String,
    mode: LambdaMode,
    correlation_field: Option<String>,
}

impl Trigger for LambdaTrigger {
    fn mode(&self) -> Option<&'static str> {
        Some(match self.mode {
            LambdaMode::Sync => "sync",
            LambdaMode::Async => "async",
        })
    }

    fn invoke<'a>(&'a self, call: &'a Call) -> BoxFuture<'a, Result<Outcome, TriggerError>> {
        Box::pin(async move {
            let payload = call.payload(self.correlation_field.as_deref())?;
            let request = self
                .client
                .invoke()
                .function_name(&self.function)
                .payload(Blob::new(payload));
            let output = match self.mode {
                // Lambda hands the client context to the function (`context.client_context`)
                // of synchronous invocations only; events carry the id through
                // `correlation_field` when one is declared.
                LambdaMode::Sync => request
                    .invocation_type(InvocationType::RequestResponse)
                    .client_context(client_context(call)),
                LambdaMode::Async => request.invocation_type(InvocationType::Event),
            }
            .send()
            .await
            .map_err(aws::call_failure)?;
            let status = u16::try_from(output.status_code()).unwrap_or_default();
            Ok(match self.mode {
                LambdaMode::Sync => Outcome::Answered {
                    status,
                    payload: output
                        .payload()
                        .and_then(|blob| answer_payload(blob.as_ref())),
                    function_error: output.function_error().map(str::to_owned),
                },
                LambdaMode::Async => Outcome::Queued { status },
            })
        })
    }
}

/// The base64 JSON Lambda passes to the function as `context.client_context`; its `custom`
/// map holds the correlation id (and the client's idempotency key, which Lambda itself does
/// not deduplicate on, so the function can).
fn client_context(call: &Call) -> String {
    let mut custom = json!({ "correlationId": call.correlation_id });
    if let Some(key) = &call.idempotency_key {
        custom["idempotencyKey"] = key.as_str().into();
    }
    base64::engine::general_purpose::STANDARD.encode(json!({ "custom": custom }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_and_qualifiers() {
        for good in [
            "processSmsWaveFilesLambda",
            "fn-1_x",
            "fn:live",
            "fn:$LATEST",
            "fn:3",
        ] {
            assert!(is_function_name(good), "{good}");
        }
        for bad in [
            "",
            "fn:",
            "a b",
            "fn:x:y",
            &"f".repeat(65),
            "arn:aws:lambda",
        ] {
            assert!(!is_function_name(bad), "{bad}");
        }
    }

    #[test]
    fn targets_and_regions_are_checked() {
        let route = |target: &str, region: Option<&str>| TriggerRoute {
            kind: "lambda".into(),
            target: target.into(),
            region: region.map(str::to_owned),
            ..TriggerRoute::default()
        };
        let arn = "arn:aws:lambda:eu-west-1:123456789012:function:fn:live";
        assert!(check(&route(arn, None)).is_empty());
        assert!(check(&route(arn, Some("eu-west-1"))).is_empty());
        assert!(check(&route("fn", Some("ap-south-1"))).is_empty());
        let keys = |r| check(&r).into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert_eq!(keys(route(arn, Some("us-east-1"))), ["region"]);
        assert_eq!(keys(route("fn", Some("moon-1"))), ["region"]);
        assert_eq!(
            keys(route("arn:aws:lambda:eu-west-1:123456789012:layer:x", None)),
            ["target"]
        );
        assert_eq!(
            keys(route("arn:aws:lambda:mars:123456789012:function:f", None)),
            ["target"]
        );
    }

    #[test]
    fn the_client_context_carries_the_correlation_id() {
        let mut call = Call::new(Default::default(), Some("key-1".into())).unwrap();
        call.correlation_id = "corr-9".into();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(client_context(&call))
            .unwrap();
        let context: serde_json::Value = serde_json::from_slice(&decoded).unwrap();
        assert_eq!(
            context,
            json!({"custom": {"correlationId": "corr-9", "idempotencyKey": "key-1"}})
        );
    }
}
