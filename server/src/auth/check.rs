//! The checks of `[auth]`: the pinned algorithm has its key, and dev tokens are possible
//! (HS256) and allowed (not in production).

use crate::config::{AuthAlgorithm, AuthSettings, ConfigProblem};

/// Every problem of `[auth]`; `production` adds the rules of the production environment.
pub fn check(auth: &AuthSettings, production: bool) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    match auth.algorithm {
        AuthAlgorithm::HS256 => {
            if auth.secret.is_none() {
                problems.push(ConfigProblem::new(
                    "auth.secret",
                    "HS256 needs a secret (set HOIST_AUTH__SECRET)",
                ));
            }
        }
        AuthAlgorithm::RS256 | AuthAlgorithm::ES256 => {
            if auth.public_key.is_none() && auth.public_key_file.is_none() {
                problems.push(ConfigProblem::new(
                    "auth.public_key",
                    format!("{:?} needs public_key or public_key_file", auth.algorithm),
                ));
            }
            if auth.dev_tokens {
                problems.push(ConfigProblem::new(
                    "auth.dev_tokens",
                    "dev tokens can only be minted with HS256",
                ));
            }
        }
    }
    if production && auth.dev_tokens {
        problems.push(ConfigProblem::new(
            "auth.dev_tokens",
            "must be off in production",
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    fn keys(auth: &AuthSettings, production: bool) -> Vec<String> {
        check(auth, production).into_iter().map(|p| p.key).collect()
    }

    #[test]
    fn each_algorithm_needs_its_key() {
        let hs256 = AuthSettings {
            secret: Some(SecretString::from("s3cr3t")),
            ..AuthSettings::default()
        };
        assert!(keys(&hs256, true).is_empty());
        assert_eq!(keys(&AuthSettings::default(), false), ["auth.secret"]);
        let rs256 = AuthSettings {
            algorithm: AuthAlgorithm::RS256,
            ..AuthSettings::default()
        };
        assert_eq!(keys(&rs256, false), ["auth.public_key"]);
    }

    #[test]
    fn dev_tokens_need_hs256_and_are_off_in_production() {
        let dev = AuthSettings {
            secret: Some(SecretString::from("s3cr3t")),
            dev_tokens: true,
            ..AuthSettings::default()
        };
        assert!(keys(&dev, false).is_empty());
        assert_eq!(keys(&dev, true), ["auth.dev_tokens"]);
        let es256 = AuthSettings {
            algorithm: AuthAlgorithm::ES256,
            public_key_file: Some("/etc/hoist/jwt.pub.pem".into()),
            dev_tokens: true,
            ..AuthSettings::default()
        };
        assert_eq!(keys(&es256, false), ["auth.dev_tokens"]);
    }
}
