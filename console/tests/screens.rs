//! Whole-screen snapshots of each page at 80×24, driven only by messages (no network), plus
//! widget-level checks with `Buffer::with_lines`.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hoist_console::app::Status;
use hoist_console::keymap::Keymap;
use hoist_console::model::{
    ApiFailure, AuditEntry, BucketEntry, DeleteReport, Listing, ObjectEntry, TriggerEntry,
    TriggerOutcome,
};
use hoist_console::msg::{Command, Msg};
use hoist_console::{App, ui};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn draw(app: &App) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|frame| ui::view(app, frame)).unwrap();
    terminal
}

fn app_with_buckets() -> App {
    let (mut app, commands) = App::new("http://127.0.0.1:8080".into(), Keymap::default());
    assert_eq!(commands, [Command::LoadBuckets, Command::LoadResumable]);
    app.update(Msg::BucketsLoaded(Ok(vec![
        BucketEntry {
            alias: "images".into(),
            region: "us-east-1".into(),
            is_default: false,
        },
        BucketEntry {
            alias: "uploads".into(),
            region: "eu-west-1".into(),
            is_default: true,
        },
    ])));
    app
}

fn object(key: &str, size: u64, date: &str) -> ObjectEntry {
    ObjectEntry {
        key: key.into(),
        size,
        date: date.into(),
    }
}

/// Opens `uploads` and feeds a listing of `reports/`.
fn browsing() -> App {
    let mut app = app_with_buckets();
    let commands = app.update(key(KeyCode::Enter));
    assert_eq!(
        commands,
        [Command::List {
            alias: "uploads".into(),
            prefix: String::new(),
            cursor: None
        }]
    );
    app.update(Msg::ListingLoaded {
        alias: "uploads".into(),
        prefix: String::new(),
        append: false,
        result: Ok(Listing {
            folders: vec!["reports/".into()],
            objects: vec![],
            total: 0,
            cursor: None,
        }),
    });
    app.update(key(KeyCode::Enter));
    app.update(Msg::ListingLoaded {
        alias: "uploads".into(),
        prefix: "reports/".into(),
        append: false,
        result: Ok(Listing {
            folders: vec!["reports/2024/".into()],
            objects: vec![
                object("reports/q3-summary.pdf", 2_621_440, "2026-11-29T10:15:00Z"),
                object("reports/q2-summary.pdf", 1_048_576, "2026-08-01T09:00:00Z"),
                object("reports/notes.txt", 812, "2026-07-14T17:45:30Z"),
            ],
            total: 240,
            cursor: Some("opaque".into()),
        }),
    });
    app
}

#[test]
fn buckets_page() {
    insta::assert_snapshot!(draw(&app_with_buckets()).backend());
}

#[test]
fn browse_page_with_marks() {
    let mut app = browsing();
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Char(' ')));
    insta::assert_snapshot!(draw(&app).backend());
}

#[test]
fn upload_progress() {
    let mut app = browsing();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), vec![0u8; 8 * 1024 * 1024]).unwrap();
    app.update(key(KeyCode::Char('u')));
    for c in file.path().to_str().unwrap().chars() {
        app.update(key(KeyCode::Char(c)));
    }
    let commands = app.update(key(KeyCode::Enter));
    let name = file
        .path()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        matches!(&commands[..], [Command::Upload { key, alias, .. }] if *key == format!("reports/{name}") && alias == "uploads"),
        "{commands:?}"
    );
    app.update(Msg::UploadProgress {
        id: 1,
        sent: 3 * 1024 * 1024,
        elapsed: Duration::from_secs(2),
    });
    let screen = draw(&app)
        .backend()
        .to_string()
        .replace(&name, "upload.bin");
    insta::assert_snapshot!(screen);
    assert_eq!(
        app.update(key(KeyCode::Esc)),
        [Command::CancelUpload { id: 1 }],
        "esc cancels the running upload"
    );
    app.update(Msg::UploadFinished {
        id: 1,
        result: Err(ApiFailure::transport("cancelled")),
    });
    assert!(!app.uploads.is_busy());
}

#[test]
fn delete_confirmation() {
    let mut app = browsing();
    for _ in 0..2 {
        app.update(key(KeyCode::Down));
        app.update(key(KeyCode::Char(' ')));
    }
    app.update(key(KeyCode::Char('d')));
    insta::assert_snapshot!(draw(&app).backend());
    let commands = app.update(key(KeyCode::Char('y')));
    assert_eq!(
        commands,
        [Command::Delete {
            alias: "uploads".into(),
            keys: vec!["reports/notes.txt".into(), "reports/q3-summary.pdf".into()],
        }]
    );
    let commands = app.update(Msg::Deleted {
        alias: "uploads".into(),
        result: Ok(DeleteReport {
            deleted: vec!["reports/q3-summary.pdf".into()],
            errors: vec![(
                "reports/notes.txt".into(),
                "AccessDenied".into(),
                "denied".into(),
            )],
        }),
    });
    assert!(
        matches!(&commands[..], [Command::List { .. }]),
        "the list reloads"
    );
    assert_eq!(
        app.status,
        Some(Status::Error(
            "deleted 1, 1 failed: reports/notes.txt (AccessDenied)".into()
        ))
    );
}

fn triggers_loaded() -> App {
    let mut app = app_with_buckets();
    assert_eq!(app.update(key(KeyCode::Char('t'))), [Command::LoadTriggers]);
    app.update(Msg::TriggersLoaded(Ok(vec![
        TriggerEntry {
            name: "ccpa".into(),
            kind: "lambda".into(),
            auth: "public".into(),
            mode: Some("sync".into()),
        },
        TriggerEntry {
            name: "selection".into(),
            kind: "step-function".into(),
            auth: "supreme".into(),
            mode: None,
        },
    ])));
    app
}

#[test]
fn trigger_payload_editor_validates_json() {
    let mut app = triggers_loaded();
    app.update(key(KeyCode::Enter));
    for c in "\"eventId\": ".chars() {
        app.update(key(KeyCode::Char(c)));
    }
    let send = Msg::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
    assert!(
        app.update(send.clone()).is_empty(),
        "invalid JSON is not sent"
    );
    insta::assert_snapshot!(draw(&app).backend());
    for c in "42".chars() {
        app.update(key(KeyCode::Char(c)));
    }
    assert_eq!(
        app.update(send),
        [Command::Trigger {
            name: "ccpa".into(),
            payload: serde_json::json!({"eventId": 42}),
        }]
    );
}

#[test]
fn trigger_result() {
    let mut app = triggers_loaded();
    app.update(key(KeyCode::Down));
    app.update(Msg::Triggered {
        name: "selection".into(),
        result: Ok(TriggerOutcome {
            success: true,
            status_code: None,
            execution_arn: Some(
                "arn:aws:states:us-east-1:123456789012:execution:selection:run-7".into(),
            ),
            payload: None,
            function_error: None,
        }),
    });
    insta::assert_snapshot!(draw(&app).backend());
}

#[test]
fn error_message() {
    let mut app = browsing();
    app.update(Msg::ListingLoaded {
        alias: "uploads".into(),
        prefix: "reports/".into(),
        append: false,
        result: Err(ApiFailure {
            status: Some(502),
            code: "storage-unavailable".into(),
            message: "the object store failed or is unreachable".into(),
            correlation_id: Some("5f0c2a".into()),
        }),
    });
    insta::assert_snapshot!(draw(&app).backend());
    app.update(key(KeyCode::Esc));
    assert_eq!(app.status, None, "esc dismisses the message");
}

#[test]
fn header_and_status_lines() {
    let mut app = app_with_buckets();
    app.status = Some(Status::Info("uploaded a.txt to uploads".into()));
    let mut terminal = Terminal::new(TestBackend::new(44, 24)).unwrap();
    terminal.draw(|frame| ui::view(&app, frame)).unwrap();
    let buffer = terminal.backend().buffer();
    let top = Buffer::with_lines([" Hoist  http://127.0.0.1:8080 │ buckets     "]);
    for x in 0..44 {
        assert_eq!(buffer[(x, 0)].symbol(), top[(x, 0)].symbol(), "column {x}");
    }
    let bottom = Buffer::with_lines(["uploaded a.txt to uploads                   "]);
    for x in 0..44 {
        assert_eq!(
            buffer[(x, 23)].symbol(),
            bottom[(x, 0)].symbol(),
            "column {x}"
        );
    }
}

fn audit_entry(at: &str, action: &str, sub: &str, outcome: &str, details: &str) -> AuditEntry {
    AuditEntry {
        at: at.into(),
        action: action.into(),
        sub: Some(sub.into()),
        client: Some("10.0.3.7".into()),
        outcome: outcome.into(),
        details: details.into(),
    }
}

#[test]
fn activity_page_lists_audit_events_and_filters_on_the_server() {
    let mut app = app_with_buckets();
    assert_eq!(
        app.update(key(KeyCode::Char('a'))),
        [Command::LoadActivity {
            filter: String::new()
        }]
    );
    app.update(Msg::ActivityLoaded {
        filter: String::new(),
        result: Ok(vec![
            audit_entry(
                "2026-12-02T03:04:05.678Z",
                "delete",
                "ops",
                "ok",
                r#"{"bucket":"uploads","deleted":["a.pdf"]}"#,
            ),
            audit_entry(
                "2026-12-02T03:01:00.000Z",
                "trigger",
                "ci",
                "failed",
                r#"{"trigger":"waveprep"}"#,
            ),
        ]),
    });
    insta::assert_snapshot!(draw(&app).backend());

    app.update(key(KeyCode::Char('/')));
    for c in "delete".chars() {
        assert!(app.update(key(KeyCode::Char(c))).is_empty());
    }
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        [Command::LoadActivity {
            filter: "delete".into()
        }]
    );
    assert!(app.activity.loading);
}
