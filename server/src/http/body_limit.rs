//! The cap on JSON request bodies (`server.json_body_limit`), for the operations that take
//! one: `#[oai(transform = "json_body_limit")]`. An oversized body is refused with 413
//! before it is parsed and is never read past the limit. Upload routes stream their bodies
//! and have limits of their own, so the cap is not applied to every route.

use std::sync::Arc;

use poem::error::ReadBodyError;
use poem::http::{StatusCode, header};
use poem::{Endpoint, EndpointExt, Request};

use super::ApiError;
use crate::state::AppState;

/// `ep` with its request body read up to the configured limit first.
pub fn json_body_limit(ep: impl Endpoint) -> impl Endpoint {
    ep.before(|mut req: Request| async move {
        let limit = req
            .data::<Arc<AppState>>()
            .map(|state| state.settings.server.json_body_limit)
            .unwrap_or(usize::MAX);
        let declared = req
            .header(header::CONTENT_LENGTH)
            .and_then(|length| length.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit as u64) {
            return Err(too_large(limit).into());
        }
        let body = req
            .take_body()
            .into_bytes_limit(limit)
            .await
            .map_err(|error| match error {
                ReadBodyError::PayloadTooLarge => too_large(limit),
                other => ApiError::bad_request("bad-request", other.to_string()),
            })?;
        req.set_body(body);
        Ok(req)
    })
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
        format!("the JSON body exceeds {limit} bytes"),
    )
}
