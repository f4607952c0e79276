//! `AppState`: what every request may read, built once at start-up.

use std::sync::Arc;

use crate::audit::Audit;
use crate::auth::{AuthError, Authenticator, BearerAuth, Claims, Level};
use crate::config::Settings;
use crate::hooks::{HookOutcome, Hooks, StoredEvent};
use crate::http::ApiError;
use crate::images::ImageRules;
use crate::limits::RateLimits;
use crate::metrics::Metrics;
use crate::storage::Buckets;
use crate::storage::upload::{Stored, Uploads};
use crate::triggers::Triggers;

#[derive(Debug)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub buckets: Buckets,
    pub auth: Authenticator,
    pub metrics: Arc<Metrics>,
    pub triggers: Arc<Triggers>,
    /// The streaming upload machinery and its shared memory budget.
    pub uploads: Uploads,
    /// What `POST /images` accepts, resolved from `[images]` at start-up.
    pub images: ImageRules,
    /// Request rate limits (`[limits]`, triggers' `rate_limit`).
    pub(crate) limits: RateLimits,
    /// Upload hooks: the triggers each alias calls after an upload, and their queue.
    pub hooks: Hooks,
    /// The audit trail's sinks.
    pub audit: Arc<Audit>,
}

impl AppState {
    /// Lets the request through if its token grants `level`.
    pub fn require(&self, bearer: &BearerAuth, level: Level) -> Result<Claims, ApiError> {
        self.auth
            .authorize(Some(bearer.token()), level)?
            .ok_or_else(|| ApiError::from(AuthError::Missing))
    }

    /// The one hook point after an object is stored, whichever route stored it (form, raw
    /// body, image, finished tus upload): fires the alias's upload hooks. `Some` outcomes
    /// for aliases with `hook = "sync"`, for the response to report.
    pub async fn object_stored(
        &self,
        stored: &Stored<'_>,
        uploaded_by: Option<&Claims>,
    ) -> Option<Vec<HookOutcome>> {
        let event = StoredEvent {
            alias: stored.bucket.alias.clone(),
            key: stored.object.key.clone(),
            size: stored.object.size,
            content_type: stored.object.content_type.clone(),
            checksum: stored.object.checksum.clone(),
            uploaded_by: uploaded_by.and_then(|claims| claims.sub.clone()),
        };
        self.hooks.object_stored(&event).await
    }
}
