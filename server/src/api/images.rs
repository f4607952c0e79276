//! `POST /images`: base64 images in JSON, checked and stored in the images bucket alias.
//! The handler is thin; decoding, sniffing and naming live in [`crate::images`].

use std::sync::Arc;

use poem::web::Data;
use poem::{Endpoint, EndpointExt};
use poem_openapi::types::Example;
use poem_openapi::{Object, OpenApi};

use super::Tag;
use super::objects::StoredObject;
use crate::auth::{BearerAuth, Level, bearer_token};
use crate::http::body_limit::{buffer_body, declared_length, is_compressed};
use crate::http::{ApiError, ApiResult, JsonBody, UserToken, ok};
use crate::images::{self, ImageError, NewImage};
use crate::state::AppState;

pub struct ImagesApi;

/// A base64-encoded image to store.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(rename_all = "camelCase", example)]
#[serde(rename_all = "camelCase")]
pub struct ImageUpload {
    /// The image, base64-encoded: standard (`+/`) or URL-safe (`-_`) alphabet, with or without
    /// `=` padding; whitespace and line breaks are ignored. A data URL
    /// (`data:image/png;base64,...`) is accepted too; its type must then equal `contentType`.
    pub base64: String,
    /// The image's media type. It must be one of `[images] allowed` (by default `image/gif`,
    /// `image/png` and `image/jpeg`) and the decoded bytes must be an image of that type.
    pub content_type: String,
    /// The original file name. Its last path segment, without extension, reduced to ASCII
    /// letters, digits, `-` and `_` (spaces become `_`), starts the key; `image` when absent
    /// or when nothing of it is left.
    pub file_name: Option<String>,
}

/// A 1×1 PNG: the example Swagger UI sends, which the server stores.
const EXAMPLE_PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mPQqr8CAAJUAX5kvxnrAAAAAElFTkSuQmCC";

impl Example for ImageUpload {
    fn example() -> Self {
        Self {
            base64: EXAMPLE_PNG.to_owned(),
            content_type: "image/png".to_owned(),
            file_name: Some("Holiday Photo.png".to_owned()),
        }
    }
}

#[OpenApi(tag = "Tag::Images")]
impl ImagesApi {
    /// Stores a base64-encoded image in the images bucket alias.
    ///
    /// Any valid token may upload. The key is `{prefix}{name}_{uuid}.{ext}`, fresh for every
    /// upload (`ext` from the content type: `jpg`, `png`, `gif`); the object is stored with
    /// its content type and a CRC32C checksum that S3 verified.
    ///
    /// Refusals, with nothing stored: 415 `unsupported-content-type` (type not allowed),
    /// 415 `content-type-mismatch` (the bytes are not an image of the declared type),
    /// 413 `file-too-large` (the image, or the request body, exceeds what `[images] max_size`
    /// allows; checked before decoding and while the body is read), 400 `invalid-base64`,
    /// 400 `bad-request` (a field is missing or not of its type, or the body is not JSON).
    #[oai(
        path = "/images",
        method = "post",
        operation_id = "uploadImage",
        transform = "read_limited_body"
    )]
    async fn upload(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: JsonBody<ImageUpload>,
    ) -> ApiResult<StoredObject, (UserToken, ImageError)> {
        let claims = state.require(&auth, Level::User)?;
        let ImageUpload {
            base64,
            content_type,
            file_name,
        } = body.0;
        let image = NewImage {
            base64,
            content_type,
            file_name,
        };
        let stored = images::store(&state.images, &state.buckets, &state.uploads, image).await?;
        let hooks = state.object_stored(&stored, Some(&claims)).await;
        ok(StoredObject::from(stored).with_hooks(hooks))
    }
}

/// Reads the body of `POST /images` before the JSON parser does, refusing it as soon as it
/// is larger than an image of `[images] max_size` needs: by `Content-Length` without reading
/// anything, else while reading (chunked or compressed bodies), so a 1 GiB body costs at most
/// the limit in memory. The token is checked first, so anonymous clients cannot make Hoist
/// buffer anything at all.
fn read_limited_body<E: Endpoint + 'static>(endpoint: E) -> impl Endpoint {
    endpoint.around(|endpoint, mut request| async move {
        let state = request
            .data::<Arc<AppState>>()
            .cloned()
            .ok_or_else(|| ApiError::internal("the application state is not attached"))?;
        state
            .auth
            .authorize(bearer_token(&request).as_deref(), Level::User)
            .map_err(ApiError::from)?;

        let max = state.images.max_size;
        let limit = images::body_limit(max);
        let too_large = || {
            let error = ImageError::BodyTooLarge { limit, max };
            state.uploads.count_failure(&error);
            ApiError::from(error)
        };
        // At most at once: the body, the base64 string parsed out of it, a copy of that
        // without line breaks, and the decoded bytes (3/4 of it): about four times the body.
        // A compressed body adds its compressed bytes and may inflate up to the limit.
        let declared = declared_length(&request).unwrap_or(limit).min(limit);
        let need = if is_compressed(&request) {
            declared + 4 * limit
        } else {
            4 * declared
        };
        let _memory = state
            .uploads
            .reserve_memory(need)
            .await
            .map_err(ApiError::from)?;
        buffer_body(&mut request, limit, state.uploads.limits().pace, too_large).await?;
        endpoint.call(request).await
    })
}
