//! `Level`: who may call a route. The configuration names it (`auth = "public"` on a
//! trigger) and the auth module enforces it (and re-exports it); it lives here so that the
//! configuration needs nothing of auth.

use serde::{Deserialize, Serialize};

/// Who may call a route.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Default,
    Deserialize,
    Serialize,
    poem_openapi::Enum,
)]
#[serde(rename_all = "lowercase")]
#[oai(rename_all = "lowercase")]
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
