//! Tests of configuration layering and of `check-config`'s problem reports.

#![allow(
    clippy::result_large_err,
    reason = "figment::Jail closures return figment::Error, which is large"
)]

use super::*;
use figment::Jail;
use std::path::Path;

/// The smallest valid routes file.
const ROUTES: &str = "[buckets.uploads]\n[files]\ndefault_bucket = \"uploads\"\n";

fn write_base(jail: &mut Jail) {
    jail.create_dir("configs").unwrap();
    jail.create_file(
        "configs/default.toml",
        r#"
        [server]
        bind = "127.0.0.1:8080"
        [auth]
        algorithm = "HS256"
        "#,
    )
    .unwrap();
    jail.create_file(
        "configs/test.toml",
        r#"
        [auth]
        secret = "test-secret-test-secret-test-secret"
        "#,
    )
    .unwrap();
}

#[test]
fn env_var_overrides_a_file_value() {
    Jail::expect_with(|jail| {
        write_base(jail);
        jail.create_file(
            "routes.toml",
            "[buckets.uploads]\nname = \"acme-uploads\"\n[files]\ndefault_bucket = \"uploads\"\n",
        )?;
        jail.set_env("HOIST_SERVER__BIND", "0.0.0.0:9999");
        jail.set_env("HOIST_BUCKETS__UPLOADS__REGION", "eu-west-1");
        // Variables without a section separator name tools, not keys: they must not break loading.
        jail.set_env("HOIST_ENV", "test");
        let settings = ConfigSource::in_dir(jail.directory(), "test")
            .load()
            .map_err(|p| format!("{p:?}"))?;
        assert_eq!(settings.server.bind.to_string(), "0.0.0.0:9999");
        assert_eq!(
            settings.buckets["uploads"].region.as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            settings.buckets["uploads"].name.as_deref(),
            Some("acme-uploads")
        );
        Ok(())
    });
}

#[test]
fn env_file_overrides_default_file() {
    Jail::expect_with(|jail| {
        write_base(jail);
        jail.create_file("routes.toml", ROUTES)?;
        let settings = ConfigSource::in_dir(jail.directory(), "test")
            .load()
            .map_err(|p| format!("{p:?}"))?;
        assert!(settings.auth.secret.is_some());
        assert_eq!(settings.list.max_keys, 10_000, "built-in default");
        Ok(())
    });
}

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
        let problems = ConfigSource::in_dir(jail.directory(), "test")
            .load()
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
        let problems = ConfigSource::in_dir(jail.directory(), "production")
            .load()
            .expect_err("must not load");
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
            let settings = ConfigSource::in_dir(&root, env).load();
            assert!(settings.is_ok(), "{env}: {:?}", settings.err());
        }
        // Production has no secret on purpose: it must come from the environment.
        let problems = ConfigSource::in_dir(&root, "production")
            .load()
            .unwrap_err();
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
        let problems = ConfigSource::in_dir(jail.directory(), "test")
            .load()
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
fn trigger_header_secrets_can_come_from_the_environment() {
    Jail::expect_with(|jail| {
        write_base(jail);
        jail.create_file(
            "routes.toml",
            r#"
            [buckets.uploads]
            [files]
            default_bucket = "uploads"
            [triggers.hook]
            kind = "http"
            target = "https://hooks.example.com/x"
            auth = "user"
            timeout = "5s"
            "#,
        )?;
        jail.set_env("HOIST_TRIGGERS__HOOK__HEADERS__X-HOOK-SECRET", "s3cr3t");
        let settings = ConfigSource::in_dir(jail.directory(), "test")
            .load()
            .map_err(|p| format!("{p:?}"))?;
        let hook = &settings.triggers["hook"];
        assert_eq!(hook.auth, crate::auth::Level::User);
        assert_eq!(hook.timeout, Some(std::time::Duration::from_secs(5)));
        let secret = hook.headers.get("x-hook-secret").expect("the header");
        assert_eq!(secrecy::ExposeSecret::expose_secret(secret), "s3cr3t");
        assert!(
            !format!("{settings:?}").contains("s3cr3t"),
            "secrets stay out of Debug output"
        );
        Ok(())
    });
}
