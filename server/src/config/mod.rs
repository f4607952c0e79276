//! Settings: the typed configuration (its sections are the `HOIST_*` interface), how its
//! layers are loaded with figment, and the problems loading finds. A leaf: what the values
//! mean, each domain checks for its own section (`fn check(&Section) -> Vec<ConfigProblem>`),
//! and the `validation` module runs them all.
//!
//! Every default is compiled in (the `Default` of each section, which `configs/default.toml`
//! documents), so every file is an optional layer and the binary runs with none.

mod browser;
mod environment;
mod level;
mod lifecycle;
mod print;
mod problem;
mod read;
mod routes;
mod sections;

pub use browser::{
    CorsSettings, PresignSettings, TUS_REQUEST_HEADERS, TUS_RESPONSE_HEADERS, TusSettings,
};
pub use environment::{DEVELOPMENT_ENVIRONMENTS, PRODUCTION, checked_in_secrets, is_production};
pub use level::Level;
pub use lifecycle::{AuditSettings, HookMode, HookSettings, JanitorSettings};
pub use print::to_toml;
pub use problem::ConfigProblem;
pub use routes::{BucketRoute, FilesRoute, ImagesRoute, LambdaMode, TriggerRoute, is_valid_alias};
pub use sections::{
    AuthAlgorithm, AuthSettings, AwsSettings, DeleteSettings, EmbeddedStorage, LimitsSettings,
    ListSettings, LogFormat, ServerSettings, StorageSettings, TelemetrySettings, UploadSettings,
};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize};

/// Every setting Hoist reads, after all layers are merged.
///
/// Section names are part of the interface: `HOIST_SERVER__BIND` overrides `[server] bind`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Settings {
    pub server: ServerSettings,
    pub auth: AuthSettings,
    pub aws: AwsSettings,
    pub storage: StorageSettings,
    pub upload: UploadSettings,
    pub list: ListSettings,
    pub delete: DeleteSettings,
    pub telemetry: TelemetrySettings,
    pub limits: LimitsSettings,
    pub hooks: HookSettings,
    pub janitor: JanitorSettings,
    pub audit: AuditSettings,
    pub cors: CorsSettings,
    pub presign: PresignSettings,
    pub tus: TusSettings,
    /// Bucket aliases from `routes.toml`: the only names clients may use.
    pub buckets: BTreeMap<String, BucketRoute>,
    pub files: FilesRoute,
    pub images: ImagesRoute,
    /// Triggers from `routes.toml`, by the name clients call them with.
    pub triggers: BTreeMap<String, TriggerRoute>,
}

/// Where the configuration layers come from.
#[derive(Debug, Clone)]
pub struct ConfigSource {
    /// Folder holding `default.toml` and `<env>.toml`.
    pub config_dir: PathBuf,
    /// The environment name, which picks `<env>.toml` (`development`, `test`, `production`).
    pub env: String,
    /// The declarative routes file (bucket aliases, triggers).
    pub routes: PathBuf,
    /// Which locations the operator named (`--config-dir`, `--routes` or their variables):
    /// a named location must exist, an unnamed one is read only when present.
    pub named: Named,
}

/// The locations of a [`ConfigSource`] that were named explicitly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Named {
    /// The config folder was named: it and its `<env>.toml` must exist (`default.toml` is
    /// still optional).
    pub config_dir: bool,
    /// The routes file was named: it must exist.
    pub routes: bool,
}

impl ConfigSource {
    /// The layout of a checkout: `configs/` and `routes.toml` under `root`, both required.
    pub fn in_dir(root: &Path, env: &str) -> Self {
        Self {
            config_dir: root.join("configs"),
            env: env.to_owned(),
            routes: root.join("routes.toml"),
            named: Named {
                config_dir: true,
                routes: true,
            },
        }
    }

    /// Whether this environment gets the production rules (see [`is_production`]).
    pub fn is_production(&self) -> bool {
        is_production(&self.env)
    }

    /// The layer files in order, each with whether it must exist.
    fn files(&self) -> [(PathBuf, bool); 3] {
        [
            (self.config_dir.join("default.toml"), false),
            (
                self.config_dir.join(format!("{}.toml", self.env)),
                self.named.config_dir,
            ),
            (self.routes.clone(), self.named.routes),
        ]
    }

    /// The merged layers, later wins: `default.toml`, `<env>.toml`, routes, `HOIST_*`, each
    /// file only if it exists (the built-in defaults are below them all, in the structs).
    pub fn figment(&self) -> Figment {
        let mut figment = Figment::new();
        for (file, _) in self.files() {
            if file.is_file() {
                figment = figment.merge(Toml::file(file));
            }
        }
        figment.merge(variables())
    }

    /// Loads the settings, refused on any problem of reading them: a missing named file, a
    /// file that is not TOML, an unknown key, a value of the wrong type. It does not check
    /// what the values mean; the `validation` module does, and starting the gateway does too.
    pub fn load(&self) -> Result<Settings, Vec<ConfigProblem>> {
        let (settings, problems) = self.read();
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(problems)
        }
    }

    /// The settings as far as they can be read, and every problem found on the way: a file
    /// that is not TOML is left out, a value of the wrong type is dropped (its default
    /// applies), an unknown key is reported with the closest known one. So the checks of the
    /// domains can add their problems and every problem is listed at once.
    pub fn read(&self) -> (Settings, Vec<ConfigProblem>) {
        let mut problems = Vec::new();
        if self.named.config_dir && !self.config_dir.is_dir() {
            problems.push(ConfigProblem::new(
                self.config_dir.display().to_string(),
                "config folder not found",
            ));
        }
        let mut figment = Figment::new();
        for (file, required) in self.files() {
            match std::fs::read_to_string(&file) {
                Ok(text) => match text.parse::<toml::Table>() {
                    Ok(_) => figment = figment.merge(Toml::file(&file)),
                    Err(error) => problems.push(ConfigProblem::new(
                        file.display().to_string(),
                        format!("not valid TOML, so none of it was read: {error}"),
                    )),
                },
                Err(error) if error.kind() == std::io::ErrorKind::NotFound && !required => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => problems.push(
                    ConfigProblem::new(file.display().to_string(), "file not found"),
                ),
                Err(error) => problems.push(ConfigProblem::new(
                    file.display().to_string(),
                    format!("cannot be read: {error}"),
                )),
            }
        }
        figment = figment.merge(variables());
        let value = match figment.extract::<figment::value::Value>() {
            Ok(value) => value,
            Err(errors) => {
                problems.extend(errors.into_iter().map(ConfigProblem::from_figment));
                read::empty()
            }
        };
        let (settings, more) = read::settings(&figment, value);
        problems.extend(more);
        (settings, problems)
    }
}

/// The `HOIST_*` layer. Every setting lives in a section, so a variable without `__`
/// (HOIST_ENV, HOIST_CONFIG_DIR, HOIST_ROUTES, HOIST_TOKEN) names a file or a tool, not a key.
fn variables() -> Env {
    Env::prefixed("HOIST_")
        .filter(|key| key.as_str().contains("__"))
        .split("__")
}

#[cfg(test)]
pub(crate) mod tests;
