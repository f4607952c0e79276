//! `StorageError`: what can go wrong between Hoist and a bucket, and `Unready`, the bucket
//! aliases a readiness probe found unreachable. Their HTTP meaning is the HTTP layer's.

use crate::telemetry::ErrorChain;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("`{0}` is not a configured bucket alias")]
    UnknownBucket(String),
    #[error("no bucketName given and no default bucket is configured")]
    NoDefaultBucket,
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// A key the store behind the alias cannot hold (the embedded store's files), with why.
    #[error("{0}")]
    NotStorable(String),
    /// The store could not be reached or did not answer in time.
    #[error("storage unreachable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The store answered with an error.
    #[error("storage error {code}: {message}")]
    Backend { code: String, message: String },
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
    /// A page size outside `1..=list.max_limit`.
    #[error("limit must be between 1 and {max}")]
    InvalidLimit { max: u32 },
    #[error("give either offset or cursor, not both")]
    OffsetAndCursor,
    #[error("the only delimiter is `/`")]
    UnsupportedDelimiter,
    /// A batch delete that names no key.
    #[error("fileKeys names no key")]
    NoKeys,
    #[error("fileKeys names {count} keys; at most {max} per request")]
    TooManyKeys { count: usize, max: usize },
}

/// The aliases whose store did not answer a readiness probe, each with its failure.
#[derive(Debug)]
pub struct Unready(pub Vec<(String, StorageError)>);

impl Unready {
    pub fn aliases(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(alias, _)| alias.as_str())
    }
}

impl std::fmt::Display for Unready {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("unreachable bucket aliases: ")?;
        for (i, (alias, error)) in self.0.iter().enumerate() {
            let separator = if i == 0 { "" } else { "; " };
            write!(f, "{separator}{alias} ({})", ErrorChain(error))?;
        }
        Ok(())
    }
}

impl std::error::Error for Unready {}
