//! `multipart/form-data` bodies built by hand, so tests choose the field order, the chunking
//! and whether a length is declared (reqwest's own multipart support hides all three).

use bytes::Bytes;

use crate::TestServer;

/// The boundary every test form uses.
pub const BOUNDARY: &str = "hoist-test-boundary-7MA4YWxkTrZu0gW";

/// One form field.
#[derive(Debug, Clone)]
pub enum Field {
    Text(&'static str, String),
    File {
        filename: String,
        content_type: Option<String>,
        data: Bytes,
    },
}

impl Field {
    pub fn text(name: &'static str, value: impl Into<String>) -> Self {
        Self::Text(name, value.into())
    }

    pub fn file(filename: impl Into<String>, content_type: Option<&str>, data: Bytes) -> Self {
        Self::File {
            filename: filename.into(),
            content_type: content_type.map(str::to_owned),
            data,
        }
    }
}

/// The form's `Content-Type`.
pub fn content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// The encoded form as chunks of at most `chunk` bytes of file data.
pub fn chunks(fields: &[Field], chunk: usize) -> Vec<Bytes> {
    let mut out = Vec::new();
    for field in fields {
        match field {
            Field::Text(name, value) => out.push(Bytes::from(format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ))),
            Field::File {
                filename,
                content_type,
                data,
            } => {
                let mut head = format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
                );
                if let Some(content_type) = content_type {
                    head.push_str(&format!("Content-Type: {content_type}\r\n"));
                }
                head.push_str("\r\n");
                out.push(Bytes::from(head));
                let mut offset = 0;
                while offset < data.len() {
                    let end = (offset + chunk).min(data.len());
                    out.push(data.slice(offset..end));
                    offset = end;
                }
                out.push(Bytes::from_static(b"\r\n"));
            }
        }
    }
    out.push(Bytes::from(format!("--{BOUNDARY}--\r\n")));
    out
}

/// The form as one buffer (sent with a `Content-Length`).
pub fn whole(fields: &[Field]) -> Vec<u8> {
    chunks(fields, usize::MAX).concat()
}

/// The form as a streamed body (sent chunked, without a `Content-Length`).
pub fn streamed(fields: &[Field], chunk: usize) -> reqwest::Body {
    crate::stream_body(chunks(fields, chunk))
}

/// `POST /files{query}` of a form body, with a supreme token.
pub fn post(
    server: &TestServer,
    query: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::RequestBuilder {
    server
        .supreme(reqwest::Method::POST, &format!("/files{query}"))
        .header("content-type", content_type())
        .body(body)
}
