//! Batch deletes: keys sent to S3 in DeleteObjects calls of at most 1000 keys (S3's limit),
//! and every per-key answer collected, failures included.

use futures_util::stream::{self, StreamExt};

use super::StorageError;
use super::s3::S3Bucket;

/// Keys S3 accepts in one DeleteObjects call.
pub const CHUNK_SIZE: usize = 1000;

/// DeleteObjects calls in flight at once for one request.
const CONCURRENT_CHUNKS: usize = 4;

/// What happened to each requested key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteOutcome {
    pub deleted: Vec<String>,
    pub errors: Vec<KeyFailure>,
}

/// A key S3 did not delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFailure {
    pub key: String,
    /// S3's error code (`AccessDenied`, ...), or Hoist's when the whole call failed.
    pub code: String,
    pub message: String,
}

/// Deletes `keys` (already validated and de-duplicated) in chunks of [`CHUNK_SIZE`].
///
/// A chunk whose call fails as a whole reports each of its keys as failed, so a partial
/// outage never hides which keys are gone; only when every chunk fails is the request an
/// error.
pub async fn delete_keys(
    bucket: &S3Bucket,
    keys: &[String],
) -> Result<DeleteOutcome, StorageError> {
    // The calls are made by a named function, not a closure's async block: the latter trips
    // the compiler's Send inference for the handler future (rust-lang/rust#102211).
    let calls: Vec<_> = keys
        .chunks(CHUNK_SIZE)
        .map(|chunk| delete_chunk(bucket, chunk))
        .collect();
    let results = stream::iter(calls)
        .buffered(CONCURRENT_CHUNKS)
        .collect()
        .await;
    merge(results)
}

async fn delete_chunk<'a>(
    bucket: &'a S3Bucket,
    chunk: &'a [String],
) -> (&'a [String], Result<DeleteOutcome, StorageError>) {
    (chunk, bucket.delete_objects(chunk).await)
}

fn merge(
    results: Vec<(&[String], Result<DeleteOutcome, StorageError>)>,
) -> Result<DeleteOutcome, StorageError> {
    let mut outcome = DeleteOutcome::default();
    let mut first_error = None;
    let mut any_succeeded = false;
    for (chunk, result) in results {
        match result {
            Ok(part) => {
                any_succeeded = true;
                outcome.deleted.extend(part.deleted);
                outcome.errors.extend(part.errors);
            }
            Err(error) => {
                tracing::error!(%error, keys = chunk.len(), "a DeleteObjects call failed");
                // S3's code says what kind of failure it was; its message may name the real
                // bucket, so it stays in the log line above.
                let (code, message) = match &error {
                    StorageError::Backend { code, .. } => (
                        code.clone(),
                        "the object store refused the delete call for this key".to_owned(),
                    ),
                    _ => (
                        "RequestFailed".to_owned(),
                        "the object store failed or is unreachable".to_owned(),
                    ),
                };
                outcome.errors.extend(chunk.iter().map(|key| KeyFailure {
                    key: key.clone(),
                    code: code.clone(),
                    message: message.clone(),
                }));
                first_error.get_or_insert(error);
            }
        }
    }
    match first_error {
        Some(error) if !any_succeeded => Err(error),
        _ => Ok(outcome),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("k{i}")).collect()
    }

    #[test]
    fn chunks_hold_at_most_a_thousand_keys() {
        let keys = keys(2500);
        let sizes: Vec<usize> = keys.chunks(CHUNK_SIZE).map(<[String]>::len).collect();
        assert_eq!(sizes, [1000, 1000, 500]);
    }

    #[test]
    fn a_failed_chunk_reports_each_of_its_keys() {
        let keys = keys(3);
        let ok = DeleteOutcome {
            deleted: vec!["k0".into()],
            errors: vec![],
        };
        let merged = merge(vec![
            (&keys[..1], Ok(ok)),
            (
                &keys[1..],
                Err(StorageError::Unavailable("connection refused".into())),
            ),
        ])
        .unwrap();
        assert_eq!(merged.deleted, ["k0"]);
        let failed: Vec<&str> = merged.errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(failed, ["k1", "k2"]);
        assert!(merged.errors.iter().all(|e| e.code == "RequestFailed"));
        assert!(
            !merged.errors[0].message.contains("refused"),
            "internal causes stay in the logs"
        );
    }

    #[test]
    fn every_chunk_failing_is_an_error() {
        let keys = keys(2);
        let result = merge(vec![(
            &keys[..],
            Err(StorageError::Unavailable("down".into())),
        )]);
        assert!(matches!(result, Err(StorageError::Unavailable(_))));
    }
}
