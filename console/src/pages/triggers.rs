//! The triggers page: declared triggers, and the outcome of the last call.

use super::{Cursor, PAGE_ROWS};
use crate::keymap::Action;
use crate::model::{ApiFailure, TriggerEntry, TriggerOutcome};

#[derive(Debug, Default)]
pub struct TriggersPage {
    pub triggers: Vec<TriggerEntry>,
    pub cursor: Cursor,
    pub loading: bool,
    pub loaded: bool,
    /// The trigger called and not answered yet.
    pub pending: Option<String>,
    /// The last call's trigger and result.
    pub last: Option<(String, Result<TriggerOutcome, ApiFailure>)>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum TriggersEffect {
    None,
    /// Open the payload editor for this trigger.
    EditPayload(String),
    Reload,
}

impl TriggersPage {
    pub fn handle(&mut self, action: Action) -> TriggersEffect {
        let len = self.triggers.len();
        match action {
            Action::Up => self.cursor.up(1),
            Action::Down => self.cursor.down(1, len),
            Action::PageUp => self.cursor.up(PAGE_ROWS),
            Action::PageDown => self.cursor.down(PAGE_ROWS, len),
            Action::Top => self.cursor.selected = 0,
            Action::Bottom => self.cursor.bottom(len),
            Action::Open if self.pending.is_none() => {
                if let Some(trigger) = self.triggers.get(self.cursor.selected) {
                    return TriggersEffect::EditPayload(trigger.name.clone());
                }
            }
            Action::Refresh => return TriggersEffect::Reload,
            _ => {}
        }
        TriggersEffect::None
    }

    pub fn loaded(&mut self, triggers: Vec<TriggerEntry>) {
        self.loading = false;
        self.loaded = true;
        self.triggers = triggers;
        self.cursor.clamp(self.triggers.len());
    }
}
