//! The checks of `[triggers.*]`: names, kinds, targets and the keys each kind reads. The
//! kinds check their own targets and keys (`Kind::check`); this runs what all share.

use std::collections::BTreeMap;

use super::KINDS;
use super::registry::{MAX_TIMEOUT, kind};
use crate::config::{ConfigProblem, TriggerRoute, is_valid_alias};

/// Every problem of the trigger declarations, each named by its key.
pub fn check(routes: &BTreeMap<String, TriggerRoute>) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    for (name, route) in routes {
        let mut problem = |key: &str, message: String| {
            problems.push(ConfigProblem::new(
                format!("triggers.{name}.{key}"),
                message,
            ))
        };
        if !is_valid_alias(name) {
            problems.push(ConfigProblem::new(
                format!("triggers.{name}"),
                "a trigger name uses only letters, digits, `-` and `_`",
            ));
            continue;
        }
        let Some(kind) = kind(&route.kind) else {
            let known: Vec<&str> = KINDS.iter().map(|kind| kind.name).collect();
            let message = if route.kind.is_empty() {
                format!("is required: one of {}", known.join(", "))
            } else {
                format!(
                    "unknown trigger kind `{}`; one of {}",
                    route.kind,
                    known.join(", ")
                )
            };
            problem("kind", message);
            continue;
        };
        if route.target.trim().is_empty() {
            problem("target", "is required".into());
        } else {
            for (key, message) in (kind.check)(route) {
                problem(key, message);
            }
        }
        for key in route.kind_specific_keys() {
            if !kind.keys.contains(&key) {
                problem(key, format!("does not apply to {} triggers", kind.name));
            }
        }
        if let Some(timeout) = route.timeout
            && (timeout.is_zero() || timeout > MAX_TIMEOUT)
        {
            problem(
                "timeout",
                format!("must be above zero and at most {MAX_TIMEOUT:?}"),
            );
        }
        if let Some(max) = route.max_payload {
            let limit = (kind.payload_limit)(route);
            if max == 0 || max > limit {
                problem(
                    "max_payload",
                    format!("must be between 1 and {limit} bytes, the limit of this kind"),
                );
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::LambdaMode;

    fn route(kind: &str, target: &str) -> TriggerRoute {
        TriggerRoute {
            kind: kind.into(),
            target: target.into(),
            ..TriggerRoute::default()
        }
    }

    fn problems(routes: &[(&str, TriggerRoute)]) -> Vec<String> {
        let routes = routes
            .iter()
            .map(|(name, route)| ((*name).to_owned(), route.clone()))
            .collect();
        check(&routes)
            .into_iter()
            .map(|problem| problem.to_string())
            .collect()
    }

    #[test]
    fn valid_declarations_pass() {
        let mut async_lambda = route(
            "lambda",
            "arn:aws:lambda:eu-west-1:123456789012:function:fn",
        );
        async_lambda.mode = Some(LambdaMode::Async);
        async_lambda.max_payload = Some(1024);
        assert_eq!(
            problems(&[
                ("a", route("lambda", "processSmsWaveFilesLambda")),
                ("b", async_lambda),
                (
                    "c",
                    route(
                        "step-function",
                        "arn:aws:states:us-east-1:123456789012:stateMachine:selection"
                    )
                ),
                ("d", route("http", "https://hooks.example.com/x")),
            ]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn every_problem_is_listed_with_its_key() {
        let mut wrong_keys = route(
            "step-function",
            "arn:aws:states:us-east-1:123456789012:stateMachine:s",
        );
        wrong_keys.mode = Some(LambdaMode::Sync);
        wrong_keys.timeout = Some(Duration::ZERO);
        let mut too_big = route("lambda", "fn");
        too_big.mode = Some(LambdaMode::Async);
        too_big.max_payload = Some(2 * 1024 * 1024);
        let found = problems(&[
            ("bad name", route("http", "https://x.example")),
            ("nokind", route("", "x")),
            ("mystery", route("ftp", "x")),
            ("notarget", route("lambda", " ")),
            (
                "badarn",
                route(
                    "step-function",
                    "arn:aws:lambda:us-east-1:123456789012:function:f",
                ),
            ),
            ("badurl", route("http", "ftp://x.example")),
            ("wrongkeys", wrong_keys),
            ("toobig", too_big),
        ]);
        let keys: Vec<&str> = found
            .iter()
            .map(|p| p.split(": ").next().unwrap())
            .collect();
        assert_eq!(
            keys,
            [
                "triggers.bad name",
                "triggers.badarn.target",
                "triggers.badurl.target",
                "triggers.mystery.kind",
                "triggers.nokind.kind",
                "triggers.notarget.target",
                "triggers.toobig.max_payload",
                "triggers.wrongkeys.mode",
                "triggers.wrongkeys.timeout",
            ],
            "{found:#?}"
        );
        assert!(
            found[3].contains("lambda, step-function, http"),
            "{}",
            found[3]
        );
    }
}
