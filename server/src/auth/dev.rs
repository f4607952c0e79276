//! `DevTokenError`: why `GET /dev/token` minted no token.

#[derive(Debug, thiserror::Error)]
pub enum DevTokenError {
    /// Dev tokens are off: as far as clients can tell, the route does not exist.
    #[error("no such route")]
    Disabled,
    #[error("ttl must be between 1 and {max} seconds")]
    BadTtl { max: u64 },
}
