//! The triggers page: declared triggers, and the outcome of the last call.

use super::Cursor;
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
        if self.cursor.navigate(action, self.triggers.len()) {
            return TriggersEffect::None;
        }
        match action {
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
