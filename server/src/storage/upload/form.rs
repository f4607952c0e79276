//! A multipart-form upload (`POST /files`): fields `bucketName`, `prefix` and `file`, in any
//! order. The `file` part streams to S3 when its destination is known by the time it starts
//! (from the query string or earlier fields) and waits in a temporary file when it is not; a
//! destination field may come from the query string or the form, but not differently.
//!
//! Every byte the form sends is bounded: the body is paced ([`Paced`]), multer's constraints
//! bound the fields and the whole stream, and [`Bounded`] bounds what multer may read while it
//! looks for a boundary or the end of a part's headers.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::form_bound::{Bounded, FORM_HEAD_LIMIT, Progress};
use super::spool::{self, Spooled};
use super::{ByteStream, Expected, Paced, Staged, Stored, UploadError, UploadSpec, Uploads};
use crate::storage::{Buckets, keys};

/// Most fields a form may have; Hoist reads three.
const MAX_FIELDS: usize = 32;
/// Longest text field (`prefix` is at most a 1024-byte key).
const MAX_TEXT_BYTES: usize = 4096;
/// Largest field Hoist does not know and skips.
const MAX_UNKNOWN_FIELD_BYTES: usize = 64 * 1024;
/// What a form may carry besides its file: every field at its largest, with its headers.
const FORM_OVERHEAD: u64 = MAX_FIELDS as u64 * (MAX_UNKNOWN_FIELD_BYTES as u64 + FORM_HEAD_LIMIT);

/// What the request says besides the form: the query string's destination fields and the
/// declared body length.
#[derive(Debug, Default)]
pub struct FormQuery {
    pub bucket_name: Option<String>,
    pub prefix: Option<String>,
    pub content_length: Option<u64>,
}

/// Reads the form in `body` (parts separated by `boundary`) field by field, stores its `file`
/// and returns what was stored. Nothing is stored on any error, including one in a field
/// after the file.
pub async fn receive<'a, S>(
    buckets: &'a Buckets,
    uploads: &Uploads,
    body: S,
    boundary: String,
    query: FormQuery,
) -> Result<Stored<'a>, UploadError>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
{
    let _running = uploads.begin();
    let progress = Arc::new(Progress::default());
    let body: ByteStream =
        Box::pin(body.map(|chunk| chunk.map_err(|error| UploadError::Body(error.into()))));
    let paced = Paced::new(body, uploads.limits().pace);
    let bounded = Bounded::new(paced, progress.clone(), FORM_HEAD_LIMIT);
    let form = multer::Multipart::with_constraints(
        bounded,
        boundary,
        constraints(uploads.limits().max_size),
    );
    uploads
        .counted(read_and_store(buckets, uploads, form, progress, query))
        .await
}

/// multer's own bounds: the file at most `upload.max_file_size`, text fields and unknown
/// fields theirs, and the whole stream the sum.
fn constraints(max_file_size: u64) -> multer::Constraints {
    multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(max_file_size.saturating_add(FORM_OVERHEAD))
            .per_field(MAX_UNKNOWN_FIELD_BYTES as u64)
            .for_field("file", max_file_size)
            .for_field("bucketName", MAX_TEXT_BYTES as u64)
            .for_field("prefix", MAX_TEXT_BYTES as u64),
    )
}

async fn read_and_store<'a>(
    buckets: &'a Buckets,
    uploads: &Uploads,
    form: multer::Multipart<'static>,
    progress: Arc<Progress>,
    query: FormQuery,
) -> Result<Stored<'a>, UploadError> {
    let mut walk = FormWalk {
        buckets,
        uploads,
        progress,
        bucket: Setting::new("bucketName", query.bucket_name),
        prefix: Setting::new("prefix", query.prefix),
        content_length: query.content_length,
        file: None,
    };
    let result = walk.read_fields(form).await;
    let file = walk.file.take();
    let received = match (result, file) {
        (Ok(()), Some(file)) => file,
        (Ok(()), None) => return Err(UploadError::MissingFile),
        (Err(error), file) => {
            if let Some(Received::Streamed(staged)) = file {
                staged.abort().await;
            }
            return Err(error);
        }
    };
    let (alias, prefix) = (walk.bucket.value(), walk.prefix.value());
    let bucket = buckets.resolve(alias)?;
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
                length: Some(spooled.size()),
            };
            let source: ByteStream = Box::pin(spooled.into_stream());
            bucket.upload(uploads, spec, source).await?
        }
    };
    let object = staged.commit().await?;
    Ok(Stored { bucket, object })
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
    buckets: &'a Buckets,
    uploads: &'a Uploads,
    /// Told about every field and chunk multer yields.
    progress: Arc<Progress>,
    bucket: Setting,
    prefix: Setting,
    content_length: Option<u64>,
    file: Option<Received>,
}

impl FormWalk<'_> {
    async fn read_fields(
        &mut self,
        mut form: multer::Multipart<'static>,
    ) -> Result<(), UploadError> {
        let mut fields = 0;
        while let Some(field) = form.next_field().await.map_err(form_error)? {
            self.progress.made();
            fields += 1;
            if fields > MAX_FIELDS {
                return Err(UploadError::Form(format!(
                    "a form has at most {MAX_FIELDS} fields"
                )));
            }
            match field.name().unwrap_or_default() {
                "bucketName" => {
                    let value = read_text(field, MAX_TEXT_BYTES, &self.progress).await?;
                    self.bucket.set_from_form(value)?;
                }
                "prefix" => {
                    let value = read_text(field, MAX_TEXT_BYTES, &self.progress).await?;
                    self.prefix.set_from_form(value)?;
                }
                "file" => self.read_file(field).await?,
                name => {
                    tracing::debug!(field = name, "skipping an unknown form field");
                    read_text(field, MAX_UNKNOWN_FIELD_BYTES, &self.progress).await?;
                }
            }
        }
        Ok(())
    }

    async fn read_file(&mut self, field: multer::Field<'static>) -> Result<(), UploadError> {
        if self.file.is_some() {
            return Err(UploadError::Form("a form carries one `file`".into()));
        }
        let name = field.file_name().unwrap_or_default().to_owned();
        let content_type = field.content_type().map(ToString::to_string);
        let progress = self.progress.clone();
        let source: ByteStream = Box::pin(field.map(move |chunk| {
            progress.made();
            chunk.map_err(form_error)
        }));
        if self.bucket.is_known() && self.prefix.is_known() {
            let bucket = self.buckets.resolve(self.bucket.value())?;
            let key = keys::join(self.prefix.value().unwrap_or_default(), &name)?;
            let spec = UploadSpec {
                key,
                content_type,
                expected: Expected::default(),
                size_hint: self.content_length,
                // The whole form's length, not the file's.
                length: None,
            };
            let staged = bucket.upload(self.uploads, spec, source).await?;
            self.file = Some(Received::Streamed(Box::new(staged)));
        } else {
            // Refuse a bad name now rather than after spooling the whole file.
            keys::join("", &name)?;
            self.uploads.count_spooled();
            let spooled =
                spool::spool(source, self.uploads.limits(), self.uploads.spool_space()).await?;
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
    progress: &Progress,
) -> Result<String, UploadError> {
    let name = field.name().unwrap_or_default().to_owned();
    let mut text = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(form_error)? {
        progress.made();
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

/// A body that stops is the client's doing (disconnect); a body that is not a form is a bad
/// request; what the body's own guards refused (pace, head bound) comes back as it was.
fn form_error(error: multer::Error) -> UploadError {
    match error {
        multer::Error::StreamReadFailed(cause) => match cause.downcast::<UploadError>() {
            Ok(refused) => *refused,
            Err(cause) => UploadError::Body(cause),
        },
        multer::Error::FieldSizeExceeded { limit, field_name } => match field_name.as_deref() {
            Some("file") => UploadError::TooLarge { limit },
            name => UploadError::Form(format!(
                "form field `{}` is longer than {limit} bytes",
                name.unwrap_or_default()
            )),
        },
        multer::Error::StreamSizeExceeded { limit } => UploadError::TooLarge { limit },
        multer::Error::IncompleteStream
        | multer::Error::IncompleteFieldData { .. }
        | multer::Error::IncompleteHeaders => UploadError::Body(Box::new(error)),
        other => UploadError::Form(format!("malformed multipart body: {other}")),
    }
}
