//! The `{data: ...}` success envelope of the old upload-service, kept for its clients.

use poem_openapi::Object;
use poem_openapi::payload::Json;
use poem_openapi::types::{ParseFromJSON, ToJSON};

use super::Refused;

/// Every successful response body: the result under `data`.
#[derive(Debug, Object, serde::Serialize)]
pub struct Data<T: ParseFromJSON + ToJSON> {
    pub data: T,
}

/// What a JSON operation returns: `{data: T}`, or a refusal with a code of one of the error
/// types `L` (which the spec documents for the operation).
pub type ApiResult<T, L> = Result<Json<Data<T>>, Refused<L>>;

/// Wraps a result in the envelope.
pub fn ok<T: ParseFromJSON + ToJSON, L>(data: T) -> ApiResult<T, L> {
    Ok(Json(Data { data }))
}
