//! `AppState`: what every request may read, built once at start-up.

use std::sync::Arc;

use crate::auth::{AuthError, Authenticator, BearerAuth, Claims, Level};
use crate::config::Settings;
use crate::http::ApiError;
use crate::images::ImageRules;
use crate::limits::RateLimits;
use crate::metrics::Metrics;
use crate::storage::Buckets;
use crate::storage::upload::Uploads;
use crate::triggers::Triggers;

#[derive(Debug)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub buckets: Buckets,
    pub auth: Authenticator,
    pub metrics: Arc<Metrics>,
    pub triggers: Triggers,
    /// The streaming upload machinery and its shared memory budget.
    pub uploads: Uploads,
    /// What `POST /images` accepts, resolved from `[images]` at start-up.
    pub images: ImageRules,
    /// Request rate limits (`[limits]`, triggers' `rate_limit`).
    pub(crate) limits: RateLimits,
}

impl AppState {
    /// Lets the request through if its token grants `level`.
    pub fn require(&self, bearer: &BearerAuth, level: Level) -> Result<Claims, ApiError> {
        self.auth
            .authorize(Some(bearer.token()), level)?
            .ok_or_else(|| ApiError::from(AuthError::Missing))
    }
}
