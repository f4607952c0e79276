//! The console's tus 1.0.0 client for large files: create, ask where an upload stands, and
//! append chunks from a file offset. Small on purpose: the console resumes only its own
//! uploads, one PATCH at a time.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;

use crate::model::ApiFailure;

/// Bytes per PATCH: one part of the server's default `upload.part_size`.
pub const CHUNK: usize = 8 * 1024 * 1024;

/// How often, and how far apart, a PATCH refused as `upload-locked` is sent again.
const LOCKED_RETRIES: u32 = 20;
const LOCKED_PAUSE: std::time::Duration = std::time::Duration::from_millis(500);

/// One server's tus endpoint.
#[derive(Debug, Clone)]
pub struct TusClient {
    /// The API client's HTTP client (`Connect::http`), which sends the token already.
    pub http: reqwest::Client,
    pub base_url: String,
}

impl TusClient {
    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .header("tus-resumable", "1.0.0")
    }

    /// Creates an upload of `size` bytes for `key` in `alias`; its absolute URL.
    pub async fn create(&self, alias: &str, key: &str, size: u64) -> Result<String, ApiFailure> {
        let (prefix, name) = key.rsplit_once('/').unwrap_or(("", key));
        let metadata = format!(
            "filename {},prefix {},bucketName {}",
            STANDARD.encode(name),
            STANDARD.encode(prefix),
            STANDARD.encode(alias)
        );
        let base = self.base_url.trim_end_matches('/');
        let response = self
            .request(reqwest::Method::POST, &format!("{base}/tus"))
            .header("upload-length", size)
            .header("upload-metadata", metadata)
            .send()
            .await
            .map_err(transport)?;
        let response = refused(response, 201).await?;
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| ApiFailure::transport("the server created no upload URL"))?;
        Ok(if location.starts_with('/') {
            format!("{base}{location}")
        } else {
            location.to_owned()
        })
    }

    /// Where the upload at `url` stands; `None` when the server no longer has it.
    pub async fn offset(&self, url: &str) -> Result<Option<u64>, ApiFailure> {
        let response = self
            .request(reqwest::Method::HEAD, url)
            .send()
            .await
            .map_err(transport)?;
        if matches!(response.status().as_u16(), 404 | 410) {
            return Ok(None);
        }
        let response = refused(response, 200).await?;
        offset_of(&response).map(Some)
    }

    /// Appends `bytes` at `offset`; the new offset. An upload another PATCH still holds (409
    /// `upload-locked`: typically this console's own earlier PATCH, cut off, whose server side
    /// is still giving the upload back) is tried again, for a few seconds.
    pub async fn append(&self, url: &str, offset: u64, bytes: Bytes) -> Result<u64, ApiFailure> {
        let mut attempts = 0;
        loop {
            let response = self
                .request(reqwest::Method::PATCH, url)
                .header("upload-offset", offset)
                .header("content-type", "application/offset+octet-stream")
                .body(bytes.clone())
                .send()
                .await
                .map_err(transport)?;
            match refused(response, 204).await {
                Ok(response) => return offset_of(&response),
                Err(failure) if failure.code == "upload-locked" && attempts < LOCKED_RETRIES => {
                    attempts += 1;
                    tokio::time::sleep(LOCKED_PAUSE).await;
                }
                Err(failure) => return Err(failure),
            }
        }
    }
}

fn offset_of(response: &reqwest::Response) -> Result<u64, ApiFailure> {
    response
        .headers()
        .get("upload-offset")
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| ApiFailure::transport("the server sent no Upload-Offset"))
}

fn transport(error: reqwest::Error) -> ApiFailure {
    ApiFailure::transport(error.to_string())
}

/// The response when it has the `expected` status, else the failure its envelope describes.
async fn refused(
    response: reqwest::Response,
    expected: u16,
) -> Result<reqwest::Response, ApiFailure> {
    let status = response.status().as_u16();
    if status == expected {
        return Ok(response);
    }
    let correlation_id = response
        .headers()
        .get("x-correlation-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    Err(ApiFailure {
        status: Some(status),
        code: body["error"]["code"]
            .as_str()
            .unwrap_or("unexpected-response")
            .to_owned(),
        message: body["error"]["message"]
            .as_str()
            .map_or_else(|| format!("the server answered {status}"), str::to_owned),
        correlation_id,
    })
}
