//! `hoist-console`: the terminal console. Parses arguments, sets up the terminal (restored
//! on exit and on panic), and runs the event loop: draw, wait for a key or a completion,
//! update, run the commands.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use hoist_client::Connect;
use hoist_console::executor::Executor;
use hoist_console::keymap::Keymap;
use hoist_console::msg::Msg;
use hoist_console::{App, ui};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Terminal console for Hoist: browse, upload, delete, trigger"
)]
struct Cli {
    /// The Hoist server.
    #[arg(long, env = "HOIST_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Bearer token (a supreme token for uploads and deletes).
    #[arg(long, env = "HOIST_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Fetch a supreme token from the server's /dev/token (development servers only).
    #[arg(long, conflicts_with = "token")]
    dev: bool,
    /// Keymap overrides (TOML); defaults to ~/.config/hoist/keymap.toml when it exists.
    #[arg(long)]
    keymap: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let keymap = match load_keymap(cli.keymap) {
        Ok(keymap) => keymap,
        Err(error) => {
            eprintln!("hoist-console: {error}");
            return ExitCode::FAILURE;
        }
    };
    let token = if cli.dev {
        match dev_token(&cli.url).await {
            Ok(token) => Some(token),
            Err(error) => {
                eprintln!(
                    "hoist-console: cannot get a dev token from {}: {error}",
                    cli.url
                );
                return ExitCode::FAILURE;
            }
        }
    } else {
        cli.token
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut executor = match Executor::new(Connect::new(&cli.url, token), tx) {
        Ok(executor) => executor,
        Err(error) => {
            eprintln!("hoist-console: {error}");
            return ExitCode::FAILURE;
        }
    };

    // ratatui::init installs a panic hook that restores the terminal before the message.
    let mut terminal = ratatui::init();
    let (mut app, commands) = App::new(cli.url, keymap);
    commands.into_iter().for_each(|c| executor.run(c));
    let mut events = EventStream::new();
    let result = loop {
        if let Err(error) = terminal.draw(|frame| ui::view(&app, frame)) {
            break Err(error);
        }
        let msg = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => Msg::Key(key),
                Some(Ok(_)) => Msg::Redraw,
                Some(Err(error)) => break Err(error),
                None => break Ok(()),
            },
            Some(msg) = rx.recv() => msg,
        };
        for command in app.update(msg) {
            executor.run(command);
        }
        if let Some(text) = app.clipboard.take() {
            // Between two frames, so the sequence cannot land inside one.
            if let Err(error) = hoist_console::clipboard::copy(terminal.backend_mut(), &text) {
                break Err(error);
            }
        }
        if app.quit {
            break Ok(());
        }
    };
    ratatui::restore();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hoist-console: terminal error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn load_keymap(path: Option<PathBuf>) -> Result<Keymap, hoist_console::keymap::KeymapError> {
    let user_file = path.or_else(|| {
        let config = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
        Some(config.join("hoist/keymap.toml")).filter(|p| p.exists())
    });
    match user_file {
        Some(path) => Keymap::with_overrides(&path),
        None => Ok(Keymap::default()),
    }
}

async fn dev_token(url: &str) -> Result<String, String> {
    let client = Connect::new(url, None)
        .client()
        .map_err(|e| e.to_string())?;
    let response = client
        .dev_token(Some("console"), Some(true), None)
        .await
        .map_err(|e| hoist_console::executor::failure(e).to_string())?;
    Ok(response.into_inner().data.token)
}
