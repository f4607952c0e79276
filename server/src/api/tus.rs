//! tus 1.0.0 resumable uploads at `/tus` (core protocol with the creation,
//! creation-with-upload, termination, checksum and expiration extensions): the protocol's
//! headers in and out, over the storage service `Bucket::tus_*`. Every request but `OPTIONS`
//! needs a supreme token; errors keep the JSON envelope, with the statuses tus prescribes.
//! Not part of the OpenAPI spec: tus clients speak the protocol, not a generated SDK.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::StreamExt;
use poem::http::{HeaderMap, HeaderValue, StatusCode, header};
use poem::web::Data;
use poem::{Body, Endpoint, EndpointExt, IntoResponse, Request, Response, Route, handler};

use crate::auth::{Claims, Level, bearer_token};
use crate::http::body_limit::{declared_length, is_compressed};
use crate::http::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::storage::Bucket;
use crate::storage::keys;
use crate::storage::tus::{Append, Appended, BodyChecksum, NewUpload, UploadStatus};
use crate::storage::upload::{Paced, Stored, UploadError};

const VERSION: &str = "1.0.0";
const EXTENSIONS: &str = "creation,creation-with-upload,termination,checksum,expiration";
const CHECKSUMS: &str = "sha1,sha256";
const PATCH_TYPE: &str = "application/offset+octet-stream";
/// The longest `Upload-Metadata` read: a file name and a few short values, base64.
const MAX_METADATA_BYTES: usize = 8 * 1024;

/// The `/tus` routes, each answer with `Tus-Resumable`.
pub fn routes() -> impl Endpoint {
    Route::new()
        .at("/", poem::post(create).options(options))
        .at(
            "/:id",
            poem::head(head_upload)
                .patch(append)
                .delete(terminate)
                .options(options),
        )
        .around(|ep, req| async move {
            let mut response = match ep.call(req).await {
                Ok(response) => response.into_response(),
                Err(error) => crate::http::middleware::render_error(error),
            };
            response
                .headers_mut()
                .insert("tus-resumable", HeaderValue::from_static(VERSION));
            Ok(response)
        })
}

/// `OPTIONS`: what this server supports (no token needed).
#[handler]
fn options(state: Data<&Arc<AppState>>) -> Response {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header("tus-version", VERSION)
        .header("tus-extension", EXTENSIONS)
        .header("tus-max-size", state.settings.upload.max_file_size)
        .header("tus-checksum-algorithm", CHECKSUMS)
        .finish()
}

/// `POST /tus`: creates an upload (and, with a body, appends it at offset 0).
#[handler]
async fn create(state: Data<&Arc<AppState>>, req: &Request, body: Body) -> poem::Result<Response> {
    let claims = admit(&state, req)?;
    let headers = req.headers();
    if headers.contains_key("upload-defer-length") {
        return Err(tus_header("Upload-Defer-Length is not supported: send Upload-Length").into());
    }
    let length =
        number(headers, "upload-length")?.ok_or_else(|| tus_header("Upload-Length is required"))?;
    let metadata = metadata(headers)?;
    let file_name = metadata
        .get("filename")
        .ok_or_else(|| tus_header("Upload-Metadata needs `filename`"))?;
    let bucket = state
        .buckets
        .resolve(metadata.get("bucketName").map(String::as_str))
        .map_err(ApiError::from)?;
    let prefix = metadata.get("prefix").map_or("", String::as_str);
    let key = keys::join(prefix, file_name).map_err(ApiError::from)?;
    let new = NewUpload {
        key,
        length,
        content_type: metadata.get("filetype").cloned(),
        metadata: metadata.clone(),
        created_by: claims.sub.clone(),
    };
    let (uuid, status, finished) = bucket
        .tus_create(&state.uploads, &state.settings.tus, new)
        .await
        .map_err(ApiError::from)?;
    let location = format!("/tus/{}~{uuid}", bucket.alias);
    let mut response = Response::builder()
        .status(StatusCode::CREATED)
        .header(header::LOCATION, location)
        .header("upload-expires", httpdate::fmt_http_date(status.expires_at));
    if let Some(object) = finished {
        stored(&state, bucket, object, &claims).await;
        return Ok(response.header("upload-offset", 0).finish());
    }
    let with_upload = content_type(req) == Some(PATCH_TYPE)
        && req
            .header(header::CONTENT_LENGTH)
            .is_none_or(|length| length != "0");
    if !with_upload {
        return Ok(response.header("upload-offset", 0).finish());
    }
    refuse_compressed(req)?;
    // creation-with-upload: the body is the first PATCH. A failure of that append still
    // leaves a created upload, whose offset the answer gives.
    let first = Append {
        offset: 0,
        checksum: None,
        length: declared_length(req),
    };
    let appended = patch_body(&state, bucket, &uuid, first, body).await;
    let offset = match appended {
        Ok(Appended::Partial(status)) => status.offset,
        Ok(Appended::Finished(status, object)) => {
            stored(&state, bucket, object, &claims).await;
            status.offset
        }
        Err(_) => bucket
            .tus_status(&uuid)
            .await
            .map_or(0, |status| status.offset),
    };
    response = response.header("upload-offset", offset);
    Ok(response.finish())
}

/// `HEAD /tus/{id}`: where the upload stands.
#[handler]
async fn head_upload(state: Data<&Arc<AppState>>, req: &Request) -> poem::Result<Response> {
    admit(&state, req)?;
    let (bucket, uuid) = upload_of(&state, req)?;
    let status = bucket.tus_status(uuid).await.map_err(ApiError::from)?;
    Ok(
        with_status(Response::builder().status(StatusCode::OK), &status)
            .header("upload-length", status.length)
            .header("upload-metadata", encode_metadata(&status.metadata))
            .header(header::CACHE_CONTROL, "no-store")
            .finish(),
    )
}

/// `PATCH /tus/{id}`: appends the body at `Upload-Offset`.
#[handler]
async fn append(state: Data<&Arc<AppState>>, req: &Request, body: Body) -> poem::Result<Response> {
    let claims = admit(&state, req)?;
    let (bucket, uuid) = upload_of(&state, req)?;
    if content_type(req) != Some(PATCH_TYPE) {
        return Err(ApiError::new(
            ErrorCode::UnsupportedContentType,
            format!("a PATCH body is `Content-Type: {PATCH_TYPE}`"),
        )
        .into());
    }
    refuse_compressed(req)?;
    let offset = number(req.headers(), "upload-offset")?
        .ok_or_else(|| tus_header("Upload-Offset is required"))?;
    let checksum = checksum(req.headers())?;
    let request = Append {
        offset,
        checksum,
        length: declared_length(req),
    };
    let appended = patch_body(&state, bucket, uuid, request, body)
        .await
        .map_err(ApiError::from)?;
    let status = match appended {
        Appended::Partial(status) => status,
        Appended::Finished(status, object) => {
            stored(&state, bucket, object, &claims).await;
            status
        }
    };
    Ok(with_status(Response::builder().status(StatusCode::NO_CONTENT), &status).finish())
}

/// `DELETE /tus/{id}`: ends the upload and removes everything it left.
#[handler]
async fn terminate(state: Data<&Arc<AppState>>, req: &Request) -> poem::Result<Response> {
    admit(&state, req)?;
    let (bucket, uuid) = upload_of(&state, req)?;
    bucket.tus_terminate(uuid).await.map_err(ApiError::from)?;
    Ok(Response::builder().status(StatusCode::NO_CONTENT).finish())
}

/// Streams a PATCH body into the upload, paced as every upload body is.
async fn patch_body(
    state: &AppState,
    bucket: &Bucket,
    uuid: &str,
    request: Append,
    body: Body,
) -> Result<Appended, crate::storage::tus::TusError> {
    let _running = state.uploads.begin();
    let body = Box::pin(
        body.into_bytes_stream()
            .map(|chunk| chunk.map_err(|error| UploadError::Body(error.into()))),
    );
    let source = Box::pin(Paced::new(body, state.uploads.limits().pace));
    bucket
        .tus_append(&state.uploads, &state.settings.tus, uuid, request, source)
        .await
}

/// The upload hooks and metrics of a finished upload, as for every other upload route.
async fn stored(
    state: &AppState,
    bucket: &Bucket,
    object: crate::storage::upload::Uploaded,
    claims: &Claims,
) {
    let stored = Stored { bucket, object };
    state.metrics.upload_bytes.inc_by(stored.object.size);
    state.object_stored(&stored, Some(claims)).await;
}

/// Checks `Tus-Resumable` and the supreme token.
fn admit(state: &AppState, req: &Request) -> Result<Claims, ApiError> {
    if req.header("tus-resumable") != Some(VERSION) {
        return Err(ApiError::new(
            ErrorCode::TusVersion,
            format!("this server speaks tus {VERSION}: send Tus-Resumable: {VERSION}"),
        ));
    }
    state
        .auth
        .authorize(bearer_token(req).as_deref(), Level::Supreme)?
        .ok_or_else(|| ApiError::from(crate::auth::AuthError::Missing))
}

/// The bucket and uuid an upload URL names (`/tus/{alias}~{uuid}`).
fn upload_of<'a>(state: &'a AppState, req: &'a Request) -> Result<(&'a Bucket, &'a str), ApiError> {
    let id = req.uri().path().rsplit('/').next().unwrap_or_default();
    let not_found = || ApiError::new(ErrorCode::NotFound, "no such upload");
    let (alias, uuid) = id.split_once('~').ok_or_else(not_found)?;
    if uuid.len() != 32 || !uuid.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_found());
    }
    let bucket = state.buckets.get(alias).ok_or_else(not_found)?;
    Ok((bucket, uuid))
}

fn with_status(builder: poem::ResponseBuilder, status: &UploadStatus) -> poem::ResponseBuilder {
    builder
        .header("upload-offset", status.offset)
        .header("upload-expires", httpdate::fmt_http_date(status.expires_at))
}

fn content_type(req: &Request) -> Option<&str> {
    req.content_type()
        .map(|value| value.split(';').next().unwrap_or_default().trim())
}

/// tus bodies are stored as sent, never inflated (as every upload body).
fn refuse_compressed(req: &Request) -> Result<(), ApiError> {
    if is_compressed(req) {
        return Err(ApiError::new(
            ErrorCode::UnsupportedContentEncoding,
            "tus bodies are stored as sent: send them without Content-Encoding",
        ));
    }
    Ok(())
}

fn tus_header(message: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidTusHeader, message)
}

/// A header that must be a non-negative integer, when present.
fn number(headers: &HeaderMap, name: &str) -> Result<Option<u64>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .ok()
            .filter(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|text| text.parse().ok())
            .map(Some)
            .ok_or_else(|| tus_header(&format!("{name} must be a non-negative integer"))),
    }
}

/// `Upload-Metadata`: comma-separated `key base64value` pairs (the value may be absent).
fn metadata(headers: &HeaderMap) -> Result<BTreeMap<String, String>, ApiError> {
    let mut pairs = BTreeMap::new();
    let Some(value) = headers.get("upload-metadata") else {
        return Ok(pairs);
    };
    if value.len() > MAX_METADATA_BYTES {
        return Err(tus_header(&format!(
            "Upload-Metadata is over {MAX_METADATA_BYTES} bytes"
        )));
    }
    let text = value
        .to_str()
        .map_err(|_| tus_header("Upload-Metadata is not ASCII"))?;
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, encoded) = pair.split_once(' ').unwrap_or((pair, ""));
        let decoded = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                tus_header(&format!(
                    "Upload-Metadata `{key}` is not base64 of UTF-8 text"
                ))
            })?;
        if pairs.insert(key.to_owned(), decoded).is_some() {
            return Err(tus_header(&format!("Upload-Metadata names `{key}` twice")));
        }
    }
    Ok(pairs)
}

fn encode_metadata(metadata: &BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = metadata
        .iter()
        .map(|(key, value)| format!("{key} {}", STANDARD.encode(value)))
        .collect();
    pairs.join(",")
}

/// `Upload-Checksum: <algorithm> <base64 digest>`.
fn checksum(headers: &HeaderMap) -> Result<Option<BodyChecksum>, ApiError> {
    let Some(value) = headers.get("upload-checksum") else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default();
    let (algorithm, encoded) = text
        .split_once(' ')
        .ok_or_else(|| tus_header("Upload-Checksum is `<algorithm> <base64 digest>`"))?;
    let digest = STANDARD
        .decode(encoded.trim())
        .map_err(|_| tus_header("the Upload-Checksum digest is not base64"))?;
    let wrong_size = || tus_header("the Upload-Checksum digest has the wrong size");
    match algorithm {
        "sha1" => Ok(Some(BodyChecksum::Sha1(
            digest.try_into().map_err(|_| wrong_size())?,
        ))),
        "sha256" => Ok(Some(BodyChecksum::Sha256(
            digest.try_into().map_err(|_| wrong_size())?,
        ))),
        other => Err(tus_header(&format!(
            "Upload-Checksum algorithm `{other}` is not one of {CHECKSUMS}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn metadata_is_decoded_and_checked() {
        let map = headers(&[(
            "upload-metadata",
            "filename cmVwb3J0LnBkZg==,is_confidential, filetype YXBwbGljYXRpb24vcGRm",
        )]);
        let parsed = metadata(&map).unwrap();
        assert_eq!(parsed["filename"], "report.pdf");
        assert_eq!(parsed["filetype"], "application/pdf");
        assert_eq!(parsed["is_confidential"], "");
        assert_eq!(metadata(&HeaderMap::new()).unwrap().len(), 0);
        assert!(metadata(&headers(&[("upload-metadata", "filename ###")])).is_err());
        assert!(metadata(&headers(&[("upload-metadata", "a YQ==,a Yg==")])).is_err());
        let again = encode_metadata(&parsed);
        assert_eq!(
            metadata(&headers(&[("upload-metadata", &again)])).unwrap(),
            parsed
        );
    }

    #[test]
    fn checksums_and_numbers_are_checked() {
        let sha1_of_abc = "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=";
        let map = headers(&[("upload-checksum", &format!("sha1 {sha1_of_abc}"))]);
        assert!(matches!(
            checksum(&map).unwrap(),
            Some(BodyChecksum::Sha1(_))
        ));
        assert!(checksum(&headers(&[("upload-checksum", "md5 AAAA")])).is_err());
        assert!(checksum(&headers(&[("upload-checksum", "sha1 AAAA")])).is_err());
        assert_eq!(
            number(&headers(&[("upload-offset", "42")]), "upload-offset").unwrap(),
            Some(42)
        );
        for bad in ["-1", "1.5", "", "0x10", " 7"] {
            assert!(
                number(&headers(&[("upload-offset", bad)]), "upload-offset").is_err(),
                "{bad}"
            );
        }
    }
}
