//! Bearer-token authentication: JWT verification, access levels, dev-token minting, and the
//! checks of `[auth]` (`check`).

mod bearer;
mod check;
mod dev;

pub use crate::config::Level;
pub use bearer::{BearerAuth, MaybeBearer, bearer_token};
pub use check::check;
pub use dev::DevTokenError;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::config::{AuthAlgorithm, AuthSettings};

/// The claims Hoist reads from a token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    pub exp: u64,
    #[serde(default, rename = "isSupreme")]
    pub is_supreme: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
}

/// The `aud` claim: one audience, or several (RFC 7519 §4.1.3 allows both). jsonwebtoken
/// checks it against `[auth] audience`; this type only has to read either form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

/// Why a request was not let through.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("this route needs a bearer token")]
    Missing,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid: {0}")]
    Invalid(String),
    #[error("this route needs a supreme (admin) token")]
    NotSupreme,
}

/// A problem with the `[auth]` settings found while building the verifier.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    #[error("auth.secret is required for HS256")]
    MissingSecret,
    #[error("auth.public_key or auth.public_key_file is required for {0:?}")]
    MissingPublicKey(AuthAlgorithm),
    #[error("cannot read auth.public_key_file: {0}")]
    ReadKey(#[from] std::io::Error),
    #[error("auth public key is not a valid PEM key: {0}")]
    BadKey(jsonwebtoken::errors::Error),
}

/// Verifies tokens against the configured key and, in development, mints them.
pub struct Authenticator {
    decoding: DecodingKey,
    validation: Validation,
    /// Present only when dev tokens are enabled (HS256).
    minting: Option<(EncodingKey, Option<String>, Option<String>)>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("algorithms", &self.validation.algorithms)
            .field("dev_tokens", &self.minting.is_some())
            .finish()
    }
}

impl Authenticator {
    pub fn from_settings(settings: &AuthSettings) -> Result<Self, AuthConfigError> {
        let (algorithm, decoding) = match settings.algorithm {
            AuthAlgorithm::HS256 => {
                let secret = settings
                    .secret
                    .as_ref()
                    .ok_or(AuthConfigError::MissingSecret)?;
                (
                    Algorithm::HS256,
                    DecodingKey::from_secret(secret.expose_secret().as_bytes()),
                )
            }
            algorithm @ (AuthAlgorithm::RS256 | AuthAlgorithm::ES256) => {
                let pem = match (&settings.public_key, &settings.public_key_file) {
                    (Some(pem), _) => pem.clone(),
                    (None, Some(path)) => std::fs::read_to_string(path)?,
                    (None, None) => return Err(AuthConfigError::MissingPublicKey(algorithm)),
                };
                let decoded = if algorithm == AuthAlgorithm::RS256 {
                    (Algorithm::RS256, DecodingKey::from_rsa_pem(pem.as_bytes()))
                } else {
                    (Algorithm::ES256, DecodingKey::from_ec_pem(pem.as_bytes()))
                };
                (decoded.0, decoded.1.map_err(AuthConfigError::BadKey)?)
            }
        };
        // The algorithm is pinned: a token naming any other one (including `none`) is refused,
        // which rules out algorithm-confusion attacks.
        let mut validation = Validation::new(algorithm);
        validation.leeway = settings.leeway_secs;
        // A token that is not valid yet is refused like an expired one, with the same leeway.
        validation.validate_nbf = true;
        // A configured issuer or audience must be present, not merely right when present.
        let mut required = vec!["exp"];
        required.extend(settings.issuer.as_ref().map(|_| "iss"));
        required.extend(settings.audience.as_ref().map(|_| "aud"));
        validation.set_required_spec_claims(&required);
        match &settings.issuer {
            Some(issuer) => validation.set_issuer(&[issuer]),
            None => validation.iss = None,
        }
        match &settings.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        let minting = match (&settings.secret, settings.dev_tokens) {
            (Some(secret), true) if algorithm == Algorithm::HS256 => Some((
                EncodingKey::from_secret(secret.expose_secret().as_bytes()),
                settings.issuer.clone(),
                settings.audience.clone(),
            )),
            _ => None,
        };
        Ok(Self {
            decoding,
            validation,
            minting,
        })
    }

    /// Verifies a token and returns its claims.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|error| match error.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::InvalidSignature => AuthError::Invalid("bad signature".into()),
                ErrorKind::InvalidAlgorithm => AuthError::Invalid(
                    "signed with an algorithm this server does not accept".into(),
                ),
                ErrorKind::InvalidIssuer => AuthError::Invalid("wrong issuer".into()),
                ErrorKind::InvalidAudience => AuthError::Invalid("wrong audience".into()),
                ErrorKind::ImmatureSignature => {
                    AuthError::Invalid("not valid yet (`nbf` is in the future)".into())
                }
                ErrorKind::MissingRequiredClaim(claim) => {
                    AuthError::Invalid(format!("missing claim `{claim}`"))
                }
                _ => AuthError::Invalid("malformed token".into()),
            })
    }

    /// Checks a request's token (if any) against the level a route needs.
    pub fn authorize(
        &self,
        token: Option<&str>,
        level: Level,
    ) -> Result<Option<Claims>, AuthError> {
        let claims = match token {
            Some(token) => Some(self.verify(token)?),
            None if level == Level::Public => None,
            None => return Err(AuthError::Missing),
        };
        if level == Level::Supreme && !claims.as_ref().is_some_and(|c| c.is_supreme) {
            return Err(AuthError::NotSupreme);
        }
        Ok(claims)
    }

    /// Whether `GET /dev/token` is served.
    pub fn dev_tokens_enabled(&self) -> bool {
        self.minting.is_some()
    }

    /// Mints a development token; `None` unless dev tokens are enabled.
    pub fn mint(&self, sub: Option<String>, supreme: bool, ttl: Duration) -> Option<String> {
        let (key, iss, aud) = self.minting.as_ref()?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let claims = Claims {
            sub,
            exp: (now + ttl).as_secs(),
            is_supreme: supreme,
            iss: iss.clone(),
            aud: aud.clone().map(Audience::One),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, key).ok()
    }
}

#[cfg(test)]
mod tests;
