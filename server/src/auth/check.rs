//! The checks of `[auth]`: the pinned algorithm has its key, and dev tokens are possible
//! (HS256) and allowed (not in production). Production also refuses a secret that anyone can
//! read (checked in) or guess by brute force (shorter than 32 bytes, RFC 7518's minimum for
//! HS256).

use secrecy::ExposeSecret;

use crate::config::{AuthAlgorithm, AuthSettings, ConfigProblem, checked_in_secrets};

/// RFC 7518 §3.2: an HS256 key is at least as long as the hash, 256 bits.
const MIN_SECRET_BYTES: usize = 32;

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
            "must be off in production (anyone could mint a supreme token); dev tokens are \
             for HOIST_ENV=development or test",
        ));
    }
    if production
        && auth.algorithm == AuthAlgorithm::HS256
        && let Some(secret) = &auth.secret
    {
        let secret = secret.expose_secret();
        if checked_in_secrets().iter().any(|known| known == secret) {
            problems.push(ConfigProblem::new(
                "auth.secret",
                "is the secret checked in for development or tests, which anyone can read; \
                 set HOIST_AUTH__SECRET to a secret of your own",
            ));
        } else if secret.len() < MIN_SECRET_BYTES {
            problems.push(ConfigProblem::new(
                "auth.secret",
                format!("must be at least {MIN_SECRET_BYTES} bytes in production (RFC 7518)"),
            ));
        }
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
            secret: Some(SecretString::from("a-production-secret-of-32-bytes!")),
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
            secret: Some(SecretString::from("a-production-secret-of-32-bytes!")),
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

    #[test]
    fn production_refuses_checked_in_and_short_secrets() {
        for secret in checked_in_secrets() {
            let auth = AuthSettings {
                secret: Some(SecretString::from(secret)),
                ..AuthSettings::default()
            };
            assert!(keys(&auth, false).is_empty());
            let problems = check(&auth, true);
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(problems[0].message.contains("checked in"), "{problems:?}");
        }
        let short = AuthSettings {
            secret: Some(SecretString::from("s3cr3t")),
            ..AuthSettings::default()
        };
        assert!(keys(&short, false).is_empty());
        assert_eq!(keys(&short, true), ["auth.secret"]);
    }
}
