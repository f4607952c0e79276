//! Settings: the typed configuration (its sections are the `HOIST_*` interface), how its
//! layers are loaded with figment, and the problems loading finds. A leaf: what the values
//! mean, each domain checks for its own section (`fn check(&Section) -> Vec<ConfigProblem>`),
//! and the `validation` module runs them all.

mod level;
mod lifecycle;
mod problem;
mod routes;
mod sections;

pub use level::Level;
pub use lifecycle::{AuditSettings, HookMode, HookSettings, JanitorSettings};
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
use serde::Deserialize;

/// Every setting Hoist reads, after all layers are merged.
///
/// Section names are part of the interface: `HOIST_SERVER__BIND` overrides `[server] bind`.
#[derive(Debug, Clone, Default, Deserialize)]
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
}

impl ConfigSource {
    /// The layout of a checkout: `configs/` and `routes.toml` under `root`.
    pub fn in_dir(root: &Path, env: &str) -> Self {
        Self {
            config_dir: root.join("configs"),
            env: env.to_owned(),
            routes: root.join("routes.toml"),
        }
    }

    /// The merged layers, later wins: defaults, `default.toml`, `<env>.toml`, routes, `HOIST_*`.
    pub fn figment(&self) -> Figment {
        Figment::new()
            .merge(Toml::file(self.config_dir.join("default.toml")))
            .merge(Toml::file(
                self.config_dir.join(format!("{}.toml", self.env)),
            ))
            .merge(Toml::file(&self.routes))
            // Every setting lives in a section, so a variable without `__` (HOIST_ENV,
            // HOIST_CONFIG_DIR, HOIST_ROUTES, HOIST_TOKEN) names a file or a tool, not a key.
            .merge(
                Env::prefixed("HOIST_")
                    .filter(|key| key.as_str().contains("__"))
                    .split("__"),
            )
    }

    /// Loads the settings, refused on any problem of reading them: a missing file, an unknown
    /// key, a value of the wrong type. It does not check what the values mean; the
    /// `validation` module does, and starting the gateway does too.
    pub fn load(&self) -> Result<Settings, Vec<ConfigProblem>> {
        let (settings, problems) = self.read()?;
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(problems)
        }
    }

    /// The settings as far as they can be read, and the problems found on the way. A missing
    /// file or an unknown key still yields settings, so that the checks of the domains can add
    /// their problems and every problem is listed at once; a value that does not parse yields
    /// none.
    pub fn read(&self) -> Result<(Settings, Vec<ConfigProblem>), Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        for file in [
            self.config_dir.join("default.toml"),
            self.config_dir.join(format!("{}.toml", self.env)),
            self.routes.clone(),
        ] {
            if !file.is_file() {
                problems.push(ConfigProblem::new(
                    file.display().to_string(),
                    "file not found",
                ));
            }
        }
        let value: figment::value::Value = match self.figment().extract() {
            Ok(value) => value,
            Err(errors) => {
                problems.extend(errors.into_iter().map(ConfigProblem::from_figment));
                return Err(problems);
            }
        };
        match serde_ignored::deserialize(&value, |path| {
            problems.push(ConfigProblem::new(path.to_string(), "unknown key"));
        }) {
            Ok(settings) => Ok((settings, problems)),
            Err(error) => {
                problems.push(ConfigProblem::from_figment(error));
                Err(problems)
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
