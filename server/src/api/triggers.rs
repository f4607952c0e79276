//! Trigger operations: call a declared trigger (`POST /trigger/{name}`) and list them.

use std::collections::BTreeMap;
use std::sync::Arc;

use poem::web::Data;
use poem::{Endpoint, EndpointExt};
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::types::Example;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::Value;

use super::Tag;
use crate::audit::{Action, AuditEvent, Who};
use crate::auth::{AuthError, BearerAuth, Level, MaybeBearer, bearer_token};
use crate::http::body_limit::{buffer_body, declared_length, is_compressed, json_values};
use crate::http::{self, ApiError, ApiResult, ErrorCode, JsonBody, Refused, UserToken, ok};
use crate::state::AppState;
use crate::triggers::{Call, Outcome, TriggerError, outcome_label};

pub struct TriggersApi;

/// The body of a trigger call.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(example)]
pub struct TriggerRequest {
    /// The payload the target receives: the Lambda function's event, the execution's input,
    /// or the webhook's JSON body.
    pub data: BTreeMap<String, Value>,
}

impl Example for TriggerRequest {
    fn example() -> Self {
        Self {
            data: BTreeMap::from([("eventId".to_owned(), Value::from("123"))]),
        }
    }
}

/// What a trigger call did. Which fields are set depends on the trigger's kind.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct TriggerOutcome {
    /// The target did what was asked without reporting an error of its own. `false` for a
    /// Lambda function error (see `functionError`) and for a webhook's 4xx answer.
    pub success: bool,
    /// lambda: Lambda's status code (200, or 202 for an event); http: the webhook's status.
    #[oai(skip_serializing_if_is_none)]
    pub status_code: Option<u16>,
    /// lambda (sync), http: the answer, as JSON; an answer that is not JSON comes as a string.
    #[oai(skip_serializing_if_is_none)]
    pub payload: Option<Value>,
    /// lambda: `Handled` or `Unhandled` when the function failed; `payload` then holds the
    /// error it reported.
    #[oai(skip_serializing_if_is_none)]
    pub function_error: Option<String>,
    /// step-function: the execution started, or the one an earlier call with the same
    /// `Idempotency-Key` started.
    #[oai(skip_serializing_if_is_none)]
    pub execution_arn: Option<String>,
    /// step-function: when that execution started (RFC 3339).
    #[oai(skip_serializing_if_is_none)]
    pub start_date: Option<String>,
}

impl From<Outcome> for TriggerOutcome {
    fn from(outcome: Outcome) -> Self {
        let mut out = TriggerOutcome {
            success: outcome.success(),
            status_code: None,
            payload: None,
            function_error: None,
            execution_arn: None,
            start_date: None,
        };
        match outcome {
            Outcome::Answered {
                status,
                payload,
                function_error,
            } => {
                out.status_code = Some(status);
                out.payload = payload;
                out.function_error = function_error;
            }
            Outcome::Queued { status } => out.status_code = Some(status),
            Outcome::Started {
                execution_arn,
                start_date,
            } => {
                out.execution_arn = Some(execution_arn);
                out.start_date = Some(start_date);
            }
        }
        out
    }
}

/// The answer to a trigger call.
#[derive(ApiResponse)]
pub enum TriggerResponse {
    /// The target answered (lambda sync, http) or the execution started (step-function).
    /// A function error or a webhook's 4xx is reported here with `success: false`.
    #[oai(status = 200)]
    Done(Json<http::Data<TriggerOutcome>>),
    /// An asynchronous Lambda function (`mode = "async"`) accepted the event.
    #[oai(status = 202)]
    Accepted(Json<http::Data<TriggerOutcome>>),
}

// Written inline in `TriggerInfo` (a `$ref` there would need an `allOf` wrapper).
crate::http::schema::inline_string_enum!(
    Level,
    "Who may call it: `public` (no token), `user` (any valid token), `supreme` (a token \
     with `isSupreme: true`)."
);

/// A declared trigger.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct TriggerInfo {
    /// The name to call it by: `POST /trigger/{name}`.
    pub name: String,
    /// `lambda`, `step-function` or `http`.
    pub kind: String,
    /// Who may call it.
    pub auth: Level,
    /// lambda: `sync` (waits for the result) or `async` (queues an event).
    #[oai(skip_serializing_if_is_none)]
    pub mode: Option<String>,
    /// What it does.
    #[oai(skip_serializing_if_is_none)]
    pub description: Option<String>,
    /// Function, state machine ARN or URL; shown to supreme callers only.
    #[oai(skip_serializing_if_is_none)]
    pub target: Option<String>,
    /// Longest wait for the target, in milliseconds.
    pub timeout_ms: u64,
    /// Largest payload accepted, in bytes (the JSON of `data` as sent).
    pub max_payload: u64,
}

#[OpenApi(tag = "Tag::Triggers")]
impl TriggersApi {
    /// Calls a declared trigger with its data as the payload.
    ///
    /// Each trigger has its own level (`auth` in `GET /triggers`): a public trigger takes no
    /// token at all, a user trigger any valid bearer token, a supreme one a supreme token. The request's correlation id travels downstream: in a Lambda
    /// function's client context (`custom.correlationId`), in a step function's input
    /// (`correlationId` unless declared otherwise) and in a webhook's `x-correlation-id`
    /// header. A payload over the target's limit is refused with 413 before any call; a
    /// downstream failure or timeout is a 502 `trigger-failed`, never a 200.
    #[oai(
        path = "/trigger/:name",
        method = "post",
        operation_id = "trigger",
        transform = "admit_then_read_body"
    )]
    async fn trigger(
        &self,
        state: Data<&Arc<AppState>>,
        auth: MaybeBearer,
        /// The trigger's name, as declared in `routes.toml`.
        name: Path<String>,
        /// Makes a retry safe: a step function's execution is named after it, so a second
        /// call with the same key and payload returns the first execution instead of starting
        /// another (the same key with another payload is a 409). Lambda functions find it in
        /// the client context (`custom.idempotencyKey`), webhooks in the `Idempotency-Key`
        /// header. 1 to 80 letters, digits, `-`, `_` or `.`.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<TriggerRequest>,
    ) -> Result<TriggerResponse, Refused<(AuthError, TriggerError)>> {
        let entry = state.triggers.get(&name)?;
        let claims = state.auth.authorize(auth.token(), entry.auth)?;
        let result = match Call::new(body.0.data.into_iter().collect(), idempotency_key.0) {
            Ok(call) => state.triggers.call(entry, call).await,
            Err(error) => Err(error),
        };
        state.audit.record(
            AuditEvent::new(
                Action::Trigger,
                Who::caller(claims.as_ref()),
                outcome_label(&result),
            )
            .detail("trigger", entry.name.as_str())
            .detail("kind", entry.kind),
        );
        let outcome = result?;
        let accepted = matches!(outcome, Outcome::Queued { .. });
        let body = Json(http::Data {
            data: TriggerOutcome::from(outcome),
        });
        Ok(if accepted {
            TriggerResponse::Accepted(body)
        } else {
            TriggerResponse::Done(body)
        })
    }

    /// The declared triggers.
    ///
    /// Needs a user token. Targets (function names, ARNs, URLs) are shown to supreme callers
    /// only.
    #[oai(path = "/triggers", method = "get", operation_id = "listTriggers")]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
    ) -> ApiResult<Vec<TriggerInfo>, UserToken> {
        let claims = state.require(&auth, Level::User)?;
        ok(state
            .triggers
            .iter()
            .map(|entry| TriggerInfo {
                name: entry.name.clone(),
                kind: entry.kind.to_owned(),
                auth: entry.auth,
                mode: entry.mode().map(str::to_owned),
                description: entry.description.clone(),
                target: claims.is_supreme.then(|| entry.target.clone()),
                timeout_ms: u64::try_from(entry.timeout.as_millis()).unwrap_or(u64::MAX),
                max_payload: entry.payload_limit as u64,
            })
            .collect())
    }
}

/// What one parsed JSON value may take: a `serde_json::Value` (32 bytes), as much again of a
/// growing array's or map's spare room and nodes, and a map key's `String`.
const JSON_VALUE_BYTES: u64 = 96;

/// Refuses what can be refused before the body of `POST /trigger/{name}` is read (an unknown
/// trigger, a caller its level does not admit), then reads the body up to
/// `server.json_body_limit` (413 beyond), so that anonymous callers of non-public triggers
/// cannot make Hoist buffer anything, within the trigger's rate and the memory budget. The
/// handler checks the same again, as it must.
fn admit_then_read_body<E: Endpoint + 'static>(endpoint: E) -> impl Endpoint {
    endpoint.around(|endpoint, mut request| async move {
        let state = request
            .data::<Arc<AppState>>()
            .cloned()
            .ok_or_else(|| ApiError::internal("the application state is not attached"))?;
        // Trigger names are letters, digits, `-` and `_`, so the path segment needs no decoding.
        let name = request.uri().path().rsplit('/').next().unwrap_or_default();
        let entry = state.triggers.get(name).map_err(ApiError::from)?;
        state
            .auth
            .authorize(bearer_token(&request).as_deref(), entry.auth)
            .map_err(ApiError::from)?;
        // The trigger's own rate counts only calls its level admits.
        state.limits.check_trigger(name).map_err(ApiError::from)?;
        let limit = u64::try_from(state.settings.server.json_body_limit).unwrap_or(u64::MAX);
        // The body, the strings parsed out of it and the payload serialized again: three
        // times the body, reserved before reading; the values themselves once they are
        // counted (a body of tiny values parses into many times its size).
        let declared = declared_length(&request).unwrap_or(limit).min(limit);
        let compressed = if is_compressed(&request) { declared } else { 0 };
        let reserved = if compressed > 0 {
            compressed + 3 * limit
        } else {
            3 * declared
        };
        let mut memory = state
            .uploads
            .reserve_memory(reserved)
            .await
            .map_err(ApiError::from)?;
        let body = buffer_body(&mut request, limit, state.uploads.limits().pace, || {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("the request body exceeds {limit} bytes"),
            )
        })
        .await?;
        let need = compressed + 3 * body.len() as u64 + json_values(&body) * JSON_VALUE_BYTES;
        if need > state.uploads.memory_budget() {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                "the payload has more values than this server's memory budget can parse",
            )
            .into());
        }
        state
            .uploads
            .grow_memory(&mut memory, need)
            .map_err(ApiError::from)?;
        drop(body);
        endpoint.call(request).await
    })
}
