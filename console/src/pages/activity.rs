//! The activity page: the newest audit events of the audit alias (deletes, trigger calls,
//! presigned URLs, dev tokens, janitor aborts), newest first, filtered on the server.

use super::Cursor;
use crate::keymap::Action;
use crate::model::AuditEntry;
use crate::msg::Command;

#[derive(Debug, Default)]
pub struct ActivityPage {
    pub events: Vec<AuditEntry>,
    pub cursor: Cursor,
    pub loading: bool,
    pub loaded: bool,
    /// Only events containing this text (empty: all).
    pub filter: String,
}

/// What a key on this page asks the app to do.
#[derive(Debug, PartialEq)]
pub enum ActivityEffect {
    None,
    Command(Command),
    /// Ask for a filter.
    EditFilter,
}

impl ActivityPage {
    pub fn handle(&mut self, action: Action) -> ActivityEffect {
        if self.cursor.navigate(action, self.events.len()) {
            return ActivityEffect::None;
        }
        match action {
            Action::Refresh => ActivityEffect::Command(self.reload()),
            Action::Filter => ActivityEffect::EditFilter,
            _ => ActivityEffect::None,
        }
    }

    /// Loads the newest events matching the filter.
    pub fn reload(&mut self) -> Command {
        self.loading = true;
        Command::LoadActivity {
            filter: self.filter.clone(),
        }
    }

    /// A new filter: the list reloads with it.
    pub fn set_filter(&mut self, filter: String) -> Command {
        self.filter = filter;
        self.cursor = Cursor::default();
        self.reload()
    }

    /// An answer; a late one for another filter is dropped.
    pub fn loaded(&mut self, filter: &str, events: Vec<AuditEntry>) {
        if filter != self.filter {
            return;
        }
        self.loading = false;
        self.loaded = true;
        self.events = events;
        self.cursor.clamp(self.events.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str) -> AuditEntry {
        AuditEntry {
            at: "2026-12-02T03:04:05.678Z".into(),
            action: action.into(),
            sub: Some("me".into()),
            client: None,
            outcome: "ok".into(),
            details: String::new(),
        }
    }

    #[test]
    fn a_filter_reloads_and_late_answers_are_dropped() {
        let mut page = ActivityPage::default();
        assert_eq!(
            page.set_filter("delete".into()),
            Command::LoadActivity {
                filter: "delete".into()
            }
        );
        page.loaded("", vec![entry("presign")]);
        assert!(page.events.is_empty(), "an answer for the old filter");
        page.loaded("delete", vec![entry("delete")]);
        assert_eq!(page.events.len(), 1);
        assert!(!page.loading);
        assert_eq!(page.handle(Action::Filter), ActivityEffect::EditFilter);
    }
}
