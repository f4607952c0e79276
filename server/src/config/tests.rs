//! Tests of configuration layering and of the problems reading finds; the helpers here
//! also serve the tests of the whole configuration's checks (`crate::validation`).

#![allow(
    clippy::result_large_err,
    reason = "figment::Jail closures return figment::Error, which is large"
)]

use super::*;
use figment::Jail;
use std::path::Path;

/// The smallest valid routes file.
pub(crate) const ROUTES: &str = "[buckets.uploads]\n[files]\ndefault_bucket = \"uploads\"\n";

/// `configs/default.toml` and `configs/test.toml` of a valid `test` environment.
pub(crate) fn write_base(jail: &mut Jail) {
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
        assert_eq!(hook.auth, Level::User);
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

#[test]
fn the_checked_in_configs_read_for_every_environment() {
    // Loading reads HOIST_* variables, which other tests set inside a Jail; a Jail of its own
    // keeps this test from running while they are set.
    Jail::expect_with(|_| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for env in ["development", "test", "production"] {
            let settings = ConfigSource::in_dir(&root, env).load();
            assert!(settings.is_ok(), "{env}: {:?}", settings.err());
        }
        Ok(())
    });
}

#[test]
fn unknown_keys_and_missing_files_are_reported_with_the_settings() {
    Jail::expect_with(|jail| {
        write_base(jail);
        jail.create_file("routes.toml", "[buckets.uploads]\nregoin = \"us-east-1\"\n")?;
        let source = ConfigSource::in_dir(jail.directory(), "staging");
        let (settings, problems) = source.read();
        assert!(settings.buckets.contains_key("uploads"));
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys.len(), 2, "{problems:?}");
        assert!(keys[0].ends_with("staging.toml"), "{problems:?}");
        assert_eq!(keys[1], "buckets.uploads.regoin");
        assert_eq!(source.load().unwrap_err(), problems);
        Ok(())
    });
}

#[test]
fn default_toml_documents_exactly_the_built_in_defaults() {
    Jail::expect_with(|jail| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        jail.create_dir("configs")?;
        std::fs::copy(
            root.join("configs/default.toml"),
            jail.directory().join("configs/default.toml"),
        )
        .map_err(|e| e.to_string())?;
        let source = ConfigSource {
            named: Named::default(),
            ..ConfigSource::in_dir(jail.directory(), "production")
        };
        let (from_file, problems) = source.read();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            to_toml(&from_file).unwrap(),
            to_toml(&Settings::default()).unwrap(),
            "configs/default.toml and the compiled-in defaults differ"
        );
        Ok(())
    });
}

#[test]
fn the_production_example_reads_and_passes_its_checks() {
    Jail::expect_with(|jail| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        jail.create_dir("configs")?;
        std::fs::copy(
            root.join("configs/production.example.toml"),
            jail.directory().join("configs/production.toml"),
        )
        .map_err(|e| e.to_string())?;
        jail.create_file("routes.toml", ROUTES)?;
        jail.set_env("HOIST_AUTH__SECRET", "a-production-secret-of-32-bytes!");
        let source = ConfigSource::in_dir(jail.directory(), "production");
        let settings = crate::validation::load(&source).map_err(|p| format!("{p:?}"))?;
        assert_eq!(settings.telemetry.log_format, LogFormat::Json);
        assert!(settings.server.admin_bind.is_some());
        assert!(settings.aws.endpoint.is_none() && settings.aws.access_key_id.is_none());
        Ok(())
    });
}
