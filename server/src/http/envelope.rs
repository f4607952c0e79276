//! The `{data: ...}` success envelope of the old upload-service, kept for its clients.

use poem_openapi::Object;
use poem_openapi::payload::Json;
use poem_openapi::types::{ParseFromJSON, ToJSON};

use super::ApiError;

/// Every successful response body: the result under `data`.
#[derive(Debug, Object)]
pub struct Data<T: ParseFromJSON + ToJSON> {
    pub data: T,
}

/// What a JSON operation returns.
pub type ApiResult<T> = Result<Json<Data<T>>, ApiError>;

/// Wraps a result in the envelope.
pub fn ok<T: ParseFromJSON + ToJSON>(data: T) -> ApiResult<T> {
    Ok(Json(Data { data }))
}
