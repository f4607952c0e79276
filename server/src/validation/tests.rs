//! Tests of the whole configuration's checks, as `check-config` reports them: every problem
//! of every section at once, named by its key.

#![allow(
    clippy::result_large_err,
    reason = "figment::Jail closures return figment::Error, which is large"
)]

use std::path::Path;

use figment::Jail;

use super::*;
use crate::config::tests::{ROUTES, write_base};

#[test]
fn broken_routes_report_every_problem() {
    Jail::expect_with(|jail| {
        write_base(jail);
        jail.create_file(
            "routes.toml",
            r#"
            [buckets.uploads]
            name = "acme-uploads"
            regoin = "us-east-1"
            [buckets.tmol]
            region = "mars-1x"
            role_arn = "arn:aws:iam::42:role/x"
            [files]
            default_bucket = "nowhere"
            "#,
        )?;
        let problems = load(&ConfigSource::in_dir(jail.directory(), "test"))
            .expect_err("broken routes must not load");
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert!(keys.contains(&"buckets.uploads.regoin"), "{problems:?}");
        assert!(keys.contains(&"buckets.tmol.region"), "{problems:?}");
        assert!(keys.contains(&"buckets.tmol.role_arn"), "{problems:?}");
        assert!(keys.contains(&"files.default_bucket"), "{problems:?}");
        assert_eq!(problems.len(), 4, "{problems:?}");
        Ok(())
    });
}

#[test]
fn production_refuses_dev_tokens_and_missing_secret() {
    Jail::expect_with(|jail| {
        write_base(jail);
        jail.create_file("configs/production.toml", "[auth]\ndev_tokens = true\n")?;
        jail.create_file("routes.toml", ROUTES)?;
        let problems =
            load(&ConfigSource::in_dir(jail.directory(), "production")).expect_err("must not load");
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["auth.secret", "auth.dev_tokens"], "{problems:?}");
        Ok(())
    });
}

#[test]
fn the_checked_in_configs_load_for_every_environment() {
    // Loading reads HOIST_* variables, which other tests set inside a Jail; a Jail of its own
    // keeps this test from running while they are set.
    Jail::expect_with(|_| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for env in ["development", "test"] {
            let settings = load(&ConfigSource::in_dir(&root, env));
            assert!(settings.is_ok(), "{env}: {:?}", settings.err());
        }
        // Production has no secret on purpose: it must come from the environment.
        let problems = load(&ConfigSource::in_dir(&root, "production")).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].key, "auth.secret");
        Ok(())
    });
}

#[test]
fn broken_triggers_report_every_problem() {
    Jail::expect_with(|jail| {
        write_base(jail);
        jail.create_file(
            "routes.toml",
            r#"
            [buckets.uploads]
            [files]
            default_bucket = "uploads"
            [triggers.waveprep]
            kind = "lambda"
            target = "processSmsWaveFilesLambda"
            tiemout = "3s"
            [triggers.queue]
            kind = "sqs"
            target = "jobs"
            [triggers.selection]
            kind = "step-function"
            target = "selectionStepFn"
            mode = "async"
            [triggers.hook]
            kind = "http"
            target = "not a url"
            "#,
        )?;
        let problems = load(&ConfigSource::in_dir(jail.directory(), "test"))
            .expect_err("broken triggers must not load");
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "triggers.waveprep.tiemout",
                "triggers.hook.target",
                "triggers.queue.kind",
                "triggers.selection.target",
                "triggers.selection.mode",
            ],
            "{problems:?}"
        );
        Ok(())
    });
}

#[test]
fn settings_made_in_code_are_held_to_the_same_rules() {
    let keys: Vec<String> = check(&Settings::default())
        .into_iter()
        .map(|p| p.key)
        .collect();
    assert_eq!(keys, ["auth.secret"]);
}

#[test]
fn only_loading_knows_the_environment() {
    Jail::expect_with(|jail| {
        write_base(jail);
        jail.create_file("configs/production.toml", "[auth]\ndev_tokens = true\n")?;
        jail.create_file("routes.toml", ROUTES)?;
        jail.set_env("HOIST_AUTH__SECRET", "a-production-secret-of-32-bytes!");
        let source = ConfigSource::in_dir(jail.directory(), "production");
        let problems = load(&source).expect_err("dev tokens in production");
        assert!(
            problems[0]
                .to_string()
                .starts_with("auth.dev_tokens: must be off in production"),
            "{problems:?}"
        );
        let settings = source.load().map_err(|p| format!("{p:?}"))?;
        assert_eq!(check(&settings), []);
        Ok(())
    });
}
