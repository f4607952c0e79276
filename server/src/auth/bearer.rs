//! The bearer security scheme as the OpenAPI spec declares it.

use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

/// A JWT in `Authorization: Bearer <token>`; verified by [`super::Authenticator`].
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT")]
pub struct BearerAuth(pub Bearer);

impl BearerAuth {
    pub fn token(&self) -> &str {
        &self.0.token
    }
}
