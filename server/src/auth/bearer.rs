//! The bearer security scheme as the OpenAPI spec declares it, required or optional.

use poem::Request;
use poem::web::headers::{Authorization, HeaderMapExt, authorization};
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

/// A JWT sent as `Authorization: Bearer <token>`, signed with the key Hoist is configured
/// with; `isSupreme: true` in its claims grants the supreme level.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT")]
pub struct BearerAuth(pub Bearer);

impl BearerAuth {
    pub fn token(&self) -> &str {
        &self.0.token
    }
}

/// A bearer token where the route's level is decided per request (triggers): the spec says
/// the token is optional, and the handler checks it against the level once it knows it.
#[derive(SecurityScheme)]
pub enum MaybeBearer {
    Bearer(BearerAuth),
    /// No `Authorization: Bearer` header: enough for public routes only.
    #[oai(fallback)]
    Anonymous,
}

impl MaybeBearer {
    pub fn token(&self) -> Option<&str> {
        match self {
            MaybeBearer::Bearer(bearer) => Some(bearer.token()),
            MaybeBearer::Anonymous => None,
        }
    }
}

/// The bearer token of a request, for checks made before the operation's own extractors run
/// (transforms that refuse a request before reading its body).
pub fn bearer_token(request: &Request) -> Option<String> {
    request
        .headers()
        .typed_get::<Authorization<authorization::Bearer>>()
        .map(|header| header.token().to_owned())
}
