//! The console's own view of the API's data, so pages never see generated client types.

use std::fmt;

/// A bucket alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketEntry {
    pub alias: String,
    pub region: String,
    pub is_default: bool,
}

/// One object in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEntry {
    pub key: String,
    pub size: u64,
    /// Last modified, as the server sent it (RFC 3339).
    pub date: String,
}

/// One page of a prefix: its sub-folders (first page only) and objects, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub folders: Vec<String>,
    pub objects: Vec<ObjectEntry>,
    /// Objects under the prefix in all pages.
    pub total: u64,
    /// Continues the listing; `None` on the last page.
    pub cursor: Option<String>,
}

/// A declared trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerEntry {
    pub name: String,
    pub kind: String,
    pub auth: String,
    pub mode: Option<String>,
}

/// What a trigger call returned, ready to show.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerOutcome {
    pub success: bool,
    pub status_code: Option<i64>,
    pub execution_arn: Option<String>,
    pub payload: Option<serde_json::Value>,
    pub function_error: Option<String>,
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// RFC 3339, as the server sent it.
    pub at: String,
    pub action: String,
    pub sub: Option<String>,
    pub client: Option<String>,
    pub outcome: String,
    /// The event's details as compact JSON.
    pub details: String,
}

/// Result of a batch delete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteReport {
    pub deleted: Vec<String>,
    /// `(key, code, message)` for each key S3 refused.
    pub errors: Vec<(String, String, String)>,
}

/// A failed call, as the server's error envelope (or the transport) described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    pub status: Option<u16>,
    pub code: String,
    pub message: String,
    pub correlation_id: Option<String>,
}

impl ApiFailure {
    /// A failure that never reached the server or got no envelope back.
    pub fn transport(message: impl Into<String>) -> Self {
        Self {
            status: None,
            code: "transport".into(),
            message: message.into(),
            correlation_id: None,
        }
    }
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(f, "{status} {}: {}", self.code, self.message)?,
            None => write!(f, "{}: {}", self.code, self.message)?,
        }
        if let Some(id) = &self.correlation_id {
            write!(f, " (correlation {id})")?;
        }
        Ok(())
    }
}

/// `1536` → `1.5 KiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MiB");
    }

    #[test]
    fn failures_name_code_and_correlation() {
        let failure = ApiFailure {
            status: Some(400),
            code: "unknown-bucket".into(),
            message: "nope".into(),
            correlation_id: Some("c-1".into()),
        };
        assert_eq!(
            failure.to_string(),
            "400 unknown-bucket: nope (correlation c-1)"
        );
    }
}
