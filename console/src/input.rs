//! Text entry: a one-line input with path completion, and a small multi-line editor for JSON
//! payloads.

use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key did to an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputOutcome {
    /// The text changed or the cursor moved.
    Edited,
    /// Enter (single line) or Ctrl-S (editor): take the text.
    Submitted,
    /// Esc: drop it.
    Cancelled,
    /// Tab: the caller may complete.
    CompleteRequested,
    Ignored,
}

/// A one-line text input; the cursor is a char index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineInput {
    pub text: String,
    pub cursor: usize,
}

impl LineInput {
    pub fn with_text(text: impl Into<String>) -> Self {
        let text = text.into();
        Self {
            cursor: text.chars().count(),
            text,
        }
    }

    pub fn handle(&mut self, key: &KeyEvent) -> InputOutcome {
        match key.code {
            KeyCode::Enter => InputOutcome::Submitted,
            KeyCode::Esc => InputOutcome::Cancelled,
            KeyCode::Tab => InputOutcome::CompleteRequested,
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.text.clear();
                self.cursor = 0;
                InputOutcome::Edited
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                let at = self.byte_index();
                self.text.insert(at, c);
                self.cursor += 1;
                InputOutcome::Edited
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte_index();
                self.text.remove(at);
                InputOutcome::Edited
            }
            KeyCode::Delete if self.cursor < self.text.chars().count() => {
                let at = self.byte_index();
                self.text.remove(at);
                InputOutcome::Edited
            }
            KeyCode::Left if self.cursor > 0 => {
                self.cursor -= 1;
                InputOutcome::Edited
            }
            KeyCode::Right if self.cursor < self.text.chars().count() => {
                self.cursor += 1;
                InputOutcome::Edited
            }
            KeyCode::Home => {
                self.cursor = 0;
                InputOutcome::Edited
            }
            KeyCode::End => {
                self.cursor = self.text.chars().count();
                InputOutcome::Edited
            }
            _ => InputOutcome::Ignored,
        }
    }

    fn byte_index(&self) -> usize {
        self.text
            .char_indices()
            .nth(self.cursor)
            .map_or(self.text.len(), |(i, _)| i)
    }

    /// Completes the text as a local path: to the one match, or to the longest common
    /// prefix of several. Returns the candidates when there are several.
    pub fn complete_path(&mut self) -> Vec<String> {
        let (dir, partial) = match self.text.rfind('/') {
            Some(i) => (&self.text[..=i], &self.text[i + 1..]),
            None => ("", self.text.as_str()),
        };
        let read_from = if dir.is_empty() {
            Path::new(".")
        } else {
            Path::new(dir)
        };
        let Ok(entries) = std::fs::read_dir(read_from) else {
            return Vec::new();
        };
        let mut matches: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                if !name.starts_with(partial) || (partial.is_empty() && name.starts_with('.')) {
                    return None;
                }
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                Some(if is_dir { format!("{name}/") } else { name })
            })
            .collect();
        matches.sort();
        let completion = match matches.as_slice() {
            [] => return Vec::new(),
            [one] => one.clone(),
            several => common_prefix(several),
        };
        *self = Self::with_text(format!("{dir}{completion}"));
        if matches.len() > 1 {
            matches
        } else {
            Vec::new()
        }
    }
}

fn common_prefix(names: &[String]) -> String {
    let first = &names[0];
    let mut end = first.len();
    for name in &names[1..] {
        end = end.min(
            first
                .char_indices()
                .zip(name.chars())
                .find(|((_, a), b)| a != b)
                .map_or(first.len().min(name.len()), |((i, _), _)| i),
        );
    }
    first[..end].to_owned()
}

/// A small multi-line editor: type, Enter for a new line, arrows, Backspace; Ctrl-S submits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Editor {
    pub lines: Vec<String>,
    /// (line, char column)
    pub cursor: (usize, usize),
}

impl Editor {
    pub fn new(text: &str) -> Self {
        let lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
        let last = lines.len() - 1;
        let column = lines[last].chars().count();
        Self {
            lines,
            cursor: (last, column),
        }
    }

    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    pub fn handle(&mut self, key: &KeyEvent) -> InputOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let (row, col) = self.cursor;
        match key.code {
            KeyCode::Char('s') if ctrl => return InputOutcome::Submitted,
            KeyCode::Esc => return InputOutcome::Cancelled,
            KeyCode::Char(c) if !ctrl => {
                let at = byte_at(&self.lines[row], col);
                self.lines[row].insert(at, c);
                self.cursor.1 += 1;
            }
            KeyCode::Tab => {
                let at = byte_at(&self.lines[row], col);
                self.lines[row].insert_str(at, "  ");
                self.cursor.1 += 2;
            }
            KeyCode::Enter => {
                let at = byte_at(&self.lines[row], col);
                let rest = self.lines[row].split_off(at);
                self.lines.insert(row + 1, rest);
                self.cursor = (row + 1, 0);
            }
            KeyCode::Backspace if col > 0 => {
                let at = byte_at(&self.lines[row], col - 1);
                self.lines[row].remove(at);
                self.cursor.1 -= 1;
            }
            KeyCode::Backspace if row > 0 => {
                let line = self.lines.remove(row);
                let previous = &mut self.lines[row - 1];
                let column = previous.chars().count();
                previous.push_str(&line);
                self.cursor = (row - 1, column);
            }
            KeyCode::Left if col > 0 => self.cursor.1 -= 1,
            KeyCode::Right if col < self.lines[row].chars().count() => self.cursor.1 += 1,
            KeyCode::Up if row > 0 => {
                self.cursor = (row - 1, col.min(self.lines[row - 1].chars().count()));
            }
            KeyCode::Down if row + 1 < self.lines.len() => {
                self.cursor = (row + 1, col.min(self.lines[row + 1].chars().count()));
            }
            _ => return InputOutcome::Ignored,
        }
        InputOutcome::Edited
    }
}

fn byte_at(line: &str, column: usize) -> usize {
    line.char_indices()
        .nth(column)
        .map_or(line.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn line_input_edits_at_the_cursor() {
        let mut input = LineInput::with_text("héllo");
        input.handle(&key(KeyCode::Left));
        input.handle(&key(KeyCode::Backspace));
        input.handle(&key(KeyCode::Char('L')));
        assert_eq!(input.text, "hélLo");
        assert_eq!(input.handle(&key(KeyCode::Enter)), InputOutcome::Submitted);
    }

    #[test]
    fn paths_complete_to_one_match_or_the_common_prefix() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("report-2024.pdf"), b"x").unwrap();
        std::fs::write(dir.path().join("report-2025.pdf"), b"x").unwrap();
        std::fs::create_dir(dir.path().join("photos")).unwrap();
        let base = format!("{}/", dir.path().display());

        let mut input = LineInput::with_text(format!("{base}ph"));
        assert!(input.complete_path().is_empty());
        assert_eq!(input.text, format!("{base}photos/"));

        let mut input = LineInput::with_text(format!("{base}rep"));
        let candidates = input.complete_path();
        assert_eq!(candidates, ["report-2024.pdf", "report-2025.pdf"]);
        assert_eq!(input.text, format!("{base}report-202"));
    }

    #[test]
    fn editor_handles_lines() {
        let mut editor = Editor::new("{}");
        editor.handle(&key(KeyCode::Left));
        editor.handle(&key(KeyCode::Enter));
        for c in "\"a\": 1".chars() {
            editor.handle(&key(KeyCode::Char(c)));
        }
        editor.handle(&key(KeyCode::Enter));
        assert_eq!(editor.text(), "{\n\"a\": 1\n}");
        editor.handle(&key(KeyCode::Backspace));
        assert_eq!(editor.text(), "{\n\"a\": 1}");
        let save = KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL);
        assert_eq!(editor.handle(&save), InputOutcome::Submitted);
    }
}
