//! Batch deletes, the `delete` service of a [`Bucket`]: the requested keys checked, sent to S3
//! in DeleteObjects calls of at most 1000 keys (S3's limit), and every per-key answer
//! collected, failures included.

use std::collections::HashSet;

use futures_util::stream::{self, StreamExt};

use super::model::{DeleteOutcome, KeyFailure};
use super::s3::S3Bucket;
use super::{Bucket, StorageError, keys};
use crate::telemetry::ErrorChain;

/// Keys S3 accepts in one DeleteObjects call.
pub const CHUNK_SIZE: usize = 1000;

/// DeleteObjects calls in flight at once for one request.
const CONCURRENT_CHUNKS: usize = 4;

/// The keys of one batch delete: at least one, at most `delete.max_keys`, without duplicates,
/// each a valid key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyList(Vec<String>);

impl KeyList {
    /// `a, b,,a` → `[a, b]`: the old service's comma-separated `fileKeys`, trimmed, empty
    /// entries dropped, duplicates removed (first kept), each key checked.
    pub fn parse_comma_separated(raw: &str, max_keys: usize) -> Result<Self, StorageError> {
        let mut seen = HashSet::new();
        let keys: Vec<String> = raw
            .split(',')
            .map(str::trim)
            .filter(|key| !key.is_empty() && seen.insert(*key))
            .map(str::to_owned)
            .collect();
        if keys.is_empty() {
            return Err(StorageError::NoKeys);
        }
        if keys.len() > max_keys {
            return Err(StorageError::TooManyKeys {
                count: keys.len(),
                max: max_keys,
            });
        }
        for key in &keys {
            keys::validate_key(key)?;
        }
        Ok(Self(keys))
    }

    /// The keys of `POST /files/delete`, exactly as sent (no trimming: a key may hold commas
    /// and spaces), duplicates removed (first kept), each key checked.
    pub fn from_keys(keys: Vec<String>, max_keys: usize) -> Result<Self, StorageError> {
        if keys.is_empty() {
            return Err(StorageError::NoKeys);
        }
        if keys.len() > max_keys {
            return Err(StorageError::TooManyKeys {
                count: keys.len(),
                max: max_keys,
            });
        }
        let mut seen = HashSet::new();
        let keys: Vec<String> = keys
            .into_iter()
            .filter(|key| seen.insert(key.clone()))
            .collect();
        for key in &keys {
            keys::validate_key(key)?;
        }
        Ok(Self(keys))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

impl Bucket {
    /// Deletes `keys` in chunks of [`CHUNK_SIZE`].
    ///
    /// A chunk whose call fails as a whole reports each of its keys as failed, so a partial
    /// outage never hides which keys are gone; only when every chunk fails is the request an
    /// error.
    ///
    /// On the embedded store, keys it cannot hold (see `embedded::keys`) are reported as
    /// failed without a call, and a chunk that still fails as a whole is retried key by key:
    /// s3s-fs deletes a chunk's keys one after the other and gives up at the first it cannot,
    /// so a whole-chunk failure there may follow a partial delete, which must be reported
    /// key by key rather than as an error.
    pub async fn delete(&self, keys: &KeyList) -> Result<DeleteOutcome, StorageError> {
        let Some(layout) = &self.embedded else {
            return delete_keys(&self.store, keys.as_slice(), false).await;
        };
        let mut refused = Vec::new();
        let mut sendable = Vec::new();
        for key in keys.as_slice() {
            match layout.check_delete(key) {
                Ok(()) => sendable.push(key.clone()),
                Err(message) => refused.push(KeyFailure {
                    key: key.clone(),
                    code: NOT_STORABLE.to_owned(),
                    message,
                }),
            }
        }
        let mut outcome = if sendable.is_empty() {
            DeleteOutcome::default()
        } else {
            delete_keys(&self.store, &sendable, true).await?
        };
        outcome.errors.extend(refused);
        Ok(outcome)
    }
}

/// The per-key code of a key the embedded store cannot hold.
pub const NOT_STORABLE: &str = "KeyNotStorable";

async fn delete_keys(
    bucket: &S3Bucket,
    keys: &[String],
    retry_each: bool,
) -> Result<DeleteOutcome, StorageError> {
    // The calls are made by a named function, not a closure's async block: the latter trips
    // the compiler's Send inference for the handler future (rust-lang/rust#102211).
    let calls: Vec<_> = keys
        .chunks(CHUNK_SIZE)
        .map(|chunk| delete_chunk(bucket, chunk, retry_each))
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
    retry_each: bool,
) -> (&'a [String], Result<DeleteOutcome, StorageError>) {
    let result = bucket.delete_objects(chunk).await;
    match result {
        Err(StorageError::Backend { code, message }) if retry_each && chunk.len() > 1 => {
            tracing::warn!(
                code,
                message,
                keys = chunk.len(),
                "a DeleteObjects call failed; deleting its keys one by one"
            );
            (chunk, Ok(delete_one_by_one(bucket, chunk).await))
        }
        other => (chunk, other),
    }
}

/// Each key in a call of its own, every failure reported for its key.
async fn delete_one_by_one(bucket: &S3Bucket, keys: &[String]) -> DeleteOutcome {
    let mut outcome = DeleteOutcome::default();
    for key in keys {
        match bucket.delete_objects(std::slice::from_ref(key)).await {
            Ok(part) => {
                outcome.deleted.extend(part.deleted);
                outcome.errors.extend(part.errors);
            }
            Err(error) => {
                tracing::error!(error = %ErrorChain(&error), "a DeleteObjects call of one key failed");
                let code = match &error {
                    StorageError::Backend { code, .. } => code.clone(),
                    _ => "RequestFailed".to_owned(),
                };
                outcome.errors.push(KeyFailure {
                    key: key.clone(),
                    code,
                    message: "the object store could not delete this key".to_owned(),
                });
            }
        }
    }
    outcome
}

fn merge(
    results: Vec<(&[String], Result<DeleteOutcome, StorageError>)>,
) -> Result<DeleteOutcome, StorageError> {
    let mut outcome = DeleteOutcome::default();
    let mut failed = Vec::new();
    let mut any_succeeded = false;
    for (chunk, result) in results {
        match result {
            Ok(part) => {
                any_succeeded = true;
                outcome.deleted.extend(part.deleted);
                outcome.errors.extend(part.errors);
            }
            Err(error) => {
                // S3's code says what kind of failure it was; its message may name the real
                // bucket, so it stays in the log.
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
                failed.push((chunk.len(), error));
            }
        }
    }
    // When every chunk failed the request fails with the first cause, which the HTTP layer
    // logs; every other cause is logged here, since no error carries it further.
    let mut failed = failed.into_iter();
    let request_error = if any_succeeded { None } else { failed.next() };
    for (keys, error) in failed {
        tracing::error!(error = %ErrorChain(&error), keys, "a DeleteObjects call failed");
    }
    match request_error {
        Some((_, error)) => Err(error),
        None => Ok(outcome),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("k{i}")).collect()
    }

    #[test]
    fn file_keys_are_trimmed_deduplicated_and_checked() {
        let parse = KeyList::parse_comma_separated;
        assert_eq!(
            parse(" a.pdf, b/c.txt,,a.pdf ,", 10).unwrap().as_slice(),
            ["a.pdf", "b/c.txt"]
        );
        assert!(matches!(parse("", 10), Err(StorageError::NoKeys)));
        assert!(matches!(parse(" , ,", 10), Err(StorageError::NoKeys)));
        assert!(matches!(
            parse("a,b,c", 2),
            Err(StorageError::TooManyKeys { count: 3, max: 2 })
        ));
        assert!(matches!(
            parse("a,../etc/passwd", 10),
            Err(StorageError::InvalidKey(_))
        ));
        assert!(matches!(
            parse("a,b\u{7}", 10),
            Err(StorageError::InvalidKey(_))
        ));
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
