//! The two upload bodies as request extractors that stream: `multipart/form-data` for
//! `POST /files` and a raw body for `PUT /files/object`. poem-openapi's own `Multipart` derive
//! and `Binary` payload read or require what these must not (the whole form; a
//! `Content-Type`), so these implement `ApiExtractor` by hand, with the spec they document.

use poem::http::header;
use poem::{Request, RequestBody};
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaSchema, MetaSchemaRef};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};

use crate::http::refusal::Refusal;
use crate::http::{ApiError, ErrorCode};

/// A `multipart/form-data` body, not yet read: fields are parsed as they stream in.
pub struct FileForm {
    pub boundary: String,
    pub body: poem::Body,
}

/// Upload bodies are stored or parsed as sent and never inflated (a few compressed bytes can
/// inflate to gigabytes), so a `Content-Encoding` other than `identity` is refused unread.
fn refuse_encoded(request: &Request) -> Result<(), ApiError> {
    match request.headers().get(header::CONTENT_ENCODING) {
        None => Ok(()),
        Some(value) if value.as_bytes().eq_ignore_ascii_case(b"identity") => Ok(()),
        Some(value) => Err(ApiError::new(
            ErrorCode::UnsupportedContentEncoding,
            format!(
                "uploads are stored as sent: Content-Encoding `{}` is not accepted; send the \
                 bytes as they are (a compressed file as a file of its own type)",
                String::from_utf8_lossy(value.as_bytes())
            ),
        )
        .refused(Refusal::ContentEncoding)),
    }
}

/// A raw request body, not yet read.
pub struct RawBody(pub poem::Body);

fn string(description: &'static str, format: Option<&'static str>) -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(MetaSchema {
        description: Some(description),
        format,
        ..MetaSchema::new("string")
    }))
}

impl<'a> ApiExtractor<'a> for FileForm {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn request_meta() -> Option<MetaRequest> {
        // Only `file`: generated clients send the destination in the query string, where it
        // is known before the file starts, so the file always streams. A generator would
        // put required form fields first and optional ones after the file.
        let schema = MetaSchema {
            required: vec!["file"],
            properties: vec![(
                "file",
                string(
                    "The file. Its part's filename is the key's last segment; its \
                     Content-Type the object's type (sniffed when absent or generic).",
                    Some("binary"),
                ),
            )],
            ..MetaSchema::new("object")
        };
        Some(MetaRequest {
            description: Some(
                "The file, as the form's `file` field. The old service's `prefix` and \
                 `bucketName` form fields are read too: sent before `file` the file still \
                 streams, sent after it the file waits in a temporary file until the form \
                 ends.",
            ),
            content: vec![MetaMediaType {
                content_type: "multipart/form-data",
                schema: MetaSchemaRef::Inline(Box::new(schema)),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        refuse_encoded(request)?;
        let boundary = request
            .content_type()
            .and_then(|content_type| multer::parse_boundary(content_type).ok())
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::UnsupportedContentType,
                    "this route takes multipart/form-data with a boundary",
                )
            })?;
        Ok(Self {
            boundary,
            body: body.take()?,
        })
    }
}

impl<'a> ApiExtractor<'a> for RawBody {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: Some(
                "The file's bytes, streamed to S3 as they arrive. Any Content-Type is \
                 accepted; the object's type is the `contentType` parameter, else this \
                 Content-Type, else (absent or `application/octet-stream`) sniffed from \
                 the first bytes. Bodies are never inflated: a Content-Encoding other than \
                 `identity` is refused (415).",
            ),
            content: vec![MetaMediaType {
                content_type: "application/octet-stream",
                schema: string("The file's bytes.", Some("binary")),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        refuse_encoded(request)?;
        Ok(Self(body.take()?))
    }
}
