//! The console's pages. Each holds its own state and handles its own loads; `App` routes
//! keys and messages to the page on screen.

pub mod activity;
pub mod browse;
pub mod buckets;
pub mod triggers;

pub use activity::ActivityPage;
pub use browse::BrowsePage;
pub use buckets::BucketsPage;
pub use triggers::TriggersPage;

use crate::keymap::Action;

/// Which page is on screen. Buckets and triggers stay loaded in `App` while browsing.
#[derive(Debug)]
pub enum Page {
    Buckets,
    Browse(BrowsePage),
    Triggers,
    Activity,
}

/// A cursor over a list of `len` rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    pub selected: usize,
}

/// Rows a page key moves.
pub const PAGE_ROWS: usize = 10;

impl Cursor {
    /// Moves for a navigation action over `len` rows; false when `action` is not one.
    pub fn navigate(&mut self, action: Action, len: usize) -> bool {
        match action {
            Action::Up => self.up(1),
            Action::Down => self.down(1, len),
            Action::PageUp => self.up(PAGE_ROWS),
            Action::PageDown => self.down(PAGE_ROWS, len),
            Action::Top => self.selected = 0,
            Action::Bottom => self.bottom(len),
            _ => return false,
        }
        true
    }

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
