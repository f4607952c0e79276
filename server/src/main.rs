//! The `hoist-server` command: serve (default), print the OpenAPI spec, check the config, or
//! run the janitor.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hoist_server::{Application, ConfigSource, api, telemetry, validation};

#[derive(Debug, Parser)]
#[command(version, about = "Hoist: upload and trigger gateway")]
struct Cli {
    /// Folder holding default.toml and <env>.toml.
    #[arg(
        long,
        env = "HOIST_CONFIG_DIR",
        default_value = "configs",
        global = true
    )]
    config_dir: PathBuf,
    /// The routes file: bucket aliases and triggers.
    #[arg(
        long,
        env = "HOIST_ROUTES",
        default_value = "routes.toml",
        global = true
    )]
    routes: PathBuf,
    /// Environment; picks <config-dir>/<env>.toml.
    #[arg(long, env = "HOIST_ENV", default_value = "development", global = true)]
    env: String,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Print the OpenAPI spec (YAML); needs no configuration or AWS.
    Openapi {
        /// Write to this file instead of stdout.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Validate configuration and routes; list every problem and exit non-zero if any.
    CheckConfig,
    /// Abort incomplete multipart uploads older than `[janitor] max_age` in every alias and
    /// print what was done; exits non-zero when a listing or an abort failed.
    Janitor {
        /// Run one pass and exit (for a cron job). Without it, a pass runs every
        /// `[janitor] interval` until interrupted.
        #[arg(long)]
        once: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let source = ConfigSource {
        config_dir: cli.config_dir,
        env: cli.env,
        routes: cli.routes,
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi { output } => {
            let spec = api::spec_yaml();
            match output {
                Some(path) => {
                    if let Err(error) = std::fs::write(&path, spec) {
                        eprintln!("cannot write {}: {error}", path.display());
                        return ExitCode::FAILURE;
                    }
                }
                None => print!("{spec}"),
            }
            ExitCode::SUCCESS
        }
        Command::CheckConfig => match validation::load(&source) {
            Ok(settings) => {
                println!(
                    "configuration OK ({} environment, {} bucket aliases, {} triggers)",
                    source.env,
                    settings.buckets.len(),
                    settings.triggers.len()
                );
                ExitCode::SUCCESS
            }
            Err(problems) => {
                eprintln!("{} configuration problem(s):", problems.len());
                for problem in problems {
                    eprintln!("  {problem}");
                }
                ExitCode::FAILURE
            }
        },
        Command::Serve => serve(source),
        Command::Janitor { once } => janitor(source, once),
    }
}

/// `hoist-server janitor [--once]`: one pass (or one every interval), printed to stdout.
fn janitor(source: ConfigSource, once: bool) -> ExitCode {
    let Some((settings, telemetry, runtime)) = start(source) else {
        return ExitCode::FAILURE;
    };
    let code = runtime.block_on(async {
        loop {
            let report = match hoist_server::app::janitor_once(settings.clone()).await {
                Ok(report) => report,
                Err(error) => {
                    eprintln!("janitor cannot start: {error}");
                    return ExitCode::FAILURE;
                }
            };
            print!("{report}");
            if once {
                return if report.errors() == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                };
            }
            tokio::select! {
                () = tokio::time::sleep(settings.janitor.interval) => {}
                _ = tokio::signal::ctrl_c() => return ExitCode::SUCCESS,
            }
        }
    });
    drop(runtime);
    telemetry.shutdown();
    code
}

/// Loads the settings, sets up logging and the runtime; `None` (reported) when one fails.
fn start(
    source: ConfigSource,
) -> Option<(
    hoist_server::Settings,
    telemetry::Telemetry,
    tokio::runtime::Runtime,
)> {
    let settings = match validation::load(&source) {
        Ok(settings) => settings,
        Err(problems) => {
            eprintln!(
                "refusing to start; {} configuration problem(s):",
                problems.len()
            );
            for problem in problems {
                eprintln!("  {problem}");
            }
            return None;
        }
    };
    let telemetry = match telemetry::init(&settings.telemetry) {
        Ok(telemetry) => telemetry,
        Err(error) => {
            eprintln!("refusing to start: {error}");
            return None;
        }
    };
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => Some((settings, telemetry, runtime)),
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            None
        }
    }
}

fn serve(source: ConfigSource) -> ExitCode {
    let Some((settings, telemetry, runtime)) = start(source) else {
        return ExitCode::FAILURE;
    };
    let code = runtime.block_on(async {
        let app = match Application::build(settings).await {
            Ok(app) => app,
            Err(error) => {
                tracing::error!(%error, "cannot start");
                return ExitCode::FAILURE;
            }
        };
        match app.run().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(%error, "server failed");
                ExitCode::FAILURE
            }
        }
    });
    drop(runtime);
    // Outside the runtime: the exporter's HTTP client is blocking.
    telemetry.shutdown();
    code
}
