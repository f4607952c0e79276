//! The bucket aliases page: where the console starts.

use super::Cursor;
use crate::keymap::Action;
use crate::model::BucketEntry;

#[derive(Debug, Default)]
pub struct BucketsPage {
    pub buckets: Vec<BucketEntry>,
    pub cursor: Cursor,
    pub loading: bool,
}

/// What a key on this page asks the app to do.
#[derive(Debug, PartialEq, Eq)]
pub enum BucketsEffect {
    None,
    Open(String),
    Reload,
}

impl BucketsPage {
    pub fn handle(&mut self, action: Action) -> BucketsEffect {
        if self.cursor.navigate(action, self.buckets.len()) {
            return BucketsEffect::None;
        }
        match action {
            Action::Open => {
                if let Some(bucket) = self.buckets.get(self.cursor.selected) {
                    return BucketsEffect::Open(bucket.alias.clone());
                }
            }
            Action::Refresh => return BucketsEffect::Reload,
            _ => {}
        }
        BucketsEffect::None
    }

    pub fn loaded(&mut self, buckets: Vec<BucketEntry>) {
        self.loading = false;
        // Start on the default alias: it is where most uploads go.
        self.cursor.selected = buckets.iter().position(|b| b.is_default).unwrap_or(0);
        self.buckets = buckets;
    }
}
