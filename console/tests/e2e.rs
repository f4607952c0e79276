//! The console driven by key presses against a real `hoist-server` (embedded store): an
//! upload, a delete and a trigger really happen, checked past the console (an independent
//! S3 client, and the webhook's own record).

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hoist_client::Connect;
use hoist_console::App;
use hoist_console::app::Status;
use hoist_console::executor::Executor;
use hoist_console::keymap::Keymap;
use hoist_console::msg::Msg;
use hoist_console::pages::Page;
use hoist_console::resume::ResumeStore;
use hoist_server::config::TriggerRoute;
use hoist_tests::TestServer;
use hoist_tests::peers::Recorder;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// The app, its executor, and the channel completions come back on.
struct Driver {
    app: App,
    executor: Executor,
    rx: UnboundedReceiver<Msg>,
}

impl Driver {
    fn start(server: &TestServer) -> Self {
        let dir = std::env::temp_dir().join(format!("hoist-console-{}", std::process::id()));
        Self::with_resume_file(server, &dir.join("uploads.json"))
    }

    /// The console remembering unfinished uploads in `file`.
    fn with_resume_file(server: &TestServer, file: &std::path::Path) -> Self {
        let (tx, rx) = unbounded_channel();
        let connect = Connect::new(&server.base_url, Some(server.token(true)));
        let mut executor = Executor::new(connect, tx)
            .unwrap()
            .with_resume_store(ResumeStore::at(file.to_owned()));
        let (app, commands) = App::new(server.base_url.clone(), Keymap::default());
        commands.into_iter().for_each(|c| executor.run(c));
        Self { app, executor, rx }
    }

    fn send(&mut self, msg: Msg) {
        for command in self.app.update(msg) {
            self.executor.run(command);
        }
    }

    fn press(&mut self, code: KeyCode) {
        self.send(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    fn ctrl(&mut self, c: char) {
        self.send(Msg::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::CONTROL,
        )));
    }

    fn type_text(&mut self, text: &str) {
        text.chars().for_each(|c| self.press(KeyCode::Char(c)));
    }

    /// Feeds completions until `done` holds (or fails after 30 s without one).
    async fn settle(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        while !done(&self.app) {
            let msg = tokio::time::timeout(Duration::from_secs(30), self.rx.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "no completion while waiting for {what}; status: {:?}",
                        self.app.status
                    )
                })
                .expect("executor alive");
            self.send(msg);
        }
    }

    fn browse_rows(&self) -> Vec<String> {
        match &self.app.page {
            Page::Browse(page) => page
                .rows()
                .iter()
                .map(|row| match row {
                    hoist_console::pages::browse::Row::Folder(f) => f.to_string(),
                    hoist_console::pages::browse::Row::Object(o) => o.key.clone(),
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

fn listing_loaded(app: &App) -> bool {
    matches!(&app.page, Page::Browse(page) if !page.loading)
}

#[tokio::test]
async fn upload_delete_and_trigger_through_the_console() {
    let webhook = Recorder::start(200, serde_json::json!({"accepted": true})).await;
    let hook_url = webhook.url.clone();
    let server = TestServer::start_with(move |settings| {
        settings.triggers.insert(
            "notify".into(),
            TriggerRoute {
                kind: "http".into(),
                target: hook_url,
                ..TriggerRoute::default()
            },
        );
    })
    .await;
    let s3 = server.embedded_s3();
    let mut driver = Driver::start(&server);
    driver
        .settle("buckets", |app| !app.buckets.buckets.is_empty())
        .await;

    // Open the default alias (the cursor starts on it).
    driver.press(KeyCode::Enter);
    driver.settle("the listing", listing_loaded).await;

    // Upload a local file by typing its path.
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("console-report.txt");
    let content = b"uploaded from the console\n".repeat(1000);
    std::fs::write(&local, &content).unwrap();
    driver.press(KeyCode::Char('u'));
    driver.type_text(local.to_str().unwrap());
    driver.press(KeyCode::Enter);
    driver
        .settle("the upload", |app| {
            !app.uploads.is_busy() && matches!(app.status, Some(Status::Info(_)))
        })
        .await;
    assert_eq!(
        driver.app.status,
        Some(Status::Info(
            "uploaded console-report.txt to uploads".into()
        ))
    );
    let stored = s3
        .get_object()
        .bucket("hoist-uploads")
        .key("console-report.txt")
        .send()
        .await
        .expect("the object exists in the store");
    assert_eq!(
        stored.body.collect().await.unwrap().into_bytes().as_ref(),
        &content[..]
    );
    driver.settle("the refreshed listing", listing_loaded).await;
    assert!(
        driver
            .browse_rows()
            .contains(&"console-report.txt".to_owned())
    );

    // Delete it: select, d, confirm.
    let row = driver
        .browse_rows()
        .iter()
        .position(|k| k == "console-report.txt")
        .unwrap();
    driver.press(KeyCode::Home);
    (0..row).for_each(|_| driver.press(KeyCode::Down));
    driver.press(KeyCode::Char('d'));
    driver.press(KeyCode::Char('y'));
    driver
        .settle(
            "the delete",
            |app| matches!(&app.status, Some(Status::Info(text)) if text.starts_with("deleted")),
        )
        .await;
    let gone = s3
        .head_object()
        .bucket("hoist-uploads")
        .key("console-report.txt")
        .send()
        .await;
    assert!(gone.is_err(), "the object is gone from the store");

    // Trigger the webhook with a payload typed in the editor.
    driver.press(KeyCode::Char('t'));
    driver
        .settle("the triggers", |app| app.triggers.loaded)
        .await;
    let index = driver
        .app
        .triggers
        .triggers
        .iter()
        .position(|t| t.name == "notify")
        .expect("the declared trigger is listed");
    driver.press(KeyCode::Home);
    (0..index).for_each(|_| driver.press(KeyCode::Down));
    driver.press(KeyCode::Enter);
    driver.type_text("\"eventId\": \"ev-42\"");
    driver.ctrl('s');
    driver
        .settle("the trigger", |app| app.triggers.last.is_some())
        .await;
    let (name, outcome) = driver.app.triggers.last.clone().unwrap();
    assert_eq!(name, "notify");
    let outcome = outcome.expect("the trigger succeeded");
    assert!(outcome.success);
    assert_eq!(outcome.payload, Some(serde_json::json!({"accepted": true})));
    let requests = webhook.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].json(), serde_json::json!({"eventId": "ev-42"}));
}

#[tokio::test]
async fn the_activity_page_shows_the_audit_trail() {
    let server = TestServer::start_with(|settings| {
        settings.audit.bucket = Some("uploads".into());
        // Every event is written at once, so the page can read it back.
        settings.audit.batch = 1;
    })
    .await;
    let http = server.http();
    let put = http
        .put(server.url("/files/object?bucketName=uploads&key=doomed.txt"))
        .bearer_auth(server.token(true))
        .body("bye")
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    let deleted = http
        .delete(server.url("/files?bucketName=uploads&fileKeys=doomed.txt"))
        .bearer_auth(server.token(true))
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success());

    let mut driver = Driver::start(&server);
    driver
        .settle("buckets", |app| !app.buckets.buckets.is_empty())
        .await;
    // The batch of one is written right after the delete answered: reload until it is there.
    driver.press(KeyCode::Char('a'));
    let mut found = false;
    for _ in 0..50 {
        driver
            .settle("the audit events", |app| !app.activity.loading)
            .await;
        if driver
            .app
            .activity
            .events
            .iter()
            .any(|e| e.action == "delete")
        {
            found = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        driver.press(KeyCode::Char('r'));
    }
    assert!(
        found,
        "the delete is listed: {:?}",
        driver.app.activity.events
    );
    let event = driver
        .app
        .activity
        .events
        .iter()
        .find(|e| e.action == "delete")
        .unwrap();
    assert_eq!(event.sub.as_deref(), Some("tester"));
    assert_eq!(event.outcome, "ok");
    assert!(event.details.contains("doomed.txt"), "{}", event.details);

    // A filter that matches nothing empties the list.
    driver.press(KeyCode::Char('/'));
    driver.type_text("no-such-action");
    driver.press(KeyCode::Enter);
    driver
        .settle("the filtered events", |app| !app.activity.loading)
        .await;
    assert!(driver.app.activity.events.is_empty());
}

#[tokio::test]
async fn a_large_upload_goes_through_tus_and_resumes_after_an_interruption() {
    const MIB: usize = 1024 * 1024;
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state/uploads.json");
    // Six chunks: the PATCH on its way when Esc comes may still arrive whole (loopback is
    // fast), but not all of those after it.
    let data = hoist_tests::test_bytes(48 * MIB, 5);
    let local = dir.path().join("console-big.bin");
    std::fs::write(&local, &data).unwrap();

    // The first run: the upload starts, and is cut once its first chunk is in.
    let mut first = Driver::with_resume_file(&server, &state);
    first
        .settle("buckets", |app| !app.buckets.buckets.is_empty())
        .await;
    first.press(KeyCode::Enter);
    first.settle("the listing", listing_loaded).await;
    first.press(KeyCode::Char('u'));
    first.type_text(local.to_str().unwrap());
    first.press(KeyCode::Enter);
    first
        .settle("the first chunk", |app| {
            app.uploads
                .active
                .as_ref()
                .is_some_and(|u| u.sent >= 8 * MIB as u64)
        })
        .await;
    first.press(KeyCode::Esc);
    drop(first);
    // The server is done with what the first run sent (a PATCH cut off gives its lease back).
    server.uploads_idle().await;

    let remembered = ResumeStore::at(state.clone()).all();
    assert_eq!(remembered.len(), 1, "the unfinished upload is remembered");
    let head = server
        .http()
        .head(&remembered[0].url)
        .bearer_auth(server.token(true))
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    let kept: u64 = head.headers()["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(kept >= 8 * MIB as u64 && kept < data.len() as u64, "{kept}");

    // The next run offers to resume, and resumes where the server has it.
    let mut second = Driver::with_resume_file(&server, &state);
    second
        .settle("the offer", |app| !app.resumable.is_empty())
        .await;
    assert!(
        matches!(&second.app.status, Some(Status::Info(text)) if text.contains("press R to resume")),
        "{:?}",
        second.app.status
    );
    second.press(KeyCode::Char('R'));
    second
        .settle("the resumed upload", |app| {
            !app.uploads.is_busy()
                && matches!(&app.status, Some(Status::Info(t)) if t.starts_with("uploaded"))
        })
        .await;
    let stored = server
        .embedded_s3()
        .get_object()
        .bucket("hoist-uploads")
        .key("console-big.bin")
        .send()
        .await
        .expect("the object exists in the store")
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    assert!(stored == data, "byte-identical after the resume");
    assert!(
        ResumeStore::at(state).all().is_empty(),
        "nothing left to resume"
    );

    // `o` on the object: a presigned GET URL that serves it.
    second
        .settle("buckets", |app| !app.buckets.buckets.is_empty())
        .await;
    second.press(KeyCode::Enter);
    second.settle("the listing", listing_loaded).await;
    second.press(KeyCode::Char('o'));
    second
        .settle(
            "the URL",
            |app| matches!(&app.status, Some(Status::Info(t)) if t.contains("http")),
        )
        .await;
    let Some(Status::Info(text)) = &second.app.status else {
        unreachable!()
    };
    let url = text.rsplit(' ').next().unwrap();
    assert!(text.contains("sent to the terminal's clipboard"), "{text}");
    assert_eq!(
        second.app.clipboard.as_deref(),
        Some(url),
        "the same URL for the terminal's clipboard"
    );
    let fetched = reqwest::get(url).await.unwrap();
    assert_eq!(fetched.status(), 200, "{url}");
    assert!(fetched.bytes().await.unwrap() == data);
    server.stop().await;
}
