//! The `step-function` trigger kind: starts an execution of a state machine. An
//! `Idempotency-Key` becomes the execution name, so a retried request finds the execution it
//! started instead of starting a second one. aws-sdk-sfn types stay in this file.

use aws_sdk_sfn::Client;
use aws_sdk_sfn::config::Region;
use aws_sdk_sfn::error::SdkError;
use aws_sdk_sfn::operation::start_execution::StartExecutionError;
use aws_smithy_types::date_time::Format;
use futures_util::future::BoxFuture;
use serde_json::{Map, Value};

use super::{Built, Call, Kind, Outcome, Setup, Trigger, TriggerError};
use crate::aws::{self, Arn, is_valid_region};
use crate::config::TriggerRoute;

pub const KIND: Kind = Kind {
    name: "step-function",
    keys: &["correlation_field"],
    payload_limit: |_| INPUT_LIMIT,
    check,
    build,
};

/// Step Functions' limit on an execution's input: 256 KiB.
const INPUT_LIMIT: usize = 256 * 1024;

/// Where the correlation id goes in the input unless the declaration says otherwise.
const DEFAULT_CORRELATION_FIELD: &str = "correlationId";

/// The parts of a state machine ARN, `arn:<p>:states:<region>:<account>:stateMachine:<name>`
/// with an optional `:<version or alias>`.
struct StateMachine<'a> {
    arn: Arn<'a>,
    name: &'a str,
}

impl<'a> StateMachine<'a> {
    fn parse(text: &'a str) -> Option<Self> {
        let arn = Arn::parse(text)?;
        let rest = arn.resource.strip_prefix("stateMachine:")?;
        let name = rest.split(':').next()?;
        let valid = arn.service == "states"
            && is_valid_region(arn.region)
            && !arn.account.is_empty()
            && (1..=80).contains(&name.len())
            && rest.split(':').count() <= 2;
        valid.then_some(Self { arn, name })
    }

    /// The ARN an execution of this state machine named `execution` has.
    fn execution_arn(&self, execution: &str) -> String {
        let Arn {
            partition,
            region,
            account,
            ..
        } = self.arn;
        format!(
            "arn:{partition}:states:{region}:{account}:execution:{}:{execution}",
            self.name
        )
    }
}

fn check(route: &TriggerRoute) -> Vec<(&'static str, String)> {
    if StateMachine::parse(&route.target).is_some() {
        return Vec::new();
    }
    vec![(
        "target",
        format!(
            "`{}` is not a state machine ARN \
             (arn:aws:states:<region>:<account>:stateMachine:<name>)",
            route.target
        ),
    )]
}

fn build(route: &TriggerRoute, setup: &Setup<'_>) -> Built {
    let machine = StateMachine::parse(&route.target).ok_or("not a state machine ARN")?;
    let config = aws_sdk_sfn::config::Builder::from(setup.sdk)
        // The state machine lives where its ARN says.
        .region(Region::new(machine.arn.region.to_owned()))
        .timeout_config(aws::call_timeouts(setup.aws, setup.timeout))
        .build();
    let execution_prefix = machine.execution_arn("");
    Ok(Box::new(StepFunctionTrigger {
        client: Client::from_conf(config),
        state_machine_arn: route.target.clone(),
        execution_prefix,
        correlation_field: match route.correlation_field.as_deref() {
            None => Some(DEFAULT_CORRELATION_FIELD.to_owned()),
            Some("") => None,
            Some(field) => Some(field.to_owned()),
        },
    }))
}

struct StepFunctionTrigger {
    client: Client,
    state_machine_arn: String,
    /// `arn:…:execution:<state machine>:`, to which an execution name is appended.
    execution_prefix: String,
    correlation_field: Option<String>,
}

impl Trigger for StepFunctionTrigger {
    fn invoke<'a>(&'a self, call: &'a Call) -> BoxFuture<'a, Result<Outcome, TriggerError>> {
        Box::pin(async move {
            let input = call.payload(self.correlation_field.as_deref())?;
            let name = call
                .idempotency_key
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            let started = self
                .client
                .start_execution()
                .state_machine_arn(&self.state_machine_arn)
                .name(&name)
                .input(input)
                .send()
                .await;
            match started {
                Ok(output) => Ok(Outcome::Started {
                    execution_arn: output.execution_arn().to_owned(),
                    start_date: rfc3339(output.start_date()),
                }),
                // A retry: the name is taken, and since the correlation id in the input
                // differs per request, Step Functions does not match it as the same call.
                Err(SdkError::ServiceError(error))
                    if call.idempotency_key.is_some()
                        && matches!(
                            error.err(),
                            StartExecutionError::ExecutionAlreadyExists(_)
                        ) =>
                {
                    self.existing(&name, call).await
                }
                Err(error) => Err(aws::call_failure(error).into()),
            }
        })
    }
}

impl StepFunctionTrigger {
    /// The execution an earlier request started under this key, if its payload was the same.
    async fn existing(&self, name: &str, call: &Call) -> Result<Outcome, TriggerError> {
        let execution = self
            .client
            .describe_execution()
            .execution_arn(format!("{}{name}", self.execution_prefix))
            .send()
            .await
            .map_err(aws::call_failure)?;
        let same_payload = execution
            .input()
            .and_then(|input| serde_json::from_str::<Map<String, Value>>(input).ok())
            .is_some_and(|mut earlier| {
                if let Some(field) = &self.correlation_field {
                    earlier.remove(field);
                }
                earlier == call.data
            });
        if !same_payload {
            return Err(TriggerError::IdempotencyConflict);
        }
        Ok(Outcome::Started {
            execution_arn: execution.execution_arn().to_owned(),
            start_date: rfc3339(execution.start_date()),
        })
    }
}

fn rfc3339(date: &aws_smithy_types::DateTime) -> String {
    date.fmt(Format::DateTime)
        .unwrap_or_else(|_| date.secs().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_arns_are_derived_from_the_state_machine() {
        let machine =
            StateMachine::parse("arn:aws:states:eu-west-1:123456789012:stateMachine:selection")
                .unwrap();
        assert_eq!(machine.name, "selection");
        assert_eq!(
            machine.execution_arn("order-42"),
            "arn:aws:states:eu-west-1:123456789012:execution:selection:order-42"
        );
        let versioned =
            StateMachine::parse("arn:aws:states:eu-west-1:123456789012:stateMachine:sel:3")
                .unwrap();
        assert_eq!(
            versioned.execution_arn("x"),
            "arn:aws:states:eu-west-1:123456789012:execution:sel:x"
        );
    }

    #[test]
    fn only_state_machine_arns_are_targets() {
        for bad in [
            "selection",
            "arn:aws:states:eu-west-1:123456789012:activity:a",
            "arn:aws:states:eu-west-1:123456789012:stateMachine:",
            "arn:aws:states:eu-west-1::stateMachine:s",
            "arn:aws:lambda:eu-west-1:123456789012:stateMachine:s",
            "arn:aws:states:eu-west-1:123456789012:stateMachine:s:1:2",
        ] {
            assert!(StateMachine::parse(bad).is_none(), "{bad}");
        }
    }
}
