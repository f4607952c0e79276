//! Validation of the whole configuration: each domain checks its own section, and this runs
//! them all. `check-config` and `serve` load settings through [`load`]; [`Application::build`]
//! runs [`check`] again, so settings made in code (tests) are held to the same rules, and a
//! gateway that starts has a valid configuration that requests can rely on.
//!
//! [`Application::build`]: crate::Application::build

use crate::config::{ConfigProblem, ConfigSource, Settings};
use crate::storage::{self, upload};
use crate::{audit, auth, aws, hooks, http, images, janitor, limits, telemetry, triggers};

/// Reads the settings from `source` and checks them for its environment, listing every
/// problem at once: those of reading (missing files, unknown keys) and those of every section.
pub fn load(source: &ConfigSource) -> Result<Settings, Vec<ConfigProblem>> {
    let (settings, problems) = read(source);
    if problems.is_empty() {
        Ok(settings)
    } else {
        Err(problems)
    }
}

/// The settings as far as they can be read, with every problem of reading and of checking
/// them: what `print-config` shows.
pub fn read(source: &ConfigSource) -> (Settings, Vec<ConfigProblem>) {
    let (settings, mut problems) = source.read();
    problems.extend(problems_of(&settings, source.is_production()));
    (settings, problems)
}

/// Every problem of `settings` that holds in any environment (every environment but
/// `development` and `test` adds the production rules, which [`load`] applies).
pub fn check(settings: &Settings) -> Vec<ConfigProblem> {
    problems_of(settings, false)
}

fn problems_of(settings: &Settings, production: bool) -> Vec<ConfigProblem> {
    let mut problems = auth::check(&settings.auth, production);
    problems.extend(aws::check(&settings.aws));
    problems.extend(telemetry::check(&settings.telemetry));
    problems.extend(storage::check_buckets(&settings.buckets, &settings.files));
    problems.extend(storage::check_embedded(&settings.storage, production));
    problems.extend(images::check(
        &settings.images,
        &settings.files,
        &settings.buckets,
    ));
    problems.extend(upload::check(&settings.upload));
    problems.extend(storage::check_list(&settings.list));
    problems.extend(storage::check_delete(&settings.delete));
    problems.extend(storage::presign::check(&settings.presign));
    problems.extend(storage::tus::check(&settings.tus));
    problems.extend(triggers::check(&settings.triggers));
    problems.extend(http::serve::check(&settings.server));
    problems.extend(http::cors::check(&settings.cors));
    problems.extend(limits::check(settings));
    problems.extend(hooks::check(
        &settings.buckets,
        &settings.triggers,
        &settings.hooks,
    ));
    problems.extend(janitor::check(&settings.janitor));
    problems.extend(audit::check(&settings.audit, &settings.buckets));
    problems
}

#[cfg(test)]
mod tests;
