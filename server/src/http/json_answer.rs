//! `JsonAnswer<T>`: a JSON response body written by serde straight into the body, for the
//! answers that can be large (listings of up to `list.max_keys` objects). poem-openapi's
//! `Json` first builds a `serde_json::Value` tree of the whole answer (a map and a string per
//! field of every object) and then writes that; this writes the bytes once. The schema still
//! comes from `T`'s poem-openapi derive, and a test per type checks both derives give the
//! same JSON.

use poem::http::header;
use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::payload::{Json, Payload};
use poem_openapi::registry::{MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::{ToJSON, Type};
use serde::Serialize;

use super::ApiError;

/// A JSON answer, documented exactly as poem-openapi's `Json<T>` (media type, schema,
/// response), which each item below hands on to.
#[derive(Debug)]
pub struct JsonAnswer<T>(pub T);

impl<T: Type> Payload for JsonAnswer<T> {
    const CONTENT_TYPE: &'static str = Json::<T>::CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        Json::<T>::schema_ref()
    }

    fn register(registry: &mut Registry) {
        <Json<T> as Payload>::register(registry);
    }
}

impl<T: Type + Serialize + Send> IntoResponse for JsonAnswer<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => Response::builder()
                .header(header::CONTENT_TYPE, Self::CONTENT_TYPE)
                .body(body),
            // Only a map with non-string keys fails, which no answer type has.
            Err(error) => ApiError::internal(error).into_response(),
        }
    }
}

impl<T: ToJSON + Serialize + Send> ApiResponse for JsonAnswer<T> {
    fn meta() -> MetaResponses {
        Json::<T>::meta()
    }

    fn register(registry: &mut Registry) {
        <Json<T> as ApiResponse>::register(registry);
    }
}
