//! What the file operations answer with.

use poem_openapi::{ApiResponse, Object};

use crate::http::{Data, JsonAnswer};
use crate::storage::listing::ListingPage;
use crate::storage::model::{DeleteOutcome, KeyFailure, ObjectSummary};

/// One object in a listing.
#[derive(Debug, Object, serde::Serialize)]
pub struct ListedFile {
    /// The full object key.
    pub key: String,
    /// When it was last written: RFC 3339 UTC with milliseconds, as S3 reports it.
    pub date: String,
    /// Size in bytes.
    pub size: u64,
}

impl From<ObjectSummary> for ListedFile {
    fn from(object: ObjectSummary) -> Self {
        Self {
            date: humantime::format_rfc3339_millis(object.last_modified).to_string(),
            key: object.key,
            size: object.size,
        }
    }
}

/// One page of a newest-first listing.
#[derive(Debug, Object, serde::Serialize)]
pub struct FilePage {
    /// The objects of this page, newest first.
    pub items: Vec<ListedFile>,
    /// Objects in the whole listing (at most `list.max_keys`).
    pub total: u64,
    /// 1-based number of this page for the requested `limit`.
    pub page: u64,
    /// Pass as `cursor` to get the page after this one; stable while objects are added.
    /// Absent (never null) on the last page.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// With `delimiter=/`: the sub-prefixes (folders) directly under `prefix`, each ending
    /// in `/`, by name, all of them on every page. Empty without a delimiter.
    pub folders: Vec<String>,
}

impl From<ListingPage> for FilePage {
    fn from(page: ListingPage) -> Self {
        Self {
            items: page.items.into_iter().map(ListedFile::from).collect(),
            total: page.total as u64,
            page: page.number as u64,
            cursor: page.cursor,
            folders: page.folders,
        }
    }
}

/// The body of `POST /files/delete`.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct DeleteRequest {
    /// Bucket alias (default: the configured default alias).
    pub bucket_name: Option<String>,
    /// The object keys, exactly as stored: not trimmed or split, so commas and spaces are
    /// part of a key.
    pub keys: Vec<String>,
}

/// The outcome of a batch delete.
#[derive(Debug, Object)]
pub struct DeleteReport {
    /// Keys S3 confirmed deleted (deleting a key that does not exist succeeds, as in S3).
    pub deleted: Vec<String>,
    /// Keys that were not deleted, with S3's reason.
    pub errors: Vec<DeleteFailure>,
}

/// A key that was not deleted.
#[derive(Debug, Object)]
pub struct DeleteFailure {
    /// The key, as it was asked for.
    pub key: String,
    /// S3's error code, such as `AccessDenied`; `RequestFailed` when the store was
    /// unreachable for this key's batch. S3's, not one of Hoist's error codes.
    pub code: String,
    /// S3's message.
    pub message: String,
}

impl From<DeleteOutcome> for DeleteReport {
    fn from(outcome: DeleteOutcome) -> Self {
        Self {
            deleted: outcome.deleted,
            errors: outcome
                .errors
                .into_iter()
                .map(|KeyFailure { key, code, message }| DeleteFailure { key, code, message })
                .collect(),
        }
    }
}

/// `GET /files/list`'s answer.
#[derive(Debug, ApiResponse)]
pub enum ListResponse {
    /// The objects under the prefix, newest first.
    #[oai(status = 200)]
    Ok(
        JsonAnswer<Data<Vec<ListedFile>>>,
        /// `true` when the prefix holds more objects than `list.max_keys`: then only the
        /// first `max_keys` keys in S3's lexical order were read and sorted.
        #[oai(header = "x-truncated")]
        bool,
    ),
}

/// `GET /files/list/data`'s answer.
#[derive(Debug, ApiResponse)]
pub enum PageResponse {
    /// One page of the objects under the prefix, newest first.
    #[oai(status = 200)]
    Ok(
        JsonAnswer<Data<FilePage>>,
        /// `true` when the prefix holds more objects than `list.max_keys` (see
        /// `GET /files/list`).
        #[oai(header = "x-truncated")]
        bool,
    ),
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use poem_openapi::types::ToJSON;

    use super::*;

    /// The listings are written by serde (`JsonAnswer`) and documented by poem-openapi: both
    /// derives must give the same JSON, or the wire leaves the spec.
    #[test]
    fn serde_writes_the_listings_as_their_schema_says() {
        let object = |key: &str, millis| ObjectSummary {
            key: key.into(),
            last_modified: SystemTime::UNIX_EPOCH + Duration::from_millis(millis),
            size: 7,
        };
        let list = Data {
            data: vec![
                ListedFile::from(object("a/\"quoted\".txt", 1_700_000_000_123)),
                ListedFile::from(object("a/é.txt", 1)),
            ],
        };
        assert_eq!(
            serde_json::to_value(&list).unwrap(),
            list.to_json().unwrap()
        );
        for cursor in [Some("Yz".to_owned()), None] {
            let page = Data {
                data: FilePage::from(ListingPage {
                    items: vec![object("p/x", 5)],
                    total: 3,
                    number: 2,
                    cursor,
                    folders: vec!["p/sub/".into()],
                    truncated: false,
                }),
            };
            assert_eq!(
                serde_json::to_value(&page).unwrap(),
                page.to_json().unwrap()
            );
        }
    }
}
