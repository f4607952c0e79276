//! `GET /audit/events`: the newest events of the audit trail, read back from the NDJSON
//! objects of the audit alias (the console's activity page shows them).

use std::collections::BTreeMap;
use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi};
use serde_json::Value;

use super::Tag;
use crate::audit::{self, AuditEvent};
use crate::auth::{BearerAuth, Level};
use crate::http::{ApiError, ApiResult, ErrorCode, ok};
use crate::state::AppState;

pub struct AuditApi;

/// One audit event.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct AuditEntry {
    /// When it happened (RFC 3339, UTC).
    pub at: String,
    /// `delete`, `trigger`, `hook`, `presign`, `dev-token` or `janitor-abort`.
    pub action: String,
    /// Who: the token's `sub` (`hoist-janitor` for the janitor); absent for anonymous callers.
    #[oai(skip_serializing_if_is_none)]
    pub sub: Option<String>,
    /// The client's address, for actions requested over HTTP.
    #[oai(skip_serializing_if_is_none)]
    pub client: Option<String>,
    /// `ok`, or how it failed.
    pub outcome: String,
    /// The request's correlation id.
    pub correlation_id: String,
    /// What it was done to: keys, trigger, method and expiry, ...
    pub details: BTreeMap<String, Value>,
}

impl From<AuditEvent> for AuditEntry {
    fn from(event: AuditEvent) -> Self {
        Self {
            at: event.at,
            action: event.action.as_str().to_owned(),
            sub: event.sub,
            client: event.client,
            outcome: event.outcome,
            correlation_id: event.correlation_id,
            details: event.details.into_iter().collect(),
        }
    }
}

/// Most events one call returns.
const MAX_LIMIT: u32 = 1000;
/// Longest filter.
const MAX_FILTER: usize = 200;
/// Most audit objects one call reads.
const MAX_OBJECTS: usize = 50;

#[OpenApi(tag = "Tag::Audit")]
impl AuditApi {
    /// The newest audit events, newest first.
    ///
    /// Read from the NDJSON objects `[audit] bucket` holds (the last 48 hours, at most 50
    /// objects), so events still batched in a replica's memory are not shown yet. Needs a
    /// supreme token; 404 `audit-disabled` when no audit alias is configured.
    #[oai(
        path = "/audit/events",
        method = "get",
        operation_id = "listAuditEvents"
    )]
    async fn events(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Only events whose JSON contains this text, case-insensitive (at most 200
        /// characters).
        filter: Query<Option<String>>,
        /// Events to return, 1 to 1000 (default 100).
        limit: Query<Option<u32>>,
    ) -> ApiResult<Vec<AuditEntry>> {
        state.require(&auth, Level::Supreme)?;
        let limit = limit.0.unwrap_or(100);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let filter = filter.0.filter(|f| !f.is_empty());
        if filter
            .as_ref()
            .is_some_and(|f| f.chars().count() > MAX_FILTER)
        {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                format!("filter is longer than {MAX_FILTER} characters"),
            ));
        }
        let Some(bucket) = state
            .audit
            .alias()
            .and_then(|alias| state.buckets.get(alias))
        else {
            return Err(ApiError::new(
                ErrorCode::AuditDisabled,
                "no audit alias is configured ([audit] bucket)",
            ));
        };
        let events =
            audit::read_recent(bucket, limit as usize, filter.as_deref(), MAX_OBJECTS).await?;
        ok(events.into_iter().map(AuditEntry::from).collect())
    }
}
