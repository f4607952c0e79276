//! The real `hoist-server` binary, started as a child process with JSON logs that the test
//! reads for the listen address and the embedded store's endpoint and keys.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::Duration;

/// A running `hoist-server`, killed when dropped.
pub struct BinaryServer {
    child: Child,
    pub base_url: String,
    /// Every JSON log line the server printed up to "listening".
    pub startup_logs: Vec<serde_json::Value>,
    /// Every line it printed up to "listening", JSON or not.
    pub startup_lines: Vec<String>,
    lines: mpsc::Receiver<String>,
    /// Held by [`BinaryServer::stall_logs`]; the thread reading stdout takes it for every line.
    reading: Arc<Mutex<()>>,
}

/// Path of the `hoist-server` binary: `HOIST_SERVER_BIN` when set, else the one built beside
/// the running executable: a test
/// (`target/<profile>/deps/<test>`) or a binary such as `bench` (`target/<profile>/bench`).
pub fn binary_path() -> PathBuf {
    // A benchmark may run a gateway of another build (a release binary from a debug bench).
    if let Some(path) = std::env::var_os("HOIST_SERVER_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("executable path");
    let mut dir = exe.parent().expect("target layout");
    if dir.ends_with("deps") {
        dir = dir.parent().expect("target layout");
    }
    let path = dir.join(format!("hoist-server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} does not exist: build it first (`cargo build -p hoist-server`; tests/run does)",
        path.display()
    );
    path
}

impl BinaryServer {
    /// Starts the binary in `workdir` with the repository's configs, `HOIST_ENV=test`, JSON
    /// logs, and the given extra environment.
    pub fn start(workdir: &Path, env: &[(&str, &str)]) -> Self {
        let root = super::repo_root();
        let mut command = Command::new(binary_path());
        command
            .current_dir(workdir)
            .env("HOIST_ENV", "test")
            .env("HOIST_CONFIG_DIR", root.join("configs"))
            .env("HOIST_ROUTES", root.join("routes.toml"))
            .env("HOIST_TELEMETRY__LOG_FORMAT", "json")
            .env("HOIST_TELEMETRY__LOG_FILTER", "info")
            .env_remove("RUST_LOG");
        command.envs(env.iter().copied());
        Self::spawn(command)
    }

    /// Starts the binary as a deployment would: in `workdir`, with no environment but `env`
    /// (no `HOIST_ENV`, which `cargo test` sets, no config folder or routes file unless
    /// `workdir` has them). Its logs must be JSON by default for the start to be seen.
    pub fn start_bare(workdir: &Path, env: &[(&str, &str)]) -> Self {
        Self::spawn(bare_command(workdir, &[], env))
    }

    fn spawn(mut command: Command) -> Self {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().expect("hoist-server starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, lines) = mpsc::channel();
        let reading = Arc::new(Mutex::new(()));
        let gate = reading.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _reading = gate.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut startup_logs = Vec::new();
        let mut startup_lines = Vec::new();
        let base_url = loop {
            let line = lines
                .recv_timeout(Duration::from_secs(30))
                .expect("hoist-server logs \"hoist listening\" within 30 s");
            startup_lines.push(line.clone());
            let Ok(json) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            let listening = json["message"] == "hoist listening";
            let addr = json["addr"].as_str().map(str::to_owned);
            startup_logs.push(json);
            if listening {
                break format!("http://{}", addr.expect("listening line has addr"));
            }
        };
        Self {
            child,
            base_url,
            startup_logs,
            startup_lines,
            lines,
            reading,
        }
    }

    /// Stops reading the server's stdout until the guard is dropped, as a log collector that
    /// hangs does: the pipe fills and the server's writes to it block.
    pub fn stall_logs(&self) -> MutexGuard<'_, ()> {
        self.reading
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The first start-up log line that has `field`.
    pub fn startup_field(&self, field: &str) -> Option<String> {
        self.startup_logs
            .iter()
            .find_map(|line| line[field].as_str().map(str::to_owned))
    }

    /// Log lines printed since start-up, waiting up to `wait` for more.
    pub fn drain_logs(&self, wait: Duration) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(wait) {
            if let Ok(json) = serde_json::from_str(&line) {
                out.push(json);
            }
        }
        out
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(self) -> std::process::ExitStatus {
        self.terminate_and_drain().0
    }

    /// Sends SIGTERM, waits for the exit, and returns its status with the JSON log lines
    /// printed since the last drain, up to the last one before the exit.
    pub fn terminate_and_drain(mut self) -> (std::process::ExitStatus, Vec<serde_json::Value>) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        let status = self.child.wait().expect("child exits");
        // The reader ends at the closed pipe, so this waits only for lines still in flight.
        let logs = self.drain_logs(Duration::from_secs(5));
        (status, logs)
    }
}

impl Drop for BinaryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary in `workdir` with `args` and no environment but `env` (see
/// [`BinaryServer::start_bare`]).
pub fn bare_command(workdir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(binary_path());
    command
        .current_dir(workdir)
        .env_clear()
        .args(args)
        .envs(env.iter().copied());
    command
}

/// What a run of the binary that should end by itself printed.
#[derive(Debug)]
pub struct Finished {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the binary bare (see [`bare_command`]) and waits at most 30 s for it to exit, killing
/// it past that (a server that started when it should have refused fails the test).
pub fn run_bare(workdir: &Path, args: &[&str], env: &[(&str, &str)]) -> Finished {
    let mut child = bare_command(workdir, args, env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hoist-server runs");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("hoist-server {args:?} did not exit within 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    use std::io::Read as _;
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut stdout).expect("stdout");
    }
    if let Some(mut err) = child.stderr.take() {
        err.read_to_string(&mut stderr).expect("stderr");
    }
    Finished {
        success: status.success(),
        stdout,
        stderr,
    }
}
