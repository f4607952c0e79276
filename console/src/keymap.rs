//! Keys to actions, from an embedded TOML file that a user file can override.

use std::collections::BTreeMap;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

/// What a key asks for, independent of which key it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    Help,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    Refresh,
    Filter,
    Mark,
    Delete,
    Upload,
    Triggers,
    Buckets,
    Activity,
    Resume,
    OpenUrl,
    Cancel,
}

impl Action {
    /// What the help screen says the action does.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "show or hide this help",
            Action::Up => "move up",
            Action::Down => "move down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "first item",
            Action::Bottom => "last item",
            Action::Open => "open bucket or folder / edit trigger payload",
            Action::Back => "up one folder",
            Action::Refresh => "reload",
            Action::Filter => "filter the list",
            Action::Mark => "mark object for deletion",
            Action::Delete => "delete marked (or current) objects",
            Action::Upload => "upload a local file here",
            Action::Triggers => "triggers",
            Action::Buckets => "buckets",
            Action::Activity => "activity: the audit trail",
            Action::Resume => "resume the unfinished uploads of an earlier run",
            Action::OpenUrl => "presigned download URL of the current object, to the clipboard",
            Action::Cancel => "close / cancel upload / dismiss message",
        }
    }
}

/// The built-in keymap.
pub const DEFAULT_KEYMAP: &str = include_str!("keymap.toml");

/// A key as written in the keymap file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum KeymapError {
    #[error("keymap is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("unknown key `{0}` in keymap")]
    UnknownKey(String),
    #[error("cannot read keymap {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

/// Keys to actions.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: BTreeMap<Action, Vec<Key>>,
}

impl Default for Keymap {
    fn default() -> Self {
        Self::parse(DEFAULT_KEYMAP).expect("the embedded keymap is valid")
    }
}

impl Keymap {
    /// A keymap from TOML text; actions it does not name get no keys.
    pub fn parse(text: &str) -> Result<Self, KeymapError> {
        let raw: BTreeMap<Action, Vec<String>> = toml::from_str(text)?;
        let mut bindings = BTreeMap::new();
        for (action, keys) in raw {
            let keys = keys
                .iter()
                .map(|k| parse_key(k).ok_or_else(|| KeymapError::UnknownKey(k.clone())))
                .collect::<Result<Vec<_>, _>>()?;
            bindings.insert(action, keys);
        }
        Ok(Self { bindings })
    }

    /// The defaults with the actions named in `path` replaced.
    pub fn with_overrides(path: &Path) -> Result<Self, KeymapError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeymapError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut keymap = Self::default();
        keymap.bindings.extend(Self::parse(&text)?.bindings);
        Ok(keymap)
    }

    /// The action bound to `event`, if any.
    pub fn action(&self, event: &KeyEvent) -> Option<Action> {
        let key = Key {
            code: event.code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
        };
        self.bindings
            .iter()
            .find(|(_, keys)| keys.contains(&key))
            .map(|(action, _)| *action)
    }

    /// Every binding, for the help screen.
    pub fn bindings(&self) -> impl Iterator<Item = (Action, String)> + '_ {
        self.bindings.iter().map(|(action, keys)| {
            let names: Vec<String> = keys.iter().map(key_name).collect();
            (*action, names.join(", "))
        })
    }

    /// The first key of `action`, for hints.
    pub fn hint(&self, action: Action) -> String {
        self.bindings
            .get(&action)
            .and_then(|keys| keys.first())
            .map(key_name)
            .unwrap_or_else(|| "(unbound)".into())
    }
}

fn parse_key(text: &str) -> Option<Key> {
    let (ctrl, name) = match text.strip_prefix("ctrl-") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let code = match name {
        "enter" => KeyCode::Enter,
        "esc" => KeyCode::Esc,
        "backspace" => KeyCode::Backspace,
        "tab" => KeyCode::Tab,
        "space" => KeyCode::Char(' '),
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pageup" => KeyCode::PageUp,
        "pagedown" => KeyCode::PageDown,
        "delete" => KeyCode::Delete,
        f if f.len() > 1 && f.starts_with('f') => KeyCode::F(f[1..].parse().ok()?),
        c if c.chars().count() == 1 => KeyCode::Char(c.chars().next()?),
        _ => return None,
    };
    Some(Key { code, ctrl })
}

fn key_name(key: &Key) -> String {
    let name = match key.code {
        KeyCode::Enter => "enter".into(),
        KeyCode::Esc => "esc".into(),
        KeyCode::Backspace => "backspace".into(),
        KeyCode::Tab => "tab".into(),
        KeyCode::Char(' ') => "space".into(),
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        KeyCode::Left => "←".into(),
        KeyCode::Right => "→".into(),
        KeyCode::Home => "home".into(),
        KeyCode::End => "end".into(),
        KeyCode::PageUp => "pgup".into(),
        KeyCode::PageDown => "pgdn".into(),
        KeyCode::Delete => "del".into(),
        KeyCode::F(n) => format!("f{n}"),
        KeyCode::Char(c) => c.to_string(),
        other => format!("{other:?}"),
    };
    if key.ctrl {
        format!("ctrl-{name}")
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn default_keymap_maps_keys() {
        let keymap = Keymap::default();
        assert_eq!(
            keymap.action(&press(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
        assert_eq!(
            keymap.action(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            keymap.action(&press(KeyCode::Char('c'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(
            keymap.action(&press(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            keymap.action(&press(KeyCode::Enter, KeyModifiers::NONE)),
            Some(Action::Open)
        );
        assert_eq!(keymap.hint(Action::Help), "?");
    }

    #[test]
    fn a_user_file_overrides_only_what_it_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keymap.toml");
        std::fs::write(&path, "quit = [\"ctrl-q\"]\n").unwrap();
        let keymap = Keymap::with_overrides(&path).unwrap();
        assert_eq!(
            keymap.action(&press(KeyCode::Char('q'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(
            keymap.action(&press(KeyCode::Char('q'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            keymap.action(&press(KeyCode::Char('u'), KeyModifiers::NONE)),
            Some(Action::Upload)
        );
    }

    #[test]
    fn bad_keymaps_are_reported() {
        assert!(matches!(
            Keymap::parse("quit = [\"hyper-x\"]"),
            Err(KeymapError::UnknownKey(_))
        ));
        assert!(matches!(
            Keymap::parse("fly = [\"f\"]"),
            Err(KeymapError::Toml(_))
        ));
    }
}
