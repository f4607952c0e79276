//! Health, metadata and development operations: heartbeat, readiness, buckets, dev tokens.

use std::sync::Arc;
use std::time::Duration;

use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi};

use super::Tag;
use crate::audit::{Action, AuditEvent, Who};
use crate::auth::{BearerAuth, Level};
use crate::http::{ApiError, ApiResult, ErrorCode, ok};
use crate::state::AppState;

pub struct MetaApi;

/// The process is up.
#[derive(Debug, Object)]
pub struct Heartbeat {
    /// Always `ok`.
    pub status: String,
    /// Hoist's version.
    pub version: String,
}

/// Every store answered.
#[derive(Debug, Object)]
pub struct Readiness {
    /// The aliases checked.
    pub buckets: Vec<String>,
}

/// A bucket alias clients may name as `bucketName`.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct BucketInfo {
    /// The alias.
    pub alias: String,
    /// The bucket's region.
    pub region: String,
    /// Whether requests that name no bucket use this one.
    pub is_default: bool,
    /// Whether calls go through an STS-assumed role.
    pub assumes_role: bool,
}

/// A development token.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct DevToken {
    /// The JWT, for `Authorization: Bearer <token>`.
    pub token: String,
    /// Expiry, in seconds since the Unix epoch.
    pub expires_at: u64,
    pub is_supreme: bool,
}

/// Longest lifetime of a dev token.
const MAX_DEV_TOKEN_TTL: u64 = 7 * 24 * 3600;

#[OpenApi(tag = "Tag::Meta")]
impl MetaApi {
    /// Liveness: answers while the process runs.
    #[oai(path = "/heartbeat", method = "get", operation_id = "heartbeat")]
    async fn heartbeat(&self) -> ApiResult<Heartbeat> {
        ok(Heartbeat {
            status: "ok".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        })
    }

    /// Readiness: every bucket alias answers. 503 names the aliases that do not.
    #[oai(path = "/ready", method = "get", operation_id = "ready")]
    async fn ready(&self, state: Data<&Arc<AppState>>) -> ApiResult<Readiness> {
        let aliases = state.buckets.ready().await?;
        ok(Readiness {
            buckets: aliases.into_iter().map(str::to_owned).collect(),
        })
    }

    /// The bucket aliases this gateway serves.
    #[oai(path = "/buckets", method = "get", operation_id = "listBuckets")]
    async fn buckets(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
    ) -> ApiResult<Vec<BucketInfo>> {
        state.require(&auth, Level::User)?;
        let default = state.buckets.default_alias();
        ok(state
            .buckets
            .iter()
            .map(|bucket| BucketInfo {
                alias: bucket.alias.clone(),
                region: bucket.region.clone(),
                is_default: default == Some(bucket.alias.as_str()),
                assumes_role: bucket.assumes_role,
            })
            .collect())
    }

    /// Mints a token for development. Served only when `auth.dev_tokens` is on; 404 otherwise.
    #[oai(path = "/dev/token", method = "get", operation_id = "devToken")]
    async fn dev_token(
        &self,
        state: Data<&Arc<AppState>>,
        /// Grant the admin claim `isSupreme`.
        supreme: Query<Option<bool>>,
        /// The token's subject.
        sub: Query<Option<String>>,
        /// Lifetime in seconds (default one hour, at most a week).
        ttl: Query<Option<u64>>,
    ) -> ApiResult<DevToken> {
        let not_found = || ApiError::new(ErrorCode::NotFound, "no such route");
        if !state.auth.dev_tokens_enabled() {
            return Err(not_found());
        }
        let ttl = ttl.0.unwrap_or(3600);
        if ttl == 0 || ttl > MAX_DEV_TOKEN_TTL {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                format!("ttl must be between 1 and {MAX_DEV_TOKEN_TTL} seconds"),
            ));
        }
        let is_supreme = supreme.0.unwrap_or(false);
        let token = state
            .auth
            .mint(sub.0.clone(), is_supreme, Duration::from_secs(ttl))
            .ok_or_else(not_found)?;
        // Minted anonymously: who asked is only the client address.
        state.audit.record(
            AuditEvent::new(Action::DevToken, Who::caller(None), "ok")
                .detail("sub", sub.0)
                .detail("supreme", is_supreme)
                .detail("ttl", ttl),
        );
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        ok(DevToken {
            token,
            expires_at: now + ttl,
            is_supreme,
        })
    }
}
