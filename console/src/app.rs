//! `App`: the console's whole state and its `update`, which turns messages into new state
//! and commands. Nothing here does I/O except reading a local file's size before upload.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};

use crate::input::{Editor, InputOutcome, LineInput};
use crate::keymap::{Action, Keymap};
use crate::model::ApiFailure;
use crate::msg::{Command, Msg};
use crate::pages::activity::ActivityEffect;
use crate::pages::browse::BrowseEffect;
use crate::pages::buckets::BucketsEffect;
use crate::pages::triggers::TriggersEffect;
use crate::pages::{ActivityPage, BrowsePage, BucketsPage, Page, TriggersPage};
use crate::uploads::UploadQueue;

/// A dialog over the page; it takes every key while open.
#[derive(Debug)]
pub enum Modal {
    Help,
    ConfirmDelete {
        alias: String,
        keys: Vec<String>,
    },
    UploadPrompt {
        input: LineInput,
        candidates: Vec<String>,
    },
    Filter {
        input: LineInput,
    },
    Payload {
        trigger: String,
        editor: Editor,
        error: Option<String>,
    },
}

/// The status line: one message until dismissed or replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Info(String),
    Error(String),
}

#[derive(Debug)]
pub struct App {
    pub server: String,
    pub keymap: Keymap,
    pub page: Page,
    pub buckets: BucketsPage,
    pub triggers: TriggersPage,
    pub activity: ActivityPage,
    pub modal: Option<Modal>,
    pub uploads: UploadQueue,
    pub status: Option<Status>,
    pub quit: bool,
    /// Unfinished uploads of an earlier run, until resumed.
    pub resumable: Vec<crate::resume::Resumable>,
    /// Text to put on the terminal's clipboard, taken by the event loop (see
    /// [`crate::clipboard`]): the terminal is the loop's, not the app's.
    pub clipboard: Option<String>,
}

impl App {
    /// A new console and the commands that load its first page.
    pub fn new(server: String, keymap: Keymap) -> (Self, Vec<Command>) {
        let app = Self {
            server,
            keymap,
            page: Page::Buckets,
            buckets: BucketsPage {
                loading: true,
                ..BucketsPage::default()
            },
            triggers: TriggersPage::default(),
            activity: ActivityPage::default(),
            modal: None,
            uploads: UploadQueue::default(),
            status: None,
            clipboard: None,
            quit: false,
            resumable: Vec::new(),
        };
        (app, vec![Command::LoadBuckets, Command::LoadResumable])
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Command> {
        match msg {
            Msg::Key(key) if key.kind != KeyEventKind::Release => self.on_key(key),
            Msg::Key(_) | Msg::Redraw => Vec::new(),
            Msg::BucketsLoaded(result) => {
                self.buckets.loading = false;
                match result {
                    Ok(buckets) => self.buckets.loaded(buckets),
                    Err(failure) => self.fail("cannot list buckets", &failure),
                }
                Vec::new()
            }
            Msg::ListingLoaded {
                alias,
                prefix,
                append,
                result,
            } => {
                let Page::Browse(page) = &mut self.page else {
                    return Vec::new();
                };
                // A late answer for a prefix we already left is dropped.
                if page.alias != alias || page.prefix != prefix {
                    return Vec::new();
                }
                match result {
                    Ok(listing) => page.loaded(listing, append),
                    Err(failure) => {
                        page.loading = false;
                        self.fail("cannot list objects", &failure);
                    }
                }
                Vec::new()
            }
            Msg::UploadProgress { id, sent, elapsed } => {
                self.uploads.progress(id, sent, elapsed);
                Vec::new()
            }
            Msg::UploadFinished { id, result } => {
                let (done, next) = self.uploads.finish(id);
                let mut commands: Vec<Command> = next.into_iter().collect();
                let Some(done) = done else {
                    return commands;
                };
                match result {
                    Ok(()) => {
                        self.status = Some(Status::Info(format!(
                            "uploaded {} to {}",
                            done.key, done.alias
                        )));
                        if let Page::Browse(page) = &mut self.page
                            && page.shows_key(&done.alias, &done.key)
                        {
                            commands.push(page.reload());
                        }
                    }
                    Err(failure) => self.fail(&format!("upload of {} failed", done.key), &failure),
                }
                commands
            }
            Msg::Deleted { alias, result } => {
                let mut commands = Vec::new();
                match result {
                    Ok(report) => {
                        self.status = Some(if report.errors.is_empty() {
                            Status::Info(format!("deleted {} object(s)", report.deleted.len()))
                        } else {
                            let (key, code, _) = &report.errors[0];
                            Status::Error(format!(
                                "deleted {}, {} failed: {key} ({code}){}",
                                report.deleted.len(),
                                report.errors.len(),
                                if report.errors.len() > 1 { ", …" } else { "" }
                            ))
                        });
                        if let Page::Browse(page) = &mut self.page
                            && page.alias == alias
                        {
                            for key in &report.deleted {
                                page.marked.remove(key);
                            }
                            commands.push(page.reload());
                        }
                    }
                    Err(failure) => self.fail("delete failed", &failure),
                }
                commands
            }
            Msg::TriggersLoaded(result) => {
                self.triggers.loading = false;
                match result {
                    Ok(triggers) => self.triggers.loaded(triggers),
                    Err(failure) => self.fail("cannot list triggers", &failure),
                }
                Vec::new()
            }
            Msg::Triggered { name, result } => {
                self.triggers.pending = None;
                if let Err(failure) = &result {
                    self.fail(&format!("trigger {name} failed"), failure);
                } else {
                    self.status = Some(Status::Info(format!("triggered {name}")));
                }
                self.triggers.last = Some((name, result));
                Vec::new()
            }
            Msg::ResumableFound(found) => {
                if !found.is_empty() {
                    self.status = Some(Status::Info(format!(
                        "{} unfinished upload(s) from an earlier run: press R to resume",
                        found.len()
                    )));
                }
                self.resumable = found;
                Vec::new()
            }
            Msg::Presigned { key, result } => {
                match result {
                    Ok((url, until)) => {
                        let copied = if crate::clipboard::fits(&url) {
                            "sent to the terminal's clipboard (OSC 52)"
                        } else {
                            "too long for the clipboard"
                        };
                        self.status = Some(Status::Info(format!(
                            "{key} (until {until}; {copied}): {url}"
                        )));
                        self.clipboard = Some(url);
                    }
                    Err(failure) => self.fail(&format!("cannot presign {key}"), &failure),
                }
                Vec::new()
            }
            Msg::ActivityLoaded { filter, result } => {
                match result {
                    Ok(events) => self.activity.loaded(&filter, events),
                    Err(failure) => {
                        self.activity.loading = false;
                        self.fail("cannot read the audit trail", &failure);
                    }
                }
                Vec::new()
            }
        }
    }

    fn fail(&mut self, what: &str, failure: &ApiFailure) {
        self.status = Some(Status::Error(format!("{what}: {failure}")));
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Command> {
        if self.modal.is_some() {
            return self.on_modal_key(key);
        }
        let Some(action) = self.keymap.action(&key) else {
            return Vec::new();
        };
        match action {
            Action::Quit => {
                self.quit = true;
                let mut commands: Vec<Command> = self.uploads.cancel().into_iter().collect();
                commands.push(Command::Quit);
                commands
            }
            Action::Help => {
                self.modal = Some(Modal::Help);
                Vec::new()
            }
            Action::Cancel => {
                if self.uploads.is_busy() {
                    let command = self.uploads.cancel();
                    self.status = Some(Status::Info("upload cancelled".into()));
                    return command.into_iter().collect();
                }
                self.status = None;
                Vec::new()
            }
            Action::Triggers => {
                self.page = Page::Triggers;
                if self.triggers.loaded || self.triggers.loading {
                    return Vec::new();
                }
                self.triggers.loading = true;
                vec![Command::LoadTriggers]
            }
            Action::Buckets => self.show_buckets(),
            Action::Resume => {
                let resumable = std::mem::take(&mut self.resumable);
                if resumable.is_empty() {
                    return Vec::new();
                }
                self.status = Some(Status::Info(format!(
                    "resuming {} upload(s)",
                    resumable.len()
                )));
                resumable
                    .into_iter()
                    .filter_map(|entry| {
                        self.uploads
                            .push(entry.alias, entry.key, entry.path, entry.size)
                    })
                    .collect()
            }
            Action::Activity => {
                self.page = Page::Activity;
                if self.activity.loaded || self.activity.loading {
                    return Vec::new();
                }
                vec![self.activity.reload()]
            }
            _ => self.on_page_action(action),
        }
    }

    fn show_buckets(&mut self) -> Vec<Command> {
        self.page = Page::Buckets;
        if self.buckets.buckets.is_empty() && !self.buckets.loading {
            self.buckets.loading = true;
            return vec![Command::LoadBuckets];
        }
        Vec::new()
    }

    fn on_page_action(&mut self, action: Action) -> Vec<Command> {
        match &mut self.page {
            Page::Buckets => match self.buckets.handle(action) {
                BucketsEffect::Open(alias) => {
                    let (page, command) = BrowsePage::open(alias, String::new());
                    self.page = Page::Browse(page);
                    vec![command]
                }
                BucketsEffect::Reload => {
                    self.buckets.loading = true;
                    vec![Command::LoadBuckets]
                }
                BucketsEffect::None => Vec::new(),
            },
            Page::Browse(page) => {
                match action {
                    Action::Upload => {
                        self.modal = Some(Modal::UploadPrompt {
                            input: LineInput::default(),
                            candidates: Vec::new(),
                        });
                        return Vec::new();
                    }
                    Action::OpenUrl => {
                        let rows = page.rows();
                        return match rows.get(page.cursor.selected) {
                            Some(crate::pages::browse::Row::Object(object)) => {
                                vec![Command::Presign {
                                    alias: page.alias.clone(),
                                    key: object.key.clone(),
                                }]
                            }
                            _ => Vec::new(),
                        };
                    }
                    Action::Filter => {
                        self.modal = Some(Modal::Filter {
                            input: LineInput::with_text(page.filter.clone()),
                        });
                        return Vec::new();
                    }
                    _ => {}
                }
                match page.handle(action) {
                    BrowseEffect::None => Vec::new(),
                    BrowseEffect::Command(command) => vec![command],
                    BrowseEffect::LeaveBucket => self.show_buckets(),
                    BrowseEffect::ConfirmDelete(keys) => {
                        self.modal = Some(Modal::ConfirmDelete {
                            alias: page.alias.clone(),
                            keys,
                        });
                        Vec::new()
                    }
                }
            }
            Page::Triggers => match self.triggers.handle(action) {
                TriggersEffect::EditPayload(trigger) => {
                    self.modal = Some(Modal::Payload {
                        trigger,
                        editor: Editor::new("{\n  \n}"),
                        error: None,
                    });
                    if let Some(Modal::Payload { editor, .. }) = &mut self.modal {
                        editor.cursor = (1, 2);
                    }
                    Vec::new()
                }
                TriggersEffect::Reload => {
                    self.triggers.loading = true;
                    vec![Command::LoadTriggers]
                }
                TriggersEffect::None => Vec::new(),
            },
            Page::Activity => match self.activity.handle(action) {
                ActivityEffect::Command(command) => vec![command],
                ActivityEffect::EditFilter => {
                    self.modal = Some(Modal::Filter {
                        input: LineInput::with_text(self.activity.filter.clone()),
                    });
                    Vec::new()
                }
                ActivityEffect::None => Vec::new(),
            },
        }
    }

    fn on_modal_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let Some(modal) = self.modal.as_mut() else {
            return Vec::new();
        };
        match modal {
            Modal::Help => {
                if matches!(key.code, KeyCode::Esc | KeyCode::Enter)
                    || self.keymap.action(&key) == Some(Action::Help)
                    || self.keymap.action(&key) == Some(Action::Quit)
                {
                    self.modal = None;
                }
                Vec::new()
            }
            Modal::ConfirmDelete { alias, keys } => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => {
                    let command = Command::Delete {
                        alias: alias.clone(),
                        keys: std::mem::take(keys),
                    };
                    self.modal = None;
                    self.status = Some(Status::Info("deleting…".into()));
                    vec![command]
                }
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                    self.modal = None;
                    Vec::new()
                }
                _ => Vec::new(),
            },
            Modal::Filter { input } => {
                let outcome = input.handle(&key);
                let text = input.text.clone();
                let done = matches!(outcome, InputOutcome::Submitted | InputOutcome::Cancelled);
                if done {
                    self.modal = None;
                }
                match &mut self.page {
                    // Browsing filters what is loaded, as it is typed.
                    Page::Browse(page) => {
                        match outcome {
                            InputOutcome::Cancelled => page.filter.clear(),
                            _ => page.filter = text,
                        }
                        page.cursor.clamp(page.rows().len());
                    }
                    // The audit trail is filtered by the server, once the filter is entered.
                    Page::Activity => match outcome {
                        InputOutcome::Submitted => return vec![self.activity.set_filter(text)],
                        InputOutcome::Cancelled if !self.activity.filter.is_empty() => {
                            return vec![self.activity.set_filter(String::new())];
                        }
                        _ => {}
                    },
                    _ => {}
                }
                Vec::new()
            }
            Modal::UploadPrompt { input, candidates } => match input.handle(&key) {
                InputOutcome::CompleteRequested => {
                    *candidates = input.complete_path();
                    Vec::new()
                }
                InputOutcome::Cancelled => {
                    self.modal = None;
                    Vec::new()
                }
                InputOutcome::Submitted => {
                    let path = std::path::PathBuf::from(input.text.trim());
                    self.modal = None;
                    self.queue_upload(path)
                }
                _ => Vec::new(),
            },
            Modal::Payload {
                trigger,
                editor,
                error,
            } => match editor.handle(&key) {
                InputOutcome::Cancelled => {
                    self.modal = None;
                    Vec::new()
                }
                InputOutcome::Submitted => {
                    match serde_json::from_str::<serde_json::Value>(&editor.text()) {
                        Ok(payload) if payload.is_object() => {
                            let name = trigger.clone();
                            self.modal = None;
                            self.triggers.pending = Some(name.clone());
                            vec![Command::Trigger { name, payload }]
                        }
                        Ok(_) => {
                            *error = Some("the payload must be a JSON object".into());
                            Vec::new()
                        }
                        Err(e) => {
                            *error = Some(format!("invalid JSON: {e}"));
                            Vec::new()
                        }
                    }
                }
                _ => {
                    *error = None;
                    Vec::new()
                }
            },
        }
    }

    fn queue_upload(&mut self, path: std::path::PathBuf) -> Vec<Command> {
        let Page::Browse(page) = &self.page else {
            return Vec::new();
        };
        let size = match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => meta.len(),
            Ok(_) => {
                self.status = Some(Status::Error(format!("{} is not a file", path.display())));
                return Vec::new();
            }
            Err(error) => {
                self.status = Some(Status::Error(format!("{}: {error}", path.display())));
                return Vec::new();
            }
        };
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            self.status = Some(Status::Error("the file name is not UTF-8".into()));
            return Vec::new();
        };
        let key = format!("{}{name}", page.prefix);
        let alias = page.alias.clone();
        self.uploads
            .push(alias, key, path.clone(), size)
            .into_iter()
            .collect()
    }
}
