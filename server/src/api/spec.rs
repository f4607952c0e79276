//! The spec as it is served, checked in and shown in Swagger UI: poem-openapi's document,
//! finished in one pass. poem-openapi can say neither `security: []` nor what poem itself
//! answers before a handler runs (an unparsable parameter or body, a missing bearer token);
//! both are derived here from each operation's own shape, so no operation lists them by hand.

use poem::Route;
use poem::endpoint::make_sync;
use poem::web::Html;
use serde_yaml::{Mapping, Value};

use crate::http::{ErrorCode, refusals};

/// The finished document.
pub fn document() -> Value {
    let mut document: Value = serde_yaml::from_str(&super::service().spec_yaml())
        .expect("poem-openapi writes valid YAML");
    finish(&mut document);
    document
}

/// The spec as `GET /openapi.yaml` serves it and `openapi/openapi.yaml` holds it.
pub fn yaml() -> String {
    serde_yaml::to_string(&document()).expect("a YAML value serializes")
}

/// Swagger UI on the finished document. poem-openapi's page embeds its own JSON document
/// verbatim; that text is swapped for the finished one, so the page shows the served spec.
pub fn swagger_ui() -> Route {
    let html = swagger_html();
    Route::new().at("/", make_sync(move |_| Html(html.clone())))
}

fn swagger_html() -> String {
    let service = super::service();
    let finished = serde_json::to_string_pretty(&document()).expect("a YAML value is JSON");
    service
        .swagger_ui_html()
        .replacen(&service.spec(), &finished, 1)
}

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];

fn finish(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_mapping_mut) else {
        return;
    };
    for (_, item) in paths.iter_mut() {
        let Some(item) = item.as_mapping_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            let is_operation = method.as_str().is_some_and(|m| METHODS.contains(&m));
            if let (true, Some(operation)) = (is_operation, operation.as_mapping_mut()) {
                finish_operation(operation);
            }
        }
    }
}

fn finish_operation(operation: &mut Mapping) {
    let mut refusals = Vec::new();
    let has_parameters = operation
        .get("parameters")
        .and_then(Value::as_sequence)
        .is_some_and(|parameters| !parameters.is_empty());
    if has_parameters {
        // A parameter that is missing, or not of its declared type.
        refusals.push(ErrorCode::BadRequest);
    }
    let body_types: Vec<String> = operation
        .get("requestBody")
        .and_then(|body| body.get("content"))
        .and_then(Value::as_mapping)
        .map(|content| {
            content
                .keys()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if body_types.iter().any(|t| t.starts_with("application/json")) {
        // A body that is not JSON of the declared shape, or is sent as another type.
        refusals.extend([ErrorCode::BadRequest, ErrorCode::UnsupportedContentType]);
    }
    if body_types
        .iter()
        .any(|t| t.starts_with("multipart/form-data"))
    {
        refusals.push(ErrorCode::UnsupportedContentType);
    }
    match operation.get("security").and_then(Value::as_sequence) {
        None => {
            // Public: say so, so generators and checkers need no token for it.
            operation.insert("security".into(), Value::Sequence(Vec::new()));
        }
        Some(requirements) => {
            // A requirement of `{}` admits anonymous callers (public triggers); otherwise
            // poem refuses a request without a bearer token before the handler runs.
            let anonymous_allowed = requirements
                .iter()
                .any(|r| r.as_mapping().is_some_and(Mapping::is_empty));
            if !anonymous_allowed {
                refusals.push(ErrorCode::Unauthorized);
            }
        }
    }
    add_refusals(operation, refusals);
    describe_successes(operation);
}

/// poem-openapi leaves a plain `Json` success undescribed; Swagger UI and generated docs show
/// the description, so say what it is.
fn describe_successes(operation: &mut Mapping) {
    let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_mapping_mut)
    else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        let success = status
            .as_str()
            .is_some_and(|status| status.starts_with('2'));
        let Some(response) = response.as_mapping_mut() else {
            continue;
        };
        let undescribed = response
            .get("description")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty);
        if success && undescribed {
            response.insert(
                "description".into(),
                "Done; the result is under `data`.".into(),
            );
        }
    }
}

/// Adds each code under its status, unless the handler's own error types listed it already.
fn add_refusals(operation: &mut Mapping, codes: Vec<ErrorCode>) {
    let responses = operation
        .entry("responses".into())
        .or_insert_with(|| Value::Mapping(Mapping::new()));
    let Some(responses) = responses.as_mapping_mut() else {
        return;
    };
    for (status, codes) in refusals::by_status(codes) {
        let key = Value::String(status.to_string());
        match responses.get_mut(&key).and_then(Value::as_mapping_mut) {
            Some(response) => {
                let description = response
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let missing: Vec<ErrorCode> = codes
                    .into_iter()
                    .filter(|code| !description.contains(&format!("`{}`:", code.as_str())))
                    .collect();
                if !missing.is_empty() {
                    let joined = [description, refusals::describe(&missing)]
                        .into_iter()
                        .filter(|part| !part.is_empty())
                        .collect::<Vec<_>>()
                        .join("\n");
                    response.insert("description".into(), joined.into());
                }
            }
            None => {
                let mut response = serde_yaml::to_value(refusals::error_response(status, ""))
                    .expect("a response serializes");
                if let Some(response) = response.as_mapping_mut() {
                    response.insert("description".into(), refusals::describe(&codes).into());
                }
                responses.insert(key, response);
            }
        }
    }
    sort_responses(responses);
}

/// Statuses in ascending order, as poem-openapi writes them.
fn sort_responses(responses: &mut Mapping) {
    let mut entries: Vec<(Value, Value)> = std::mem::take(responses).into_iter().collect();
    entries.sort_by_key(|(status, _)| {
        status
            .as_str()
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(u16::MAX)
    });
    responses.extend(entries);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation of the finished spec, by operation id.
    fn operations(document: &Value) -> Vec<(String, Mapping)> {
        let mut found = Vec::new();
        for (_, item) in document["paths"].as_mapping().expect("paths") {
            for (_, operation) in item.as_mapping().expect("a path item") {
                let operation = operation.as_mapping().expect("an operation").clone();
                let id = operation["operationId"].as_str().expect("an id").to_owned();
                found.push((id, operation));
            }
        }
        found
    }

    fn operation(document: &Value, id: &str) -> Mapping {
        operations(document)
            .into_iter()
            .find(|(found, _)| found == id)
            .map(|(_, operation)| operation)
            .unwrap_or_else(|| panic!("no operation {id}"))
    }

    fn statuses(operation: &Mapping) -> Vec<String> {
        operation["responses"]
            .as_mapping()
            .expect("responses")
            .keys()
            .map(|status| status.as_str().expect("a status").to_owned())
            .collect()
    }

    /// The codes an error response's description lists (its `- \`code\`: ...` lines).
    fn listed_codes(response: &Value) -> Vec<ErrorCode> {
        let description = response["description"].as_str().unwrap_or_default();
        description
            .lines()
            .filter_map(|line| line.strip_prefix("- `"))
            .filter_map(|line| line.split('`').next())
            .map(|text| {
                *ErrorCode::ALL
                    .iter()
                    .find(|code| code.as_str() == text)
                    .unwrap_or_else(|| panic!("`{text}` is not a code"))
            })
            .collect()
    }

    #[test]
    fn operations_document_the_statuses_their_error_types_and_shape_give() {
        let document = document();
        assert_eq!(statuses(&operation(&document, "heartbeat")), ["200"]);
        assert_eq!(statuses(&operation(&document, "ready")), ["200", "503"]);
        // A user-level token check cannot give 403; poem's missing-token refusal is 401.
        assert_eq!(
            statuses(&operation(&document, "listBuckets")),
            ["200", "401"]
        );
        assert_eq!(
            statuses(&operation(&document, "listTriggers")),
            ["200", "401"]
        );
        assert_eq!(
            statuses(&operation(&document, "devToken")),
            ["200", "400", "404"]
        );
        let trigger = statuses(&operation(&document, "trigger"));
        for status in [
            "200", "202", "400", "401", "403", "404", "409", "413", "415", "502",
        ] {
            assert!(
                trigger.contains(&status.to_owned()),
                "trigger lacks {status}"
            );
        }
        let listing = statuses(&operation(&document, "listFiles"));
        for status in ["400", "401", "403", "502"] {
            assert!(
                listing.contains(&status.to_owned()),
                "listFiles lacks {status}"
            );
        }
        for absent in ["408", "409", "413", "415"] {
            assert!(
                !listing.contains(&absent.to_owned()),
                "listFiles has {absent}"
            );
        }
    }

    #[test]
    fn every_error_response_lists_its_codes_under_their_own_status() {
        let document = document();
        for (id, operation) in operations(&document) {
            for (status, response) in operation["responses"].as_mapping().expect("responses") {
                let status: u16 = status
                    .as_str()
                    .expect("a status")
                    .parse()
                    .expect("a number");
                if status < 400 {
                    continue;
                }
                let codes = listed_codes(response);
                assert!(!codes.is_empty(), "{id} {status} lists no code");
                for code in codes {
                    assert_eq!(
                        code.status().as_u16(),
                        status,
                        "{id}: {code} under {status}"
                    );
                }
                let schema = &response["content"]["application/json; charset=utf-8"]["schema"];
                assert_eq!(schema["$ref"], "#/components/schemas/ErrorEnvelope", "{id}");
            }
        }
    }

    #[test]
    fn public_operations_say_so() {
        let document = document();
        for id in ["heartbeat", "ready", "devToken"] {
            assert_eq!(
                operation(&document, id)["security"],
                Value::Sequence(Vec::new()),
                "{id}"
            );
        }
        let trigger = operation(&document, "trigger")["security"].clone();
        let anonymous = Value::Mapping(Mapping::new());
        assert!(
            trigger.as_sequence().expect("a list").contains(&anonymous),
            "public triggers need no token: {trigger:?}"
        );
        assert_eq!(
            document["servers"],
            serde_yaml::from_str::<Value>("[{url: /}]").expect("yaml")
        );
    }

    #[test]
    fn generators_get_plain_text_and_inline_enums() {
        let text = yaml();
        for wrapper in ["allOf", "anyOf", "oneOf", "nullable"] {
            assert!(!text.contains(wrapper), "the spec has {wrapper}");
        }
        for rust in ["[`", "super::", "crate::", "self::"] {
            assert!(!text.contains(rust), "the spec has Rust doc syntax {rust}");
        }
        for (id, operation) in operations(&document()) {
            let summary = operation["summary"].as_str().unwrap_or_default();
            assert!(!summary.is_empty(), "{id} has no summary");
            assert!(
                !summary.contains('`'),
                "{id}: backticks in the summary {summary:?}"
            );
        }
    }

    #[test]
    fn error_codes_are_the_closed_set() {
        let document = document();
        let code = &document["components"]["schemas"]["ErrorBody"]["properties"]["code"];
        let listed: Vec<&str> = code["enum"]
            .as_sequence()
            .expect("an enum")
            .iter()
            .map(|value| value.as_str().expect("a string"))
            .collect();
        let all: Vec<&str> = ErrorCode::ALL.iter().map(|code| code.as_str()).collect();
        assert_eq!(listed, all);
        let level = &document["components"]["schemas"]["TriggerInfo"]["properties"]["auth"];
        assert_eq!(level["type"], "string");
        assert_eq!(level["enum"].as_sequence().map(Vec::len), Some(3));
    }

    #[test]
    fn every_property_and_parameter_is_described() {
        let document = document();
        for (name, schema) in document["components"]["schemas"]
            .as_mapping()
            .expect("schemas")
        {
            let properties = schema["properties"]
                .as_mapping()
                .cloned()
                .unwrap_or_default();
            for (property, value) in properties {
                // A described `$ref` would need an `allOf` wrapper; the referenced schema
                // carries the description instead (also for a list of them, under `data`).
                let described = value.get("description").is_some()
                    || value.get("$ref").is_some()
                    || value
                        .get("items")
                        .is_some_and(|items| items.get("$ref").is_some());
                assert!(described, "{name:?}.{property:?} has no description");
            }
        }
        for (id, operation) in operations(&document) {
            for (status, response) in operation["responses"].as_mapping().expect("responses") {
                let description = response["description"].as_str().unwrap_or_default();
                assert!(
                    !description.is_empty(),
                    "{id}: response {status:?} undescribed"
                );
            }
            for parameter in operation
                .get("parameters")
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
            {
                assert!(
                    parameter.get("description").is_some(),
                    "{id}: parameter {:?} has no description",
                    parameter["name"]
                );
            }
        }
    }

    #[test]
    fn swagger_ui_shows_the_served_spec() {
        let html = swagger_html();
        let finished = serde_json::to_string_pretty(&document()).expect("json");
        assert!(
            html.contains(&finished),
            "Swagger UI embeds the finished document"
        );
    }
}
