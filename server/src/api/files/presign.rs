//! `POST /files/presign`: a URL for a client to PUT or GET one object straight from S3,
//! signed with the alias's credentials. The handler resolves the alias, calls
//! `Bucket::presign` and records the audit event.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use poem::web::Data;
use poem::{Endpoint, EndpointExt};
use poem_openapi::{Enum, Object, OpenApi};

use super::buffer_for_supreme;
use crate::api::Tag;
use crate::audit::Who;
use crate::auth::{BearerAuth, Level};
use crate::http::{ApiResult, JsonBody, SupremeToken, ok};
use crate::state::AppState;
use crate::storage::keys::MAX_KEY_BYTES;
use crate::storage::presign::{Method, PresignError, PresignRequest, Presigned};

pub struct PresignApi;

/// What the presigned request may do.
#[derive(Debug, Clone, Copy, Enum, serde::Deserialize)]
pub enum PresignMethod {
    /// Upload the object (one PUT of the whole body, at most 5 GiB).
    #[serde(rename = "PUT")]
    #[oai(rename = "PUT")]
    Put,
    /// Download the object.
    #[serde(rename = "GET")]
    #[oai(rename = "GET")]
    Get,
}

/// The body of `POST /files/presign`.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PresignBody {
    /// Bucket alias (default: the configured default alias).
    pub bucket_name: Option<String>,
    /// The full object key, checked as an upload's key is.
    pub key: String,
    pub method: PresignMethod,
    /// Seconds the URL may be used, at least 1; default `presign.default_expiry` (15 min).
    /// Capped by `presign.max_expiry` (1 h), by the caller's token expiry and by the end of
    /// the alias's assumed-role session: `expiresAt` says when it really ends.
    pub expires_in: Option<u64>,
    /// PUT only: the object's type, signed into the URL (the alias's `allowed_types`
    /// apply); default `application/octet-stream`.
    pub content_type: Option<String>,
    /// PUT only: the CRC32C of the bytes (base64 of the big-endian value); S3 refuses an
    /// upload that does not match.
    pub checksum_crc32c: Option<String>,
    /// PUT only: the SHA-256 of the bytes (base64); S3 refuses an upload that does not match.
    pub checksum_sha256: Option<String>,
}

/// A presigned URL.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct PresignedUrl {
    /// Send the request here, to S3, without Hoist's token.
    pub url: String,
    pub method: PresignMethod,
    /// Headers the request must carry exactly as given: the signature covers them (for a PUT
    /// the content type, and the disposition and checksums where they apply).
    pub headers: BTreeMap<String, String>,
    /// When the URL stops working: RFC 3339 UTC.
    pub expires_at: String,
    /// Seconds the URL lives from signing until `expiresAt` (its `X-Amz-Expires`).
    pub expires_in: u64,
}

impl From<Presigned> for PresignedUrl {
    fn from(presigned: Presigned) -> Self {
        Self {
            url: presigned.url,
            method: match presigned.method {
                Method::Put => PresignMethod::Put,
                Method::Get => PresignMethod::Get,
            },
            headers: presigned.headers.into_iter().collect(),
            expires_at: humantime::format_rfc3339_seconds(presigned.expires_at).to_string(),
            expires_in: presigned.lifetime.as_secs(),
        }
    }
}

/// A presign body holds a key and a few short strings; every byte of a key escaped twice
/// for JSON, plus room for the rest.
const BODY_LIMIT: u64 = 2 * MAX_KEY_BYTES as u64 + 4096;

#[OpenApi(tag = "Tag::Files")]
impl PresignApi {
    /// Presign a PUT or GET of one object.
    ///
    /// A URL that lets whoever holds it upload or download one object directly with S3, with
    /// no Hoist token: hand it to a browser or phone so the bytes skip the gateway. The key
    /// passes the same checks as an upload's. A PUT URL signs the content type (and the
    /// disposition active content gets, and the checksums given): the uploader must send
    /// exactly the `headers` returned. Presigned uploads bypass Hoist, so no upload hook runs
    /// for them. Every URL issued is recorded in the audit trail.
    #[oai(
        path = "/files/presign",
        method = "post",
        operation_id = "presignFile",
        transform = "read_presign_body"
    )]
    async fn presign(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: JsonBody<PresignBody>,
    ) -> ApiResult<PresignedUrl, (SupremeToken, PresignError)> {
        let claims = state.require(&auth, Level::Supreme)?;
        let body = body.0;
        let request = PresignRequest {
            method: match body.method {
                PresignMethod::Put => Method::Put,
                PresignMethod::Get => Method::Get,
            },
            key: body.key,
            expires_in: body.expires_in,
            content_type: body.content_type,
            crc32c: body.checksum_crc32c,
            sha256: body.checksum_sha256,
        };
        let token_end = SystemTime::UNIX_EPOCH + Duration::from_secs(claims.exp);
        let bucket = state
            .buckets
            .resolve(body.bucket_name.as_deref())
            .map_err(PresignError::from);
        let result = match bucket {
            Ok(bucket) => bucket
                .presign(&request, &state.settings.presign, token_end)
                .await
                .map(|presigned| (bucket.alias.clone(), presigned)),
            Err(error) => Err(error),
        };
        let alias = match &result {
            Ok((alias, _)) => alias.clone(),
            Err(_) => body.bucket_name.unwrap_or_default(),
        };
        let granted = result
            .as_ref()
            .map_or(0, |(_, presigned)| presigned.lifetime.as_secs());
        state.audit.presign(
            Who::caller(Some(&claims)),
            if result.is_ok() { "issued" } else { "refused" },
            &alias,
            &request.key,
            request.method.as_str(),
            granted,
        );
        let (_, presigned) = result?;
        ok(PresignedUrl::from(presigned))
    }
}

/// Reads the small body of `POST /files/presign` after checking the token.
fn read_presign_body<E: Endpoint + 'static>(endpoint: E) -> impl Endpoint {
    endpoint.around(|endpoint, mut request| async move {
        buffer_for_supreme(
            &mut request,
            |_| BODY_LIMIT,
            |limit| format!("a presign body is at most {limit} bytes"),
        )
        .await?;
        endpoint.call(request).await
    })
}
