//! The two upload bodies as request extractors that stream: `multipart/form-data` for
//! `POST /files` and a raw body for `PUT /files/object`. poem-openapi's own `Multipart` derive
//! and `Binary` payload read or require what these must not (the whole form; a
//! `Content-Type`), so these implement `ApiExtractor` by hand, with the spec they document.

use poem::{Request, RequestBody};
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaSchema, MetaSchemaRef};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};

use crate::http::{ApiError, ErrorCode};

/// A `multipart/form-data` body, not yet read: fields are parsed as they stream in.
pub struct FileForm(pub multer::Multipart<'static>);

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
        let boundary = request
            .content_type()
            .and_then(|content_type| multer::parse_boundary(content_type).ok())
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "this route takes multipart/form-data with a boundary",
                )
            })?;
        let stream = body.take()?.into_bytes_stream();
        Ok(Self(multer::Multipart::new(stream, boundary)))
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
                 `application/octet-stream`, the type is sniffed from the first bytes.",
            ),
            content: vec![MetaMediaType {
                content_type: "application/octet-stream",
                schema: string("The file's bytes.", Some("binary")),
            }],
            required: true,
        })
    }

    async fn from_request(
        _request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        Ok(Self(body.take()?))
    }
}
