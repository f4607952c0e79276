//! The file operations: upload (multipart and raw), newest-first listing with paging, and
//! batch delete. All need a supreme token; all name buckets by alias. Each handler resolves,
//! calls a storage service and wraps its answer.

mod payload;
mod presign;
mod types;

use std::sync::Arc;

use poem::web::Data;
use poem::{Endpoint, EndpointExt, Request};
use poem_openapi::OpenApi;
use poem_openapi::param::{Header, Query};

pub use payload::{FileForm, RawBody};
pub use presign::PresignApi;
pub use types::{DeleteReport, DeleteRequest, FilePage, ListResponse, ListedFile, PageResponse};

use super::Tag;
use super::objects::StoredObject;
use crate::audit::Who;
use crate::auth::{BearerAuth, Level, bearer_token};
use crate::http::body_limit::buffer_body;
use crate::http::{
    self, ApiError, ApiResult, ErrorCode, JsonAnswer, JsonBody, Refused, SupremeToken, ok,
};
use crate::state::AppState;
use crate::storage::StorageError;
use crate::storage::delete::KeyList;
use crate::storage::keys::MAX_KEY_BYTES;
use crate::storage::listing::PageRequest;
use crate::storage::upload::UploadError;
use crate::storage::upload::form::{self, FormQuery};
use crate::storage::upload::raw::{self, RawUpload};

pub struct FilesApi;

#[OpenApi(tag = "Tag::Files")]
impl FilesApi {
    /// Upload a file (multipart form).
    ///
    /// The old upload-service's route. The key is the normalized `prefix` plus the file's
    /// name. Give `prefix` and `bucketName` in the query string, as generated clients do:
    /// the destination is then known before the file starts, and the file streams to S3 as
    /// it arrives. The old service's clients send them as form fields instead, which works
    /// too (see the request body). 413 `file-too-large` the moment the file crosses
    /// `upload.max_file_size`; nothing is stored on any error.
    #[oai(path = "/files", method = "post", operation_id = "uploadFile")]
    async fn upload_file(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        request: &Request,
        /// Key prefix (a folder such as `reports/2024`), normalized to one trailing `/`;
        /// default: none. A form field of the same name may give it instead.
        prefix: Query<Option<String>>,
        /// Bucket alias (default: the configured default alias). A form field of the same
        /// name may give it instead.
        #[oai(name = "bucketName")]
        bucket_name: Query<Option<String>>,
        form: FileForm,
    ) -> ApiResult<StoredObject, (SupremeToken, UploadError)> {
        let claims = state.require(&auth, Level::Supreme)?;
        let query = FormQuery {
            bucket_name: bucket_name.0,
            prefix: prefix.0,
            content_length: content_length(request),
        };
        let body = form.body.into_bytes_stream();
        let stored =
            form::receive(&state.buckets, &state.uploads, body, form.boundary, query).await?;
        let hooks = state.object_stored(&stored, Some(&claims)).await;
        ok(StoredObject::from(stored).with_hooks(hooks))
    }

    /// Upload a file (raw body).
    ///
    /// Streams the request body to S3 under `key`. The object's type is `contentType` when
    /// given, else the `Content-Type` header. Generated clients send every raw body as
    /// `application/octet-stream`, so pass the file's type as `contentType` to keep it; with
    /// neither, or `application/octet-stream`, the type is sniffed from the first bytes.
    /// With `x-amz-checksum-crc32c` or `x-amz-checksum-sha256` (base64, as S3 spells them)
    /// the bytes are checked before anything is stored: a mismatch is 400
    /// `checksum-mismatch`.
    #[oai(path = "/files/object", method = "put", operation_id = "putFileObject")]
    #[allow(
        clippy::too_many_arguments,
        reason = "each argument is one documented parameter"
    )]
    async fn put_file_object(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        request: &Request,
        /// The full object key, such as `reports/2024/q1.pdf`.
        key: Query<String>,
        /// The object's type, such as `application/pdf`; wins over `Content-Type`. The way
        /// for generated clients, which send `application/octet-stream`, to keep a file's type.
        #[oai(name = "contentType")]
        content_type: Query<Option<String>>,
        /// Bucket alias (default: the configured default alias).
        #[oai(name = "bucketName")]
        bucket_name: Query<Option<String>>,
        /// CRC32C of the body, base64 of the big-endian value.
        #[oai(name = "x-amz-checksum-crc32c")]
        checksum_crc32c: Header<Option<String>>,
        /// SHA-256 of the body, base64.
        #[oai(name = "x-amz-checksum-sha256")]
        checksum_sha256: Header<Option<String>>,
        body: RawBody,
    ) -> ApiResult<StoredObject, (SupremeToken, UploadError)> {
        let claims = state.require(&auth, Level::Supreme)?;
        let upload = RawUpload {
            bucket_name: bucket_name.0,
            key: key.0,
            content_type: content_type
                .0
                .or_else(|| request.content_type().map(str::to_owned)),
            crc32c: checksum_crc32c.0,
            sha256: checksum_sha256.0,
            content_length: content_length(request),
        };
        let body = body.0.into_bytes_stream();
        let stored = raw::receive(&state.buckets, &state.uploads, upload, body).await?;
        let hooks = state.object_stored(&stored, Some(&claims)).await;
        ok(StoredObject::from(stored).with_hooks(hooks))
    }

    /// List files, newest first.
    ///
    /// Every object under the prefix, sorted by last-modified date, newest first. S3 cannot
    /// sort, so the whole prefix is read, up to `list.max_keys` objects (10,000 by default);
    /// the `x-truncated` header says whether that cap was hit.
    #[oai(path = "/files/list", method = "get", operation_id = "listFiles")]
    async fn list_files(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Key prefix (a folder); normalized to one trailing `/`. Default: the whole bucket.
        prefix: Query<Option<String>>,
        /// Bucket alias (default: the configured default alias).
        #[oai(name = "bucketName")]
        bucket_name: Query<Option<String>>,
    ) -> Result<ListResponse, Refused<(SupremeToken, StorageError)>> {
        state.require(&auth, Level::Supreme)?;
        let bucket = state.buckets.resolve(bucket_name.0.as_deref())?;
        let prefix = prefix.0.as_deref().unwrap_or_default();
        let listing = bucket.list(prefix, &state.settings.list).await?;
        let truncated = listing.truncated;
        let items = listing.objects.into_iter().map(ListedFile::from).collect();
        Ok(ListResponse::Ok(
            JsonAnswer(http::Data { data: items }),
            truncated,
        ))
    }

    /// List files, one page at a time.
    ///
    /// The same newest-first order as `GET /files/list`, a page at a time: by `offset`, or by
    /// the `cursor` a previous page returned. A cursor continues exactly after the last
    /// object that page showed, even when newer objects were added since (an offset would
    /// shift and repeat objects).
    #[oai(
        path = "/files/list/data",
        method = "get",
        operation_id = "listFilesPage"
    )]
    #[allow(
        clippy::too_many_arguments,
        reason = "each argument is one documented parameter"
    )]
    async fn list_files_page(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Key prefix (a folder); normalized to one trailing `/`. Default: the whole bucket.
        prefix: Query<Option<String>>,
        /// Bucket alias (default: the configured default alias).
        #[oai(name = "bucketName")]
        bucket_name: Query<Option<String>>,
        /// Page size, 1 to `list.max_limit` (1000 by default); default `list.default_limit`
        /// (50 by default).
        limit: Query<Option<u32>>,
        /// Objects to skip. Not together with `cursor`.
        offset: Query<Option<u64>>,
        /// The `cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// `/` lists one level, like a folder: only objects directly in `prefix` are paged,
        /// and its sub-prefixes come back in `folders`. No other delimiter is accepted.
        delimiter: Query<Option<String>>,
    ) -> Result<PageResponse, Refused<(SupremeToken, StorageError)>> {
        state.require(&auth, Level::Supreme)?;
        let bucket = state.buckets.resolve(bucket_name.0.as_deref())?;
        let request = PageRequest {
            prefix: prefix.0,
            limit: limit.0,
            offset: offset.0,
            cursor: cursor.0,
            delimiter: delimiter.0,
        };
        let page = bucket.page(request, &state.settings.list).await?;
        let truncated = page.truncated;
        Ok(PageResponse::Ok(
            JsonAnswer(http::Data {
                data: FilePage::from(page),
            }),
            truncated,
        ))
    }

    /// Delete files.
    ///
    /// `fileKeys` is one comma-separated list (the old service's format): keys are trimmed
    /// and de-duplicated, at most `delete.max_keys` (10,000 by default). They are deleted in
    /// batches of 1000; every key S3 did not delete is listed in `errors` with S3's reason.
    #[oai(path = "/files", method = "delete", operation_id = "deleteFiles")]
    async fn delete_files(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Comma-separated object keys, such as `a.pdf,reports/b.pdf`.
        #[oai(name = "fileKeys")]
        file_keys: Query<String>,
        /// Bucket alias (default: the configured default alias).
        #[oai(name = "bucketName")]
        bucket_name: Query<Option<String>>,
    ) -> ApiResult<DeleteReport, (SupremeToken, StorageError)> {
        let claims = state.require(&auth, Level::Supreme)?;
        let bucket = state.buckets.resolve(bucket_name.0.as_deref())?;
        let keys = KeyList::parse_comma_separated(&file_keys.0, state.settings.delete.max_keys)?;
        let result = bucket.delete(&keys).await;
        state
            .audit
            .deleted(Who::caller(Some(&claims)), &bucket.alias, &keys, &result);
        ok(DeleteReport::from(result?))
    }

    /// Delete files (JSON list).
    ///
    /// The same batch delete as `DELETE /files`, for any key: the keys are a JSON array and
    /// are used exactly as sent (not trimmed, not split), so keys with commas, spaces or a
    /// leading space work. Duplicates are removed; at most `delete.max_keys` (10,000 by
    /// default), each checked like an upload's key. The body may be as large as that many
    /// keys of 1024 bytes need (413 `payload-too-large` beyond).
    #[oai(
        path = "/files/delete",
        method = "post",
        operation_id = "deleteFileList",
        transform = "read_delete_body"
    )]
    async fn delete_file_list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: JsonBody<DeleteRequest>,
    ) -> ApiResult<DeleteReport, (SupremeToken, StorageError)> {
        let claims = state.require(&auth, Level::Supreme)?;
        let DeleteRequest { bucket_name, keys } = body.0;
        let bucket = state.buckets.resolve(bucket_name.as_deref())?;
        let keys = KeyList::from_keys(keys, state.settings.delete.max_keys)?;
        let result = bucket.delete(&keys).await;
        state
            .audit
            .deleted(Who::caller(Some(&claims)), &bucket.alias, &keys, &result);
        ok(DeleteReport::from(result?))
    }
}

/// The largest `POST /files/delete` body for `max_keys` keys: each key at most 1024 bytes,
/// twice that when JSON escapes every byte of it (`\"`, `\\`), plus quotes and commas.
fn delete_body_limit(max_keys: usize) -> u64 {
    (max_keys as u64).saturating_mul(2 * MAX_KEY_BYTES as u64 + 4) + 4096
}

/// Reads the body of `POST /files/delete` into memory within [`delete_body_limit`], after
/// checking the token (see [`buffer_for_supreme`]).
fn read_delete_body<E: Endpoint + 'static>(endpoint: E) -> impl Endpoint {
    endpoint.around(|endpoint, mut request| async move {
        let limit = |state: &AppState| delete_body_limit(state.settings.delete.max_keys);
        buffer_for_supreme(&mut request, limit, |limit| {
            format!("the body is over {limit} bytes, more keys than `delete.max_keys` allows")
        })
        .await?;
        endpoint.call(request).await
    })
}

/// Checks for a supreme token, then reads the request's small JSON body into memory within
/// `limit` (413 with `too_large`'s text beyond), so that only supreme callers make Hoist
/// buffer anything.
pub(super) async fn buffer_for_supreme(
    request: &mut Request,
    limit: impl FnOnce(&AppState) -> u64,
    too_large: impl Fn(u64) -> String,
) -> Result<(), ApiError> {
    let state = request
        .data::<Arc<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("the application state is not attached"))?;
    state
        .auth
        .authorize(bearer_token(request).as_deref(), Level::Supreme)
        .map_err(ApiError::from)?;
    let limit = limit(&state);
    let refusal = || ApiError::new(ErrorCode::PayloadTooLarge, too_large(limit));
    buffer_body(request, limit, state.uploads.limits().pace, refusal).await?;
    Ok(())
}

/// The declared body length, a bound used to size buffers and refuse oversized bodies early.
fn content_length(request: &Request) -> Option<u64> {
    request
        .header(poem::http::header::CONTENT_LENGTH)
        .and_then(|value| value.parse().ok())
}
