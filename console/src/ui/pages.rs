//! Drawing each page's body.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Text};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState, Wrap};

use crate::model::human_size;
use crate::pages::browse::Row as BrowseRow;
use crate::pages::{ActivityPage, BrowsePage, BucketsPage, TriggersPage};

fn highlight() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

fn render_table(frame: &mut Frame, area: Rect, table: Table<'_>, selected: usize, has_rows: bool) {
    let mut state = TableState::default().with_selected(has_rows.then_some(selected));
    frame.render_stateful_widget(table.row_highlight_style(highlight()), area, &mut state);
}

pub fn buckets(page: &BucketsPage, frame: &mut Frame, area: Rect) {
    let title = if page.loading {
        " Buckets (loading…) "
    } else {
        " Buckets "
    };
    let rows = page.buckets.iter().map(|bucket| {
        Row::new(vec![
            Cell::from(bucket.alias.clone()),
            Cell::from(bucket.region.clone()),
            Cell::from(if bucket.is_default { "default" } else { "" }),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Length(16),
            Constraint::Length(8),
        ],
    )
    .header(Row::new(["alias", "region", ""]).bold())
    .block(Block::bordered().title(title));
    render_table(
        frame,
        area,
        table,
        page.cursor.selected,
        !page.buckets.is_empty(),
    );
}

pub fn browse(page: &BrowsePage, frame: &mut Frame, area: Rect) {
    let rows = page.rows();
    let mut title = format!(
        " {}:/{} — {} of {} object(s)",
        page.alias,
        page.prefix,
        page.objects.len(),
        page.total
    );
    if page.cursor_token.is_some() {
        title.push_str(", more below");
    }
    if page.loading {
        title.push_str(", loading…");
    }
    title.push(' ');
    let table_rows = rows.iter().map(|row| match row {
        BrowseRow::Folder(prefix) => {
            let name = &prefix[page.prefix.len().min(prefix.len())..];
            Row::new(vec![
                Cell::from(" "),
                Cell::from(format!("▸ {name}")).bold(),
                Cell::from(""),
                Cell::from(""),
            ])
        }
        BrowseRow::Object(object) => {
            let name = &object.key[page.prefix.len().min(object.key.len())..];
            let mark = if page.marked.contains(&object.key) {
                "●"
            } else {
                " "
            };
            Row::new(vec![
                Cell::from(mark).red(),
                Cell::from(name.to_owned()),
                Cell::from(Text::from(human_size(object.size)).right_aligned()),
                Cell::from(short_date(&object.date)),
            ])
        }
    });
    let mut block = Block::bordered().title(title);
    if !page.filter.is_empty() {
        block = block.title_bottom(format!(" filter: {} ", page.filter));
    }
    if !page.marked.is_empty() {
        block = block.title_bottom(format!(" {} marked ", page.marked.len()));
    }
    let table = Table::new(
        table_rows,
        [
            Constraint::Length(1),
            Constraint::Fill(1),
            Constraint::Length(10),
            Constraint::Length(16),
        ],
    )
    .header(Row::new(["", "name", "      size", "modified"]).bold())
    .block(block);
    render_table(frame, area, table, page.cursor.selected, !rows.is_empty());
}

/// `2026-11-29T12:41:37.000Z` → `2026-11-29 12:41`.
fn short_date(date: &str) -> String {
    match (date.get(..10), date.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time}"),
        _ => date.to_owned(),
    }
}

pub fn triggers(page: &TriggersPage, frame: &mut Frame, area: Rect) {
    let [list, result] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
    let title = if page.loading {
        " Triggers (loading…) "
    } else {
        " Triggers "
    };
    let rows = page.triggers.iter().map(|trigger| {
        let kind = match &trigger.mode {
            Some(mode) if trigger.kind == "lambda" => format!("lambda/{mode}"),
            _ => trigger.kind.clone(),
        };
        Row::new(vec![trigger.name.clone(), kind, trigger.auth.clone()])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Length(13),
            Constraint::Length(7),
        ],
    )
    .header(Row::new(["name", "kind", "auth"]).bold())
    .block(Block::bordered().title(title));
    render_table(
        frame,
        list,
        table,
        page.cursor.selected,
        !page.triggers.is_empty(),
    );

    let mut lines: Vec<Line> = Vec::new();
    if let Some(name) = &page.pending {
        lines.push(Line::from(format!("calling {name}…")));
    } else if let Some((name, outcome)) = &page.last {
        lines.push(Line::from(format!("trigger: {name}")).bold());
        match outcome {
            Ok(outcome) => {
                let verdict = if outcome.success {
                    "success".green()
                } else {
                    "failed".red()
                };
                lines.push(Line::from(vec!["result: ".into(), verdict]));
                if let Some(code) = outcome.status_code {
                    lines.push(Line::from(format!("status: {code}")));
                }
                if let Some(error) = &outcome.function_error {
                    lines.push(Line::from(format!("function error: {error}")).red());
                }
                if let Some(arn) = &outcome.execution_arn {
                    lines.push(Line::from("execution:"));
                    lines.push(Line::from(arn.clone()));
                }
                if let Some(payload) = &outcome.payload {
                    lines.push(Line::from("payload:"));
                    let pretty = serde_json::to_string_pretty(payload).unwrap_or_default();
                    lines.extend(pretty.lines().map(|l| Line::from(l.to_owned())));
                }
            }
            Err(failure) => {
                lines.push(Line::from("result: error").red());
                lines.push(Line::from(failure.to_string()));
            }
        }
    } else {
        lines.push(Line::from("Choose a trigger and press enter to edit its payload.").dark_gray());
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" Result ")),
        result,
    );
}

pub fn activity(page: &ActivityPage, frame: &mut Frame, area: Rect) {
    let mut title = format!(" Activity — {} event(s), newest first", page.events.len());
    if page.loading {
        title.push_str(", loading…");
    }
    title.push(' ');
    let rows = page.events.iter().map(|event| {
        let outcome = if event.outcome == "ok" {
            Cell::from(event.outcome.clone()).green()
        } else {
            Cell::from(event.outcome.clone()).red()
        };
        Row::new(vec![
            Cell::from(short_date(&event.at)),
            Cell::from(event.action.clone()),
            Cell::from(event.sub.clone().unwrap_or_else(|| "-".into())),
            outcome,
            Cell::from(event.details.clone()),
        ])
    });
    let mut block = Block::bordered().title(title);
    if !page.filter.is_empty() {
        block = block.title_bottom(format!(" filter: {} ", page.filter));
    }
    let table = Table::new(
        rows,
        [
            Constraint::Length(16),
            Constraint::Length(13),
            Constraint::Length(10),
            Constraint::Length(8),
            Constraint::Fill(1),
        ],
    )
    .header(Row::new(["time", "action", "who", "outcome", "details"]).bold())
    .block(block);
    render_table(
        frame,
        area,
        table,
        page.cursor.selected,
        !page.events.is_empty(),
    );
}
