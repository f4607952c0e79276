//! `view`: draws the app. Pure: the same `App` always draws the same screen.

mod modal;
mod pages;

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph, Wrap};

use crate::app::{App, Status};
use crate::keymap::Action;
use crate::pages::Page;

/// Draws the whole screen.
pub fn view(app: &App, frame: &mut Frame) {
    let status_text = status_text(app);
    // Long errors wrap (up to three lines) so the code and correlation id stay visible.
    let width = frame.area().width.max(1) as usize;
    let status_height = status_text.chars().count().div_ceil(width).clamp(1, 3) as u16;
    let [header, body, progress, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(status_height),
    ])
    .areas(frame.area());
    frame.render_widget(header_line(app), header);
    match &app.page {
        Page::Buckets => pages::buckets(&app.buckets, frame, body),
        Page::Browse(page) => pages::browse(page, frame, body),
        Page::Triggers => pages::triggers(&app.triggers, frame, body),
        Page::Activity => pages::activity(&app.activity, frame, body),
    }
    render_progress(app, frame, progress);
    let status_line = Paragraph::new(status_text).wrap(Wrap { trim: false });
    let status_line = match &app.status {
        Some(Status::Error(_)) => status_line.red(),
        _ => status_line.green(),
    };
    frame.render_widget(status_line, status);
    if let Some(modal) = &app.modal {
        modal::render(app, modal, frame);
    }
}

fn header_line(app: &App) -> Paragraph<'static> {
    let place = match &app.page {
        Page::Buckets => "buckets".to_owned(),
        Page::Browse(page) => format!("{}:/{}", page.alias, page.prefix),
        Page::Triggers => "triggers".to_owned(),
        Page::Activity => "activity".to_owned(),
    };
    Paragraph::new(Line::from(vec![
        Span::styled(
            " Hoist ",
            Style::new().add_modifier(Modifier::BOLD).reversed(),
        ),
        Span::raw(format!(" {} │ {place}", app.server)),
    ]))
}

fn render_progress(app: &App, frame: &mut Frame, area: Rect) {
    match &app.uploads.active {
        Some(upload) => {
            let waiting = app.uploads.waiting.len();
            let label = if waiting > 0 {
                format!("{} (+{waiting} queued)", upload.describe())
            } else {
                upload.describe()
            };
            let gauge = Gauge::default()
                .gauge_style(Style::new().fg(Color::Cyan).bg(Color::DarkGray))
                .ratio(upload.ratio())
                .label(label);
            frame.render_widget(gauge, area);
        }
        None => {
            let k = |action| app.keymap.hint(action);
            let hints = match &app.page {
                Page::Buckets => format!(
                    "{} open · {} triggers · {} help · {} quit",
                    k(Action::Open),
                    k(Action::Triggers),
                    k(Action::Help),
                    k(Action::Quit)
                ),
                Page::Browse(_) => format!(
                    "{} upload · {} mark · {} delete · {} filter · {} back · {} help",
                    k(Action::Upload),
                    k(Action::Mark),
                    k(Action::Delete),
                    k(Action::Filter),
                    k(Action::Back),
                    k(Action::Help)
                ),
                Page::Triggers => format!(
                    "{} call · {} buckets · {} help · {} quit",
                    k(Action::Open),
                    k(Action::Buckets),
                    k(Action::Help),
                    k(Action::Quit)
                ),
                Page::Activity => format!(
                    "{} filter · {} reload · {} buckets · {} help · {} quit",
                    k(Action::Filter),
                    k(Action::Refresh),
                    k(Action::Buckets),
                    k(Action::Help),
                    k(Action::Quit)
                ),
            };
            frame.render_widget(Paragraph::new(hints).dark_gray(), area);
        }
    }
}

fn status_text(app: &App) -> String {
    match &app.status {
        Some(Status::Info(text)) => text.clone(),
        Some(Status::Error(text)) => format!("✗ {text}  [{}]", app.keymap.hint(Action::Cancel)),
        None => String::new(),
    }
}

/// A rectangle of `width` × `height` centered in `area`, shrunk to fit.
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    cell
}
