//! Hoist's answers as every suite reads them: status, correlation id, headers and JSON body,
//! with the one check of the error envelope.

use reqwest::header::HeaderMap;
use serde_json::Value;

/// One answer of Hoist.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// The `x-correlation-id` header (empty when it is missing, which no check accepts).
    pub correlation_id: String,
    pub headers: HeaderMap,
    /// Every Hoist answer tests send through [`send`] is JSON: data or the error envelope.
    pub body: Value,
}

impl Answer {
    /// Reads a whole response.
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let correlation_id = headers
            .get("x-correlation-id")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.expect("the body is read");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("a JSON body ({e}), got {status}: {text}"));
        Self {
            status,
            correlation_id,
            headers,
            body,
        }
    }

    /// The `data` of a success; fails the test on any other answer.
    pub fn data(&self) -> &Value {
        assert_eq!(self.status / 100, 2, "a success: {self:?}");
        &self.body["data"]
    }

    /// A header's value, when it is there and is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Asserts an error envelope with `status` and `code` (see [`assert_error`]) whose
    /// correlation id is the one in the header.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_error(self.status, &self.body, status, code);
        assert!(
            !self.correlation_id.is_empty(),
            "x-correlation-id header is set: {self:?}"
        );
        assert_eq!(
            self.body["error"]["correlationId"], self.correlation_id,
            "the body and the header carry the same correlation id"
        );
    }
}

/// Sends `request` and reads the answer.
pub async fn send(request: reqwest::RequestBuilder) -> Answer {
    Answer::read(request.send().await.expect("Hoist answers")).await
}

/// Asserts an error answer: the HTTP status, the same status in the envelope, the stable
/// code, and a message for people. For answers read by hand; [`Answer::assert_error`] also
/// checks the correlation id.
pub fn assert_error(status: u16, body: &Value, expected: u16, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"]["status"], expected, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// The error type of every call of the generated client.
pub type ClientError = hoist_client::Error<hoist_client::types::ErrorEnvelope>;

/// Asserts that a call of the generated client was refused with the error envelope of
/// `status` and `code`.
pub fn assert_client_error<T: std::fmt::Debug>(
    result: Result<T, ClientError>,
    status: u16,
    code: &str,
) {
    match result {
        Err(hoist_client::Error::ErrorResponse(response)) => {
            assert_eq!(response.status().as_u16(), status, "{response:?}");
            assert_eq!(response.error.code, code, "{response:?}");
        }
        other => panic!("expected a {status} {code} error envelope, got {other:?}"),
    }
}
