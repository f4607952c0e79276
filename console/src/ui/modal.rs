//! Drawing dialogs: help, delete confirmation, upload prompt, filter, payload editor.

use ratatui::Frame;
use ratatui::layout::Position;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::centered;
use crate::app::{App, Modal};

/// How many keys the delete confirmation lists before "and N more".
const SHOWN_KEYS: usize = 5;

pub fn render(app: &App, modal: &Modal, frame: &mut Frame) {
    let area = frame.area();
    match modal {
        Modal::Help => {
            let lines: Vec<Line> = app
                .keymap
                .bindings()
                .map(|(action, keys)| Line::from(format!("{keys:>18}  {}", action.describe())))
                .collect();
            let popup = centered(area, 72, lines.len() as u16 + 2);
            frame.render_widget(Clear, popup);
            frame.render_widget(
                Paragraph::new(lines).block(Block::bordered().title(" Keys (esc closes) ")),
                popup,
            );
        }
        Modal::ConfirmDelete { alias, keys } => {
            let mut lines = vec![
                Line::from(format!("Delete {} object(s) from {alias}?", keys.len())).bold(),
                Line::from(""),
            ];
            lines.extend(
                keys.iter()
                    .take(SHOWN_KEYS)
                    .map(|k| Line::from(format!("  {k}"))),
            );
            if keys.len() > SHOWN_KEYS {
                lines.push(Line::from(format!(
                    "  … and {} more",
                    keys.len() - SHOWN_KEYS
                )));
            }
            lines.push(Line::from(""));
            lines.push(Line::from("y delete · n / esc keep"));
            let popup = centered(area, 60, lines.len() as u16 + 2);
            frame.render_widget(Clear, popup);
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .block(Block::bordered().title(" Confirm delete ").red()),
                popup,
            );
        }
        Modal::UploadPrompt { input, candidates } => {
            let mut lines = vec![Line::from(input.text.clone())];
            if !candidates.is_empty() {
                lines.push(Line::from(candidates.join("  ")).dark_gray());
            }
            lines.push(Line::from("tab complete · enter upload · esc cancel").dark_gray());
            let popup = centered(area, 70, lines.len() as u16 + 2);
            frame.render_widget(Clear, popup);
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .block(Block::bordered().title(" Upload local file ")),
                popup,
            );
            frame.set_cursor_position(Position::new(
                popup.x + 1 + input.cursor as u16,
                popup.y + 1,
            ));
        }
        Modal::Filter { input } => {
            let popup = centered(area, 50, 3);
            frame.render_widget(Clear, popup);
            frame.render_widget(
                Paragraph::new(input.text.clone()).block(Block::bordered().title(" Filter ")),
                popup,
            );
            frame.set_cursor_position(Position::new(
                popup.x + 1 + input.cursor as u16,
                popup.y + 1,
            ));
        }
        Modal::Payload {
            trigger,
            editor,
            error,
        } => {
            let mut lines: Vec<Line> = editor.lines.iter().map(|l| Line::from(l.clone())).collect();
            lines.push(Line::from(""));
            match error {
                Some(error) => lines.push(Line::from(error.clone()).red()),
                None => lines.push(Line::from("ctrl-s send · esc cancel").dark_gray()),
            }
            let height = (lines.len() as u16 + 2).max(8);
            let popup = centered(area, 64, height);
            frame.render_widget(Clear, popup);
            frame.render_widget(
                Paragraph::new(lines)
                    .block(Block::bordered().title(format!(" Payload for {trigger} (JSON) "))),
                popup,
            );
            let (row, column) = editor.cursor;
            frame.set_cursor_position(Position::new(
                popup.x + 1 + column as u16,
                popup.y + 1 + row as u16,
            ));
        }
    }
}
