//! The `hoist-server` command: serve (default), print the OpenAPI spec, check or print the
//! config, run the janitor, or ask a running server whether it is alive (the container's
//! health check).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use hoist_server::config::{self, ConfigProblem, Named};
use hoist_server::{Application, ConfigSource, api, telemetry, validation};

#[derive(Debug, Parser)]
#[command(version, about = "Hoist: upload and trigger gateway")]
struct Cli {
    /// Folder holding default.toml and <env>.toml [default: configs, read when present].
    /// Named here, it and its <env>.toml must exist.
    #[arg(long, env = "HOIST_CONFIG_DIR", global = true)]
    config_dir: Option<PathBuf>,
    /// The routes file: bucket aliases and triggers [default: routes.toml, read when
    /// present]. Named here, it must exist.
    #[arg(long, env = "HOIST_ROUTES", global = true)]
    routes: Option<PathBuf>,
    /// Environment; picks <config-dir>/<env>.toml. Every environment but development and
    /// test refuses dev tokens, the embedded store and the checked-in secrets.
    #[arg(long, env = "HOIST_ENV", default_value = config::PRODUCTION, global = true)]
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
    CheckConfig {
        /// Also print the merged settings, as print-config does.
        #[arg(long)]
        print: bool,
    },
    /// Print the merged settings as TOML, secrets redacted; problems go to stderr and make
    /// the exit status non-zero.
    PrintConfig,
    /// Exit 0 when the server answers GET /heartbeat with 200 within 3 s (the container's
    /// HEALTHCHECK); the address is [server] bind, on loopback when it names every interface.
    Healthcheck {
        /// Ask this URL instead.
        #[arg(long)]
        url: Option<String>,
    },
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
        named: Named {
            config_dir: cli.config_dir.is_some(),
            routes: cli.routes.is_some(),
        },
        config_dir: cli.config_dir.unwrap_or_else(|| PathBuf::from("configs")),
        env: cli.env,
        routes: cli.routes.unwrap_or_else(|| PathBuf::from("routes.toml")),
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
        Command::CheckConfig { print: false } => match validation::load(&source) {
            Ok(settings) => {
                println!(
                    "configuration OK ({} environment, {} bucket aliases, {} triggers)",
                    source.env,
                    settings.buckets.len(),
                    settings.triggers.len()
                );
                ExitCode::SUCCESS
            }
            Err(problems) => report(&problems),
        },
        Command::CheckConfig { print: true } | Command::PrintConfig => print_config(&source),
        Command::Healthcheck { url } => healthcheck(&source, url),
        Command::Serve => serve(source),
        Command::Janitor { once } => janitor(source, once),
    }
}

/// Lists the problems on stderr; the failure exit status.
fn report(problems: &[ConfigProblem]) -> ExitCode {
    eprintln!("{} configuration problem(s):", problems.len());
    for problem in problems {
        eprintln!("  {problem}");
    }
    ExitCode::FAILURE
}

/// The merged settings on stdout (what could be read of them), the problems on stderr.
fn print_config(source: &ConfigSource) -> ExitCode {
    let (settings, problems) = validation::read(source);
    println!("# environment: {}", source.env);
    match config::to_toml(&settings) {
        Ok(text) => print!("{text}"),
        Err(error) => {
            eprintln!("cannot print the settings: {error}");
            return ExitCode::FAILURE;
        }
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        report(&problems)
    }
}

/// How long the health check waits for an answer.
const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(3);

fn healthcheck(source: &ConfigSource, url: Option<String>) -> ExitCode {
    let url = url.unwrap_or_else(|| {
        let mut addr = source.read().0.server.bind;
        if addr.ip().is_unspecified() {
            addr.set_ip(if addr.is_ipv4() {
                Ipv4Addr::LOCALHOST.into()
            } else {
                Ipv6Addr::LOCALHOST.into()
            });
        }
        format!("http://{addr}/heartbeat")
    });
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let answer = runtime.block_on(async {
        reqwest::Client::builder()
            .timeout(HEALTHCHECK_TIMEOUT)
            .build()?
            .get(&url)
            .send()
            .await
    });
    match answer {
        Ok(response) if response.status() == reqwest::StatusCode::OK => ExitCode::SUCCESS,
        Ok(response) => {
            eprintln!("{url} answered {}", response.status());
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("{url} did not answer: {error}");
            ExitCode::FAILURE
        }
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
                "refusing to start ({} environment); {} configuration problem(s):",
                source.env,
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
    tracing::info!(environment = %source.env, "configuration loaded");
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
