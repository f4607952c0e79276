//! The console's pages. Each holds its own state and handles its own loads; `App` routes
//! keys and messages to the page on screen.

pub mod browse;
pub mod buckets;
pub mod triggers;

pub use browse::BrowsePage;
pub use buckets::BucketsPage;
pub use triggers::TriggersPage;

/// Which page is on screen. Buckets and triggers stay loaded in `App` while browsing.
#[derive(Debug)]
pub enum Page {
    Buckets,
    Browse(BrowsePage),
    Triggers,
}

/// A cursor over a list of `len` rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    pub selected: usize,
}

/// Rows a page key moves.
pub const PAGE_ROWS: usize = 10;

impl Cursor {
    pub fn up(&mut self, by: usize) {
        self.selected = self.selected.saturating_sub(by);
    }

    pub fn down(&mut self, by: usize, len: usize) {
        self.selected = (self.selected + by).min(len.saturating_sub(1));
    }

    pub fn bottom(&mut self, len: usize) {
        self.selected = len.saturating_sub(1);
    }

    pub fn clamp(&mut self, len: usize) {
        self.selected = self.selected.min(len.saturating_sub(1));
    }
}
