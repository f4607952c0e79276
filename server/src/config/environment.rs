//! Environments: which names get the development conveniences, and the secrets checked in for
//! them (which every other environment refuses).

/// The environment when none is named: a binary started anywhere runs as production.
pub const PRODUCTION: &str = "production";

/// The environments that may use dev tokens, the embedded store and the checked-in secrets:
/// `development` (`cargo run`) and `test` (the suite). Every other name gets the production
/// rules, so a misspelled or new environment fails closed.
pub const DEVELOPMENT_ENVIRONMENTS: &[&str] = &["development", "test"];

/// Whether `env` gets the production rules.
pub fn is_production(env: &str) -> bool {
    !DEVELOPMENT_ENVIRONMENTS.contains(&env)
}

/// The files of the development environments, compiled in so that their secrets are known
/// to the binary even where the files are not.
const CHECKED_IN: &[&str] = &[
    include_str!("../../../configs/development.toml"),
    include_str!("../../../configs/test.toml"),
];

/// The `[auth] secret` values of the checked-in development and test configuration: public,
/// so never acceptable in production.
pub fn checked_in_secrets() -> Vec<String> {
    CHECKED_IN
        .iter()
        .filter_map(|text| text.parse::<toml::Table>().ok())
        .filter_map(|table| {
            table
                .get("auth")?
                .get("secret")?
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_development_and_test_are_not_production() {
        assert!(!is_production("development"));
        assert!(!is_production("test"));
        for env in [PRODUCTION, "staging", "dev", "Development", ""] {
            assert!(is_production(env), "{env}");
        }
    }

    #[test]
    fn both_checked_in_secrets_are_known() {
        let secrets = checked_in_secrets();
        assert_eq!(secrets.len(), 2, "{secrets:?}");
        assert!(
            secrets
                .iter()
                .any(|s| s.starts_with("hoist-development-secret"))
        );
    }
}
