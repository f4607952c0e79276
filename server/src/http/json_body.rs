//! `JsonBody<T>`: a JSON request body read by serde, strictly: a number where the schema says
//! string is refused, not turned into text as poem-openapi's `Json` does, and the refusal
//! names the field in plain words (`` `base64`: invalid type: integer `5`, expected a
//! string ``). The schema still comes from `T`'s poem-openapi `Object` derive.

use poem::{Request, RequestBody};
use poem_openapi::registry::{MetaMediaType, MetaRequest, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use serde::de::DeserializeOwned;

use super::{ApiError, ErrorCode};

/// A JSON body. Operations that take one read their body first with a limit of their own
/// (`body_limit::buffer_body`); this bound only backs that up.
pub struct JsonBody<T>(pub T);

const BACKSTOP_LIMIT: usize = 64 * 1024 * 1024;

/// `application/json` or any `+json` type, with or without parameters.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let essence = essence.to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The refusal of a body serde could not read, without serde's line and column (the body is
/// usually one line) and without any Rust type name.
fn refusal(error: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let inner = error.inner();
    let reason = inner.to_string();
    let reason = reason
        .rsplit_once(" at line ")
        .map_or(reason.as_str(), |(reason, _)| reason);
    let message = if inner.is_syntax() || inner.is_eof() {
        format!("the body is not valid JSON: {reason}")
    } else {
        match error.path().to_string().as_str() {
            "." => format!("invalid body: {reason}"),
            path => format!("invalid body: `{path}`: {reason}"),
        }
    };
    ApiError::new(ErrorCode::BadRequest, message)
}

impl<'a, T: DeserializeOwned + Type + Send> ApiExtractor<'a> for JsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: "application/json",
                schema: T::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        if !request.content_type().is_some_and(is_json) {
            return Err(ApiError::new(
                ErrorCode::UnsupportedContentType,
                "this operation takes a JSON body (Content-Type: application/json)",
            )
            .into());
        }
        let bytes = body
            .take()?
            .into_bytes_limit(BACKSTOP_LIMIT)
            .await
            .map_err(|error| {
                ApiError::new(ErrorCode::BadRequest, "the request body could not be read")
                    .caused_by(error)
            })?;
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let value: T =
            serde_path_to_error::deserialize(&mut deserializer).map_err(|error| refusal(&error))?;
        deserializer.end().map_err(|_| {
            ApiError::new(
                ErrorCode::BadRequest,
                "the body is not valid JSON: characters after its end",
            )
        })?;
        Ok(Self(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code, reason = "only parsed")]
    struct Sample {
        base64: String,
        content_type: String,
    }

    fn message(body: &str) -> String {
        let mut deserializer = serde_json::Deserializer::from_str(body);
        let error = serde_path_to_error::deserialize::<_, Sample>(&mut deserializer).unwrap_err();
        refusal(&error).message
    }

    #[test]
    fn refusals_name_the_field_in_plain_words() {
        assert_eq!(
            message(r#"{"base64": 5, "contentType": "image/png"}"#),
            "invalid body: `base64`: invalid type: integer `5`, expected a string"
        );
        assert_eq!(
            message(r#"{"base64": "AA=="}"#),
            "invalid body: missing field `contentType`"
        );
        assert!(message("{").starts_with("the body is not valid JSON"));
    }

    #[test]
    fn json_types_are_recognized() {
        assert!(is_json("application/json"));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/jsonl"));
    }
}
