//! Browsing one alias: folders (prefixes) and objects newest first, paged, filterable, with
//! marks for deletion.

use std::collections::BTreeSet;

use super::Cursor;
use crate::keymap::Action;
use crate::model::{Listing, ObjectEntry};
use crate::msg::Command;

#[derive(Debug)]
pub struct BrowsePage {
    pub alias: String,
    /// Normalized: empty or ending in `/`.
    pub prefix: String,
    pub folders: Vec<String>,
    pub objects: Vec<ObjectEntry>,
    pub total: u64,
    pub cursor_token: Option<String>,
    pub loading: bool,
    pub cursor: Cursor,
    pub marked: BTreeSet<String>,
    pub filter: String,
}

/// A visible row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row<'a> {
    /// A sub-prefix, shown by its last segment.
    Folder(&'a str),
    Object(&'a ObjectEntry),
}

/// The row under the cursor, owned.
enum Selected {
    Folder(String),
    Object(String),
}

/// What a key on this page asks the app to do.
#[derive(Debug, PartialEq)]
pub enum BrowseEffect {
    None,
    Command(Command),
    /// Leave to the bucket list.
    LeaveBucket,
    /// Ask to delete these keys.
    ConfirmDelete(Vec<String>),
}

impl BrowsePage {
    /// A page for `alias` at `prefix`, and the command that loads it.
    pub fn open(alias: String, prefix: String) -> (Self, Command) {
        let page = Self {
            alias,
            prefix,
            folders: Vec::new(),
            objects: Vec::new(),
            total: 0,
            cursor_token: None,
            loading: true,
            cursor: Cursor::default(),
            marked: BTreeSet::new(),
            filter: String::new(),
        };
        let command = page.list(None);
        (page, command)
    }

    fn list(&self, cursor: Option<String>) -> Command {
        Command::List {
            alias: self.alias.clone(),
            prefix: self.prefix.clone(),
            cursor,
        }
    }

    /// Reloads from the first page, keeping marks that still exist.
    pub fn reload(&mut self) -> Command {
        self.loading = true;
        self.list(None)
    }

    /// Visible rows: folders then objects, narrowed by the filter (case-insensitive).
    pub fn rows(&self) -> Vec<Row<'_>> {
        let needle = self.filter.to_lowercase();
        let matches = |name: &str| needle.is_empty() || name.to_lowercase().contains(&needle);
        let folders = self
            .folders
            .iter()
            .filter(|f| matches(f))
            .map(|f| Row::Folder(f.as_str()));
        let objects = self
            .objects
            .iter()
            .filter(|o| matches(&o.key[self.prefix.len().min(o.key.len())..]))
            .map(Row::Object);
        folders.chain(objects).collect()
    }

    pub fn handle(&mut self, action: Action) -> BrowseEffect {
        let rows = self.rows();
        let len = rows.len();
        // Owned, so the page can change below.
        let current = rows.get(self.cursor.selected).map(|row| match row {
            Row::Folder(prefix) => Selected::Folder(prefix.to_string()),
            Row::Object(object) => Selected::Object(object.key.clone()),
        });
        if self.cursor.navigate(action, len) {
            // Reaching the end loads the next page, so big prefixes never load whole.
            if matches!(action, Action::Down | Action::PageDown | Action::Bottom)
                && self.cursor.selected + 1 >= len
                && !self.loading
                && let Some(token) = self.cursor_token.clone()
            {
                self.loading = true;
                return BrowseEffect::Command(self.list(Some(token)));
            }
            return BrowseEffect::None;
        }
        match action {
            Action::Open => {
                if let Some(Selected::Folder(prefix)) = current {
                    let (page, command) = Self::open(self.alias.clone(), prefix);
                    *self = page;
                    return BrowseEffect::Command(command);
                }
            }
            Action::Back => {
                if self.prefix.is_empty() {
                    return BrowseEffect::LeaveBucket;
                }
                let parent = parent_prefix(&self.prefix);
                let (page, command) = Self::open(self.alias.clone(), parent);
                *self = page;
                return BrowseEffect::Command(command);
            }
            Action::Refresh => return BrowseEffect::Command(self.reload()),
            Action::Mark => {
                if let Some(Selected::Object(key)) = current {
                    if !self.marked.remove(&key) {
                        self.marked.insert(key);
                    }
                    self.cursor.down(1, len);
                }
            }
            Action::Delete => {
                let keys: Vec<String> = if self.marked.is_empty() {
                    match current {
                        Some(Selected::Object(key)) => vec![key],
                        _ => Vec::new(),
                    }
                } else {
                    self.marked.iter().cloned().collect()
                };
                if !keys.is_empty() {
                    return BrowseEffect::ConfirmDelete(keys);
                }
            }
            _ => {}
        }
        BrowseEffect::None
    }

    pub fn loaded(&mut self, listing: Listing, append: bool) {
        self.loading = false;
        self.total = listing.total;
        self.cursor_token = listing.cursor;
        if append {
            self.objects.extend(listing.objects);
        } else {
            self.folders = listing.folders;
            self.objects = listing.objects;
            let keys: BTreeSet<&str> = self.objects.iter().map(|o| o.key.as_str()).collect();
            self.marked.retain(|k| keys.contains(k.as_str()));
        }
        self.cursor.clamp(self.rows().len());
    }

    /// Whether a key lives directly in this page's prefix.
    pub fn shows_key(&self, alias: &str, key: &str) -> bool {
        alias == self.alias && parent_prefix_of_key(key) == self.prefix
    }
}

/// `a/b/` → `a/`; `a/` → ``.
pub fn parent_prefix(prefix: &str) -> String {
    let trimmed = prefix.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(i) => trimmed[..=i].to_owned(),
        None => String::new(),
    }
}

fn parent_prefix_of_key(key: &str) -> &str {
    key.rfind('/').map_or("", |i| &key[..=i])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(key: &str) -> ObjectEntry {
        ObjectEntry {
            key: key.into(),
            size: 1,
            date: "2026-11-29T12:00:00Z".into(),
        }
    }

    fn page_with(objects: &[&str], folders: &[&str], cursor: Option<&str>) -> BrowsePage {
        let (mut page, _) = BrowsePage::open("uploads".into(), "docs/".into());
        page.loaded(
            Listing {
                folders: folders.iter().map(|f| f.to_string()).collect(),
                objects: objects.iter().map(|k| object(k)).collect(),
                total: 10,
                cursor: cursor.map(str::to_owned),
            },
            false,
        );
        page
    }

    #[test]
    fn prefixes_have_parents() {
        assert_eq!(parent_prefix("a/b/"), "a/");
        assert_eq!(parent_prefix("a/"), "");
        assert_eq!(parent_prefix(""), "");
    }

    #[test]
    fn reaching_the_end_loads_the_next_page_once() {
        let mut page = page_with(&["docs/a", "docs/b"], &[], Some("tok"));
        assert_eq!(
            page.handle(Action::Down),
            BrowseEffect::Command(Command::List {
                alias: "uploads".into(),
                prefix: "docs/".into(),
                cursor: Some("tok".into()),
            })
        );
        assert_eq!(
            page.handle(Action::Down),
            BrowseEffect::None,
            "already loading"
        );
        page.loaded(
            Listing {
                objects: vec![object("docs/c")],
                total: 10,
                ..Listing::default()
            },
            true,
        );
        assert_eq!(page.objects.len(), 3);
        assert_eq!(page.cursor_token, None);
    }

    #[test]
    fn folders_open_and_back_goes_up() {
        let mut page = page_with(&["docs/a"], &["docs/2024/"], None);
        let effect = page.handle(Action::Open);
        assert!(
            matches!(effect, BrowseEffect::Command(Command::List { ref prefix, .. }) if prefix == "docs/2024/")
        );
        assert_eq!(page.prefix, "docs/2024/");
        page.handle(Action::Back);
        assert_eq!(page.prefix, "docs/");
        page.handle(Action::Back);
        assert_eq!(page.prefix, "");
        assert_eq!(page.handle(Action::Back), BrowseEffect::LeaveBucket);
    }

    #[test]
    fn marks_choose_what_to_delete() {
        let mut page = page_with(&["docs/a", "docs/b", "docs/c"], &[], None);
        assert_eq!(
            page.handle(Action::Delete),
            BrowseEffect::ConfirmDelete(vec!["docs/a".into()])
        );
        page.handle(Action::Mark);
        page.handle(Action::Down);
        page.handle(Action::Mark);
        assert_eq!(
            page.handle(Action::Delete),
            BrowseEffect::ConfirmDelete(vec!["docs/a".into(), "docs/c".into()])
        );
    }

    #[test]
    fn filter_narrows_rows_by_name() {
        let mut page = page_with(
            &["docs/Report.pdf", "docs/photo.png"],
            &["docs/reports/"],
            None,
        );
        page.filter = "rep".into();
        let rows = page.rows();
        assert_eq!(rows.len(), 2);
        assert!(matches!(rows[0], Row::Folder("docs/reports/")));
        assert!(matches!(rows[1], Row::Object(o) if o.key == "docs/Report.pdf"));
    }
}
