//! `print-config`: the merged settings as TOML, every secret replaced by `"<redacted>"`.
//! Secrets are `SecretString`s, which cannot be serialized at all, so each secret field
//! names one of the serializers here and a new secret cannot be printed by accident.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::Serializer;
use serde::ser::SerializeMap;

use super::Settings;

/// What a set secret prints as.
pub const REDACTED: &str = "<redacted>";

/// The settings as a TOML document (unset optional keys left out).
pub fn to_toml(settings: &Settings) -> Result<String, toml::ser::Error> {
    toml::to_string(settings)
}

/// An optional secret: `"<redacted>"` when set.
pub(super) fn redacted<S: Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(_) => serializer.serialize_some(REDACTED),
        None => serializer.serialize_none(),
    }
}

/// A map of secrets (trigger headers): the names, each value `"<redacted>"`.
pub(super) fn redacted_values<S: Serializer>(
    secrets: &BTreeMap<String, SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(secrets.len()))?;
    for name in secrets.keys() {
        map.serialize_entry(name, REDACTED)?;
    }
    map.end()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TriggerRoute;

    #[test]
    fn secrets_are_redacted_and_everything_else_printed() {
        let mut settings = Settings::default();
        settings.auth.secret = Some(SecretString::from("the-auth-secret"));
        settings.aws.access_key_id = Some("AKIAEXAMPLE".into());
        settings.aws.secret_access_key = Some(SecretString::from("the-aws-secret"));
        let mut hook = TriggerRoute::default();
        hook.headers.insert(
            "x-hook-secret".into(),
            SecretString::from("the-hook-secret"),
        );
        settings.triggers.insert("hook".into(), hook);
        let text = to_toml(&settings).unwrap();
        for secret in ["the-auth-secret", "the-aws-secret", "the-hook-secret"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("secret = \"<redacted>\""), "{text}");
        assert!(text.contains("x-hook-secret = \"<redacted>\""), "{text}");
        assert!(text.contains("access_key_id = \"AKIAEXAMPLE\""), "{text}");
        assert!(text.contains("shutdown_timeout = \"30s\""), "{text}");
        // It reads back as the same settings (bar the secrets).
        let back: Settings = toml::from_str(&text).unwrap();
        assert_eq!(back.server.bind, settings.server.bind);
    }
}
