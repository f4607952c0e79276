//! Rate limits at the edge, before any body is read: per client address for public triggers
//! and `GET /dev/token`, and per token subject for every request with a valid token (when
//! `[limits] per_principal` is set). A trigger's own `rate_limit` counts only the calls its
//! level admits, so the trigger route checks it after authentication. Health, readiness,
//! metrics, the spec and the docs are never limited: load balancers and Prometheus poll them.

use std::sync::Arc;

use poem::{Endpoint, IntoResponse, Request, Response};

use super::ApiError;
use crate::auth::{Level, bearer_token};
use crate::limits::{Limited, client_ip};
use crate::state::AppState;

/// Paths no limit applies to.
fn never_limited(path: &str) -> bool {
    matches!(path, "/heartbeat" | "/ready" | "/metrics" | "/openapi.yaml")
        || path == "/docs"
        || path.starts_with("/docs/")
}

/// Serves `req` unless it is over a limit (429 `rate-limited` with `Retry-After`).
pub async fn limit_rates<E: Endpoint>(ep: Arc<E>, req: Request) -> poem::Result<Response> {
    if let Some(state) = req.data::<Arc<AppState>>()
        && let Err(limited) = admit(state, &req)
    {
        return Err(ApiError::from(limited).into());
    }
    Ok(ep.call(req).await?.into_response())
}

fn admit(state: &AppState, req: &Request) -> Result<(), Limited> {
    let path = req.uri().path();
    if never_limited(path) {
        return Ok(());
    }
    let ip = || client_ip(req, state.settings.server.client_ip_header.as_deref());
    let public_trigger = path
        .strip_prefix("/trigger/")
        .and_then(|name| state.triggers.get(name).ok())
        .is_some_and(|entry| entry.auth == Level::Public);
    if (path == "/dev/token" || public_trigger)
        && let Some(ip) = ip()
    {
        state.limits.check_ip(ip)?;
    }
    if state.limits.per_principal_on()
        && let Some(token) = bearer_token(req)
        && let Ok(Some(claims)) = state.auth.authorize(Some(&token), Level::User)
    {
        // A token without a subject is counted by the address it comes from.
        let subject = match claims.sub {
            Some(subject) => subject,
            None => ip().map_or_else(String::new, |ip| format!("ip:{ip}")),
        };
        state.limits.check_principal(&subject)?;
    }
    Ok(())
}
