//! `Level`: who may call a route. The configuration names it (`auth = "public"` on a
//! trigger) and the auth module enforces it (and re-exports it); it lives here so that the
//! configuration needs nothing of auth.

use serde::{Deserialize, Serialize};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// No token needed.
    Public,
    /// Any valid token.
    User,
    /// A valid token with `isSupreme: true`; the default where a level is declared, so a
    /// forgotten `auth` key fails closed.
    #[default]
    Supreme,
}

impl Level {
    /// Every level, from least to most privileged.
    pub const ALL: &'static [Level] = &[Level::Public, Level::User, Level::Supreme];

    /// The level as `routes.toml` and `GET /triggers` spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Public => "public",
            Level::User => "user",
            Level::Supreme => "supreme",
        }
    }
}
