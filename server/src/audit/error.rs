//! Why reading the audit trail back (`GET /audit/events`) was refused or failed.

use crate::storage::StorageError;

/// A refused or failed read of the audit trail.
#[derive(Debug, thiserror::Error)]
pub enum AuditReadError {
    #[error("no audit alias is configured ([audit] bucket)")]
    Disabled,
    #[error("limit must be between 1 and {max}")]
    BadLimit { max: u32 },
    #[error("filter is longer than {max} characters")]
    FilterTooLong { max: usize },
    #[error(transparent)]
    Storage(#[from] StorageError),
}
