//! `JsonAnswer<T>`: a JSON response body written by serde straight into the body, for the
//! answers that can be large (listings of up to `list.max_keys` objects). poem-openapi's
//! `Json` first builds a `serde_json::Value` tree of the whole answer (a map and a string per
//! field of every object) and then writes that; this writes the bytes once. The schema still
//! comes from `T`'s poem-openapi derive, and a test per type checks both derives give the
//! same JSON.

use poem::http::header;
use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use serde::Serialize;

use super::ApiError;

/// poem-openapi's `Json` media type, so the spec and the header stay as they were.
const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// A JSON answer, with the media type and schema poem-openapi's `Json<T>` documents.
#[derive(Debug)]
pub struct JsonAnswer<T>(pub T);

impl<T: Type> Payload for JsonAnswer<T> {
    const CONTENT_TYPE: &'static str = CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Serialize + Send> IntoResponse for JsonAnswer<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => Response::builder()
                .header(header::CONTENT_TYPE, CONTENT_TYPE)
                .body(body),
            // Only a map with non-string keys fails, which no answer type has.
            Err(error) => ApiError::internal(error).into_response(),
        }
    }
}

impl<T: Type + Serialize + Send> ApiResponse for JsonAnswer<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: <Self as Payload>::CONTENT_TYPE,
                    schema: <Self as Payload>::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}
