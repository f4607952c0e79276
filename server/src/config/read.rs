//! Reading the layers into `Settings` without stopping at the first problem: a file that is
//! not TOML is skipped, a value of the wrong type is dropped (its default applies) and
//! reported, an unknown key is reported with the closest known key, so that `check-config`
//! lists every problem at once.

use figment::Figment;
use figment::value::{Dict, Value};

use super::{ConfigProblem, Settings};

/// At most this many values of the wrong type are dropped before reading gives up (each
/// one is a retry of the whole deserialization; a configuration has far fewer values).
const MAX_TYPE_ERRORS: usize = 256;

/// The settings of `value`, every value that does not fit dropped, and the problems.
pub(super) fn settings(figment: &Figment, mut value: Value) -> (Settings, Vec<ConfigProblem>) {
    let mut problems = Vec::new();
    for _ in 0..MAX_TYPE_ERRORS {
        let mut unknown = Vec::new();
        match serde_ignored::deserialize::<_, _, Settings>(&value, |path| {
            unknown.push(path.to_string());
        }) {
            Ok(settings) => {
                problems.extend(unknown.iter().map(|key| unknown_key(key)));
                return (settings, problems);
            }
            Err(error) => {
                problems.push(type_problem(figment, &error));
                if error.path.is_empty() || !remove(&mut value, &error.path) {
                    break;
                }
            }
        }
    }
    (Settings::default(), problems)
}

fn type_problem(figment: &Figment, error: &figment::Error) -> ConfigProblem {
    let key = error.path.join(".");
    let mut message = error.kind.to_string();
    if let Some(source) = figment
        .find_metadata(&key)
        .and_then(|metadata| metadata.source.as_ref())
    {
        message = format!("{message} (from {source})");
    }
    ConfigProblem::new(
        if key.is_empty() {
            "(configuration)".to_owned()
        } else {
            key
        },
        message,
    )
}

/// Removes the value at `path`; false when there is none.
fn remove(value: &mut Value, path: &[String]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut current = value;
    for step in parents {
        current = match current {
            Value::Dict(_, dict) => match dict.get_mut(step) {
                Some(next) => next,
                None => return false,
            },
            Value::Array(_, items) => {
                match step.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                    Some(next) => next,
                    None => return false,
                }
            }
            _ => return false,
        };
    }
    match current {
        Value::Dict(_, dict) => dict.remove(last).is_some(),
        Value::Array(_, items) => match last.parse::<usize>() {
            Ok(index) if index < items.len() => {
                items.remove(index);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

fn unknown_key(path: &str) -> ConfigProblem {
    let segments: Vec<&str> = path.split('.').collect();
    let (last, parents) = segments.split_last().expect("split yields one segment");
    let message = match suggestion(parents, last) {
        Some(known) => format!("unknown key; did you mean `{known}`?"),
        None => "unknown key".to_owned(),
    };
    ConfigProblem::new(path, message)
}

/// The known key at the level of `parents` closest to `key`, when one is close enough to be
/// a misspelling (Damerau-Levenshtein distance at most a third of its length, at least 1).
fn suggestion(parents: &[&str], key: &str) -> Option<String> {
    let known = known_keys(parents);
    known
        .iter()
        .map(|candidate| (strsim::damerau_levenshtein(key, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate.clone())
}

/// The keys a section at `parents` has, read from the defaults' serialized form (so the list
/// cannot drift from the structs). Under `buckets` and `triggers` the second segment is a
/// name chosen in routes.toml, and the keys are those of one route.
fn known_keys(parents: &[&str]) -> Vec<String> {
    let mut tree = serde_json::to_value(Settings::default()).unwrap_or_default();
    let mut rest = parents;
    if let [section @ ("buckets" | "triggers"), _name, tail @ ..] = parents {
        tree = if *section == "buckets" {
            serde_json::to_value(super::BucketRoute::default())
        } else {
            serde_json::to_value(super::TriggerRoute::default())
        }
        .unwrap_or_default();
        rest = tail;
    }
    for step in rest {
        tree = tree.get(step).cloned().unwrap_or_default();
    }
    tree.as_object()
        .map(|object| object.keys().cloned().collect())
        .unwrap_or_default()
}

/// An empty dictionary, for when no layer could be read at all.
pub(super) fn empty() -> Value {
    Value::from(Dict::new())
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::result_large_err,
        reason = "figment::Jail closures return figment::Error, which is large"
    )]

    use figment::Jail;

    use super::super::tests::{ROUTES, write_base};
    use super::super::{ConfigSource, Named};

    /// A source in the jail's folder, with no location named.
    fn unnamed(jail: &Jail, env: &str) -> ConfigSource {
        ConfigSource {
            named: Named::default(),
            ..ConfigSource::in_dir(jail.directory(), env)
        }
    }

    #[test]
    fn every_file_is_optional_unless_named() {
        Jail::expect_with(|jail| {
            let (settings, problems) = unnamed(jail, "production").read();
            assert!(problems.is_empty(), "{problems:?}");
            assert!(settings.buckets.is_empty());
            assert_eq!(settings.auth.leeway_secs, 30, "built-in defaults");
            // Named, the folder and its <env>.toml must exist, and so must the routes file.
            let problems = ConfigSource::in_dir(jail.directory(), "production")
                .read()
                .1;
            let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
            assert_eq!(keys.len(), 3, "{problems:?}");
            assert!(keys[0].ends_with("configs"), "{problems:?}");
            assert!(keys[1].ends_with("production.toml"), "{problems:?}");
            assert!(keys[2].ends_with("routes.toml"), "{problems:?}");
            write_base(jail);
            jail.create_file("routes.toml", ROUTES)?;
            let named = ConfigSource::in_dir(jail.directory(), "test");
            assert!(
                named.read().1.is_empty(),
                "default.toml need not be there either"
            );
            Ok(())
        });
    }

    #[test]
    fn every_wrong_value_and_unknown_key_is_reported() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "routes.toml",
                r#"
                [server]
                shutdown_timeout = 30
                bnd = "127.0.0.1:1"
                [buckets.uploads]
                nmae = "acme"
                force_path_style = "yes"
                [triggers.hook]
                kind = "http"
                target = "http://127.0.0.1:1/"
                timout = "5s"
                auth = "admin"
                [bucket.x]
                "#,
            )?;
            jail.set_env("HOIST_LIST__MAX_KEYS", "many");
            let (settings, problems) = unnamed(jail, "test").read();
            let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
            let has = |needle: &str| shown.iter().any(|p| p.contains(needle));
            assert_eq!(problems.len(), 8, "{shown:#?}");
            assert!(has("server.shutdown_timeout: invalid type"), "{shown:#?}");
            assert!(
                has("routes.toml"),
                "the file a wrong value came from: {shown:#?}"
            );
            assert!(has("buckets.uploads.force_path_style"), "{shown:#?}");
            assert!(has("triggers.hook.auth"), "{shown:#?}");
            assert!(has("list.max_keys"), "{shown:#?}");
            assert!(
                has("server.bnd: unknown key; did you mean `bind`?"),
                "{shown:#?}"
            );
            assert!(
                has("buckets.uploads.nmae: unknown key; did you mean `name`?"),
                "{shown:#?}"
            );
            assert!(
                has("triggers.hook.timout: unknown key; did you mean `timeout`?"),
                "{shown:#?}"
            );
            assert!(
                has("bucket: unknown key; did you mean `buckets`?"),
                "{shown:#?}"
            );
            // What could be read is kept; what could not has its default.
            assert_eq!(settings.triggers["hook"].kind, "http");
            assert_eq!(
                settings.server.shutdown_timeout,
                std::time::Duration::from_secs(30)
            );
            Ok(())
        });
    }

    #[test]
    fn a_file_that_is_not_toml_is_reported_and_the_rest_read() {
        Jail::expect_with(|jail| {
            write_base(jail);
            jail.create_file("configs/test.toml", "[auth\nsecret = 1")?;
            jail.create_file("routes.toml", ROUTES)?;
            let (settings, problems) = ConfigSource::in_dir(jail.directory(), "test").read();
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(problems[0].key.ends_with("test.toml"));
            assert!(problems[0].message.contains("not valid TOML"));
            assert!(settings.buckets.contains_key("uploads"));
            Ok(())
        });
    }
}
