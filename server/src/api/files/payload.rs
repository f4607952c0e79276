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
        let schema = MetaSchema {
            required: vec!["file"],
            properties: vec![
                (
                    "prefix",
                    string(
                        "Key prefix (a folder such as `reports/2024`); normalized to one \
                         trailing `/`. Send it before `file`, or in the query string.",
                        None,
                    ),
                ),
                (
                    "bucketName",
                    string(
                        "Bucket alias (default: the configured default alias). Send it before \
                         `file`, or in the query string; an empty value means the default.",
                        None,
                    ),
                ),
                (
                    "file",
                    string(
                        "The file. Its part's `filename` is the key's last segment; its \
                         `Content-Type` the object's type (sniffed when absent or generic).",
                        Some("binary"),
                    ),
                ),
            ],
            ..MetaSchema::new("object")
        };
        Some(MetaRequest {
            description: Some(
                "Fields `prefix`, `bucketName`, `file`. When both destination fields precede \
                 `file` (or are in the query string) the file streams straight to S3; when \
                 `file` comes first it is held in a temporary file until the form ends.",
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
                    ErrorCode::UnsupportedMediaType,
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
                "The file's bytes, streamed to S3 as they arrive. Any `Content-Type` is \
                 accepted and becomes the object's type; absent or \
                 `application/octet-stream`, the type is sniffed from the first bytes. Bodies \
                 are never inflated: a `Content-Encoding` other than `identity` is refused \
                 (415).",
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
