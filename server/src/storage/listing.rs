//! Newest-first listings, the `list` and `page` services of a [`Bucket`]. S3 lists keys only in
//! lexical order, so Hoist reads the whole prefix (up to `list.max_keys`), sorts it by
//! LastModified, and pages through the sorted result by offset or by an opaque cursor that
//! stays stable while objects are added.

use std::cmp::{Ordering, Reverse};
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::model::ObjectSummary;
use super::s3::S3Bucket;
use super::{Bucket, StorageError, keys};
use crate::config::ListSettings;

/// What a client asks of one page: everything optional, as the query string gives it.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// Key prefix (a folder), normalized; the whole bucket when absent.
    pub prefix: Option<String>,
    /// Page size, 1 to `list.max_limit`; `list.default_limit` when absent.
    pub limit: Option<u32>,
    /// Objects to skip; not together with `cursor`.
    pub offset: Option<u64>,
    /// The `cursor` of the previous page.
    pub cursor: Option<String>,
    /// `/` for a one-level listing; no other delimiter is accepted.
    pub delimiter: Option<String>,
}

/// One page of a newest-first listing, with what a client needs to fetch the next.
#[derive(Debug, Clone)]
pub struct ListingPage {
    /// The objects of this page, newest first.
    pub items: Vec<ObjectSummary>,
    /// Objects in the whole listing (at most `list.max_keys`).
    pub total: usize,
    /// 1-based number of this page for the requested limit.
    pub number: usize,
    /// Where the next page starts, encoded for the client; `None` on the last page.
    pub cursor: Option<String>,
    /// Sub-prefixes of a one-level listing, by name, on every page.
    pub folders: Vec<String>,
    /// The listing stopped at `list.max_keys` (see [`Listing::truncated`]).
    pub truncated: bool,
}

impl Bucket {
    /// Every object under `prefix` (normalized first), newest first, up to `list.max_keys`.
    pub async fn list(
        &self,
        prefix: &str,
        settings: &ListSettings,
    ) -> Result<Listing, StorageError> {
        let prefix = keys::normalize_prefix(prefix)?;
        Listing::newest_first(&self.store, &prefix, settings.max_keys).await
    }

    /// One page of the newest-first listing: the limit checked against `list.max_limit`, the
    /// start taken from the offset or the cursor (never both), flat or one level deep.
    pub async fn page(
        &self,
        request: PageRequest,
        settings: &ListSettings,
    ) -> Result<ListingPage, StorageError> {
        let limit = request.limit.unwrap_or(settings.default_limit);
        if limit == 0 || limit > settings.max_limit {
            return Err(StorageError::InvalidLimit {
                max: settings.max_limit,
            });
        }
        let limit = limit as usize;
        let prefix = keys::normalize_prefix(request.prefix.as_deref().unwrap_or_default())?;
        let start = match (request.cursor, request.offset) {
            (Some(_), Some(_)) => return Err(StorageError::OffsetAndCursor),
            (Some(cursor), None) => {
                PageStart::After(Cursor::decode(&cursor, &self.alias, &prefix)?)
            }
            (None, offset) => {
                PageStart::Offset(usize::try_from(offset.unwrap_or(0)).unwrap_or(usize::MAX))
            }
        };
        let listing = match request.delimiter.as_deref() {
            None => Listing::newest_first(&self.store, &prefix, settings.max_keys).await?,
            Some("/") => Listing::one_level(&self.store, &prefix, settings.max_keys).await?,
            Some(_) => return Err(StorageError::UnsupportedDelimiter),
        };
        let page = listing.page(&start, limit, &self.alias, &prefix);
        Ok(ListingPage {
            items: page.items.to_vec(),
            total: listing.objects.len(),
            number: page.first_index / limit + 1,
            cursor: page.next.as_ref().map(Cursor::encode),
            folders: listing.folders.clone(),
            truncated: listing.truncated,
        })
    }
}

/// Every object under a prefix, newest first.
#[derive(Debug, Clone)]
pub struct Listing {
    pub objects: Vec<ObjectSummary>,
    /// Sub-prefixes of a one-level listing, each ending in `/`; empty for a flat one.
    pub folders: Vec<String>,
    /// More objects exist than `list.max_keys` allowed reading; the listing holds the first
    /// `max_keys` keys in S3's lexical order, sorted, not the newest of the whole prefix.
    pub truncated: bool,
}

/// Where a page starts.
#[derive(Debug, Clone)]
pub enum PageStart {
    /// This many objects of the listing are skipped.
    Offset(usize),
    /// The page starts right after the object the cursor names.
    After(Cursor),
}

/// One page of a listing.
#[derive(Debug)]
pub struct Page<'a> {
    pub items: &'a [ObjectSummary],
    /// Index of the first item in the whole listing.
    pub first_index: usize,
    /// Where the next page starts, when there is one.
    pub next: Option<Cursor>,
}

impl Listing {
    /// Reads up to `max_keys` objects under `prefix` and sorts them newest first.
    async fn newest_first(
        bucket: &S3Bucket,
        prefix: &str,
        max_keys: usize,
    ) -> Result<Self, StorageError> {
        let (mut objects, truncated) = bucket.list_objects(prefix, max_keys, None).await?;
        // Hoist's own state (tus uploads) is not the client's to see.
        objects.retain(|object| !keys::is_reserved(&object.key));
        Ok(Self::sorted(objects, truncated))
    }

    /// One level of `prefix`: the objects directly in it, newest first, and its sub-prefixes
    /// (folders), by name. `max_keys` bounds both together.
    async fn one_level(
        bucket: &S3Bucket,
        prefix: &str,
        max_keys: usize,
    ) -> Result<Self, StorageError> {
        let mut folders = Vec::new();
        let (objects, truncated) = bucket
            .list_objects(prefix, max_keys, Some(&mut folders))
            .await?;
        folders.retain(|folder| !keys::is_reserved(folder));
        folders.sort();
        Ok(Self {
            folders,
            ..Self::sorted(objects, truncated)
        })
    }

    pub fn sorted(mut objects: Vec<ObjectSummary>, truncated: bool) -> Self {
        objects.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        Self {
            objects,
            folders: Vec::new(),
            truncated,
        }
    }

    /// The page of at most `limit` objects starting at `start`. `alias` and `prefix` go into
    /// the next page's cursor so it cannot be replayed against another listing.
    pub fn page(&self, start: &PageStart, limit: usize, alias: &str, prefix: &str) -> Page<'_> {
        let first_index = match start {
            PageStart::Offset(offset) => (*offset).min(self.objects.len()),
            // Objects added since the cursor was made are newer, so they sort before it and
            // do not shift this page; objects deleted since do not matter either.
            PageStart::After(cursor) => self.objects.partition_point(|object| {
                object.sort_key().cmp(&cursor.sort_key()) != Ordering::Greater
            }),
        };
        let end = first_index.saturating_add(limit).min(self.objects.len());
        let items = &self.objects[first_index..end];
        let next = match items.last() {
            Some(last) if end < self.objects.len() => Some(Cursor {
                alias: alias.to_owned(),
                prefix: prefix.to_owned(),
                last_modified: last.last_modified,
                key: last.key.clone(),
            }),
            _ => None,
        };
        Page {
            items,
            first_index,
            next,
        }
    }
}

/// A position in a newest-first listing: the last object a page showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub alias: String,
    pub prefix: String,
    pub last_modified: SystemTime,
    pub key: String,
}

/// Version tag of the cursor encoding, so a future format can refuse old cursors cleanly.
const CURSOR_VERSION: &str = "c1";

impl Cursor {
    fn sort_key(&self) -> (Reverse<SystemTime>, &str) {
        (Reverse(self.last_modified), &self.key)
    }

    /// The cursor as clients see it: opaque, URL-safe.
    pub fn encode(&self) -> String {
        let nanos = self
            .last_modified
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        // The key comes last: it is the only part that may contain the separator.
        URL_SAFE_NO_PAD.encode(format!(
            "{CURSOR_VERSION}\n{}\n{}\n{nanos}\n{}",
            self.alias, self.prefix, self.key
        ))
    }

    /// Decodes a cursor and checks that it belongs to the listing of `alias` and `prefix`.
    pub fn decode(text: &str, alias: &str, prefix: &str) -> Result<Self, StorageError> {
        let invalid = |why: &str| StorageError::InvalidCursor(why.to_owned());
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| invalid("not a cursor this server issued"))?;
        let text =
            String::from_utf8(bytes).map_err(|_| invalid("not a cursor this server issued"))?;
        let mut fields = text.splitn(5, '\n');
        let (Some(CURSOR_VERSION), Some(cursor_alias), Some(cursor_prefix), Some(nanos), Some(key)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return Err(invalid("not a cursor this server issued"));
        };
        if cursor_alias != alias || cursor_prefix != prefix {
            return Err(invalid(
                "the cursor belongs to another bucketName or prefix",
            ));
        }
        let nanos: u64 = nanos
            .parse()
            .map_err(|_| invalid("not a cursor this server issued"))?;
        Ok(Self {
            alias: alias.to_owned(),
            prefix: prefix.to_owned(),
            last_modified: SystemTime::UNIX_EPOCH + Duration::from_nanos(nanos),
            key: key.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(millis: u64, key: &str) -> ObjectSummary {
        ObjectSummary {
            key: key.into(),
            last_modified: SystemTime::UNIX_EPOCH + Duration::from_millis(millis),
            size: 1,
        }
    }

    fn keys(items: &[ObjectSummary]) -> Vec<&str> {
        items.iter().map(|o| o.key.as_str()).collect()
    }

    #[test]
    fn newest_first_then_by_key() {
        let listing = Listing::sorted(
            vec![at(1, "old"), at(3, "b"), at(3, "a"), at(2, "mid")],
            false,
        );
        assert_eq!(keys(&listing.objects), ["a", "b", "mid", "old"]);
    }

    #[test]
    fn offset_pages_cover_the_listing() {
        let listing = Listing::sorted((0..7).map(|i| at(i, &format!("k{i}"))).collect(), false);
        let first = listing.page(&PageStart::Offset(0), 3, "u", "p/");
        assert_eq!(keys(first.items), ["k6", "k5", "k4"]);
        assert!(first.next.is_some());
        let last = listing.page(&PageStart::Offset(6), 3, "u", "p/");
        assert_eq!(keys(last.items), ["k0"]);
        assert_eq!(last.first_index, 6);
        assert!(last.next.is_none(), "no cursor after the last page");
        let beyond = listing.page(&PageStart::Offset(100), 3, "u", "p/");
        assert!(beyond.items.is_empty());
    }

    #[test]
    fn a_cursor_page_is_not_shifted_by_newer_objects() {
        let before = Listing::sorted((0..6).map(|i| at(i, &format!("k{i}"))).collect(), false);
        let cursor = before.page(&PageStart::Offset(0), 2, "u", "").next.unwrap();
        let mut objects = before.objects.clone();
        objects.push(at(100, "new-1"));
        objects.push(at(101, "new-2"));
        let after = Listing::sorted(objects, false);
        let page = after.page(&PageStart::After(cursor.clone()), 2, "u", "");
        assert_eq!(keys(page.items), ["k3", "k2"]);
        assert_eq!(page.first_index, 4, "two newer objects now come first");
        // An offset page at the same place would repeat k4 and k5.
        let shifted = after.page(&PageStart::Offset(2), 2, "u", "");
        assert_eq!(keys(shifted.items), ["k5", "k4"]);
    }

    #[test]
    fn cursor_ties_on_the_date_continue_by_key() {
        let listing = Listing::sorted(vec![at(5, "a"), at(5, "b"), at(5, "c")], false);
        let cursor = listing
            .page(&PageStart::Offset(0), 1, "u", "")
            .next
            .unwrap();
        let page = listing.page(&PageStart::After(cursor), 5, "u", "");
        assert_eq!(keys(page.items), ["b", "c"]);
    }

    #[test]
    fn cursors_round_trip_and_refuse_tampering() {
        let cursor = Cursor {
            alias: "uploads".into(),
            prefix: "reports/".into(),
            last_modified: SystemTime::UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_000_000),
            key: "reports/odd\nname.pdf".into(),
        };
        let text = cursor.encode();
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(
            Cursor::decode(&text, "uploads", "reports/").unwrap(),
            cursor
        );
        assert!(matches!(
            Cursor::decode(&text, "images", "reports/"),
            Err(StorageError::InvalidCursor(_))
        ));
        assert!(matches!(
            Cursor::decode(&text, "uploads", "other/"),
            Err(StorageError::InvalidCursor(_))
        ));
        for bad in ["", "!!!", "bm9wZQ", &text[..text.len() - 3]] {
            assert!(
                Cursor::decode(bad, "uploads", "reports/").is_err(),
                "{bad:?}"
            );
        }
    }
}
