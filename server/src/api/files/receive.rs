//! Receiving an upload: the raw body of `PUT /files/object`, and the multipart form of
//! `POST /files`, whose `file` part streams to S3 when its destination is known by the time
//! it starts and waits in a temporary file when it is not.

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::payload::{FileForm, RawBody};
use crate::api::objects::StoredObject;
use crate::http::ApiError;
use crate::state::AppState;
use crate::storage::keys;
use crate::storage::upload::spool::{self, Spooled};
use crate::storage::upload::{Expected, Staged, UploadError, UploadSpec};

/// Most fields a form may have; Hoist reads three.
const MAX_FIELDS: usize = 32;
/// Longest text field (`prefix` is at most a 1024-byte key).
const MAX_TEXT_BYTES: usize = 4096;
/// Largest field Hoist does not know and skips.
const MAX_UNKNOWN_FIELD_BYTES: usize = 64 * 1024;

type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, UploadError>> + Send>>;

/// What a raw upload names and claims, from its query string and headers.
#[derive(Debug)]
pub struct RawUpload {
    pub bucket_name: Option<String>,
    pub key: String,
    pub content_type: Option<String>,
    pub expected: Expected,
    pub content_length: Option<u64>,
}

/// `PUT /files/object`: everything is known before the first byte, so it streams at once.
pub async fn raw(
    state: &AppState,
    upload: RawUpload,
    body: RawBody,
) -> Result<StoredObject, ApiError> {
    let _running = state.uploads.begin();
    let bucket = state.buckets.resolve(upload.bucket_name.as_deref())?;
    keys::validate_key(&upload.key)?;
    state.uploads.check_declared_size(upload.content_length)?;
    let source: ByteStream = Box::pin(
        body.0
            .into_bytes_stream()
            .map(|chunk| chunk.map_err(|error| UploadError::Body(error.to_string()))),
    );
    let spec = UploadSpec {
        key: upload.key,
        content_type: upload.content_type,
        expected: upload.expected,
        size_hint: upload.content_length,
    };
    let staged = state.uploads.receive(&bucket.store, spec, source).await?;
    Ok(StoredObject::uploaded(bucket, staged.commit().await?))
}

/// `POST /files`. The query string may name the destination; the form may too, once.
pub async fn form(
    state: &AppState,
    form: FileForm,
    query_bucket: Option<String>,
    query_prefix: Option<String>,
    content_length: Option<u64>,
) -> Result<StoredObject, ApiError> {
    let _running = state.uploads.begin();
    let mut walk = FormWalk {
        state,
        bucket: Setting::new("bucketName", query_bucket),
        prefix: Setting::new("prefix", query_prefix),
        content_length,
        file: None,
    };
    let result = walk.read_fields(form.0).await;
    let file = walk.file.take();
    let received = match (result, file) {
        (Ok(()), Some(file)) => file,
        (Ok(()), None) => return Err(UploadError::MissingFile.into()),
        (Err(error), file) => {
            if let Some(Received::Streamed(staged)) = file {
                staged.abort().await;
            }
            return Err(error);
        }
    };
    let (alias, prefix) = (walk.bucket.value(), walk.prefix.value());
    let bucket = state.buckets.resolve(alias)?;
    let staged = match received {
        Received::Streamed(staged) => *staged,
        Received::Spooled {
            spooled,
            name,
            content_type,
        } => {
            let key = keys::join(prefix.unwrap_or_default(), &name)?;
            let spec = UploadSpec {
                key,
                content_type,
                expected: Expected::default(),
                size_hint: Some(spooled.size()),
            };
            let source: ByteStream = Box::pin(spooled.into_stream());
            state.uploads.receive(&bucket.store, spec, source).await?
        }
    };
    Ok(StoredObject::uploaded(bucket, staged.commit().await?))
}

/// The file part, once read.
enum Received {
    /// Streamed to S3, waiting for commit.
    Streamed(Box<Staged>),
    /// Held in a temporary file until the destination is known.
    Spooled {
        spooled: Spooled,
        name: String,
        content_type: Option<String>,
    },
}

struct FormWalk<'a> {
    state: &'a AppState,
    bucket: Setting,
    prefix: Setting,
    content_length: Option<u64>,
    file: Option<Received>,
}

impl FormWalk<'_> {
    async fn read_fields(&mut self, mut form: multer::Multipart<'static>) -> Result<(), ApiError> {
        let read_timeout = self.state.uploads.limits().read_timeout;
        let mut fields = 0;
        while let Some(field) = stalled_after(read_timeout, form.next_field())
            .await?
            .map_err(form_error)?
        {
            fields += 1;
            if fields > MAX_FIELDS {
                return Err(
                    UploadError::Form(format!("a form has at most {MAX_FIELDS} fields")).into(),
                );
            }
            match field.name().unwrap_or_default() {
                "bucketName" => {
                    let value = read_text(field, MAX_TEXT_BYTES, read_timeout).await?;
                    self.bucket.set_from_form(value)?;
                }
                "prefix" => {
                    let value = read_text(field, MAX_TEXT_BYTES, read_timeout).await?;
                    self.prefix.set_from_form(value)?;
                }
                "file" => self.read_file(field).await?,
                name => {
                    tracing::debug!(field = name, "skipping an unknown form field");
                    read_text(field, MAX_UNKNOWN_FIELD_BYTES, read_timeout).await?;
                }
            }
        }
        Ok(())
    }

    async fn read_file(&mut self, field: multer::Field<'static>) -> Result<(), ApiError> {
        if self.file.is_some() {
            return Err(UploadError::Form("a form carries one `file`".into()).into());
        }
        let name = field.file_name().unwrap_or_default().to_owned();
        let content_type = field.content_type().map(ToString::to_string);
        let source: ByteStream = Box::pin(field.map(|chunk| chunk.map_err(form_error)));
        if self.bucket.is_known() && self.prefix.is_known() {
            let bucket = self.state.buckets.resolve(self.bucket.value())?;
            let key = keys::join(self.prefix.value().unwrap_or_default(), &name)?;
            let spec = UploadSpec {
                key,
                content_type,
                expected: Expected::default(),
                size_hint: self.content_length,
            };
            let staged = self
                .state
                .uploads
                .receive(&bucket.store, spec, source)
                .await?;
            self.file = Some(Received::Streamed(Box::new(staged)));
        } else {
            // Refuse a bad name now rather than after spooling the whole file.
            keys::join("", &name)?;
            self.state.metrics.uploads_spooled.inc();
            let spooled = spool::spool(source, self.state.uploads.limits()).await?;
            self.file = Some(Received::Spooled {
                spooled,
                name,
                content_type,
            });
        }
        Ok(())
    }
}

/// A destination field that the query string or the form may give, but not differently.
struct Setting {
    name: &'static str,
    from_query: Option<String>,
    from_form: Option<String>,
}

impl Setting {
    fn new(name: &'static str, from_query: Option<String>) -> Self {
        Self {
            name,
            from_query,
            from_form: None,
        }
    }

    fn set_from_form(&mut self, value: String) -> Result<(), UploadError> {
        if self.from_form.is_some() {
            return Err(UploadError::Form(format!(
                "`{}` appears twice in the form",
                self.name
            )));
        }
        if self
            .from_query
            .as_ref()
            .is_some_and(|query| query != &value)
        {
            return Err(UploadError::Form(format!(
                "`{}` differs between the query string and the form",
                self.name
            )));
        }
        self.from_form = Some(value);
        Ok(())
    }

    fn is_known(&self) -> bool {
        self.from_query.is_some() || self.from_form.is_some()
    }

    fn value(&self) -> Option<&str> {
        self.from_form.as_deref().or(self.from_query.as_deref())
    }
}

/// A text field, at most `limit` bytes.
async fn read_text(
    mut field: multer::Field<'static>,
    limit: usize,
    read_timeout: Duration,
) -> Result<String, UploadError> {
    let name = field.name().unwrap_or_default().to_owned();
    let mut text = Vec::new();
    while let Some(chunk) = stalled_after(read_timeout, field.chunk())
        .await?
        .map_err(form_error)?
    {
        if text.len() + chunk.len() > limit {
            return Err(UploadError::Form(format!(
                "form field `{name}` is longer than {limit} bytes"
            )));
        }
        text.extend_from_slice(&chunk);
    }
    String::from_utf8(text)
        .map_err(|_| UploadError::Form(format!("form field `{name}` is not UTF-8 text")))
}

async fn stalled_after<F: Future>(limit: Duration, work: F) -> Result<F::Output, UploadError> {
    tokio::time::timeout(limit, work)
        .await
        .map_err(|_| UploadError::Stalled(limit))
}

/// A body that stops is the client's doing (disconnect); a body that is not a form is a bad
/// request.
fn form_error(error: multer::Error) -> UploadError {
    match error {
        multer::Error::StreamReadFailed(cause) => UploadError::Body(cause.to_string()),
        multer::Error::IncompleteStream
        | multer::Error::IncompleteFieldData { .. }
        | multer::Error::IncompleteHeaders => UploadError::Body(error.to_string()),
        other => UploadError::Form(format!("malformed multipart body: {other}")),
    }
}
