//! The HTTP API as poem-openapi operations; its types become `openapi/openapi.yaml`.
//! Handlers are thin: they check auth, call a service, wrap the result.

mod audit;
pub(crate) mod files;
mod images;
mod meta;
pub(crate) mod objects;
mod triggers;

use poem_openapi::{OpenApiService, Tags};

pub use audit::AuditApi;
pub use files::FilesApi;
pub use images::ImagesApi;
pub use meta::MetaApi;
pub use triggers::TriggersApi;

/// Groups of operations in the spec.
#[derive(Tags)]
pub enum Tag {
    /// Health, metadata and development helpers.
    Meta,
    /// Uploading, listing and deleting files in bucket aliases.
    Files,
    /// Base64 image uploads.
    Images,
    /// Lambda functions, Step Functions and webhooks called by a declared name.
    Triggers,
    /// The audit trail of destructive and privileged actions.
    Audit,
}

/// Every API of the gateway.
pub type Api = (MetaApi, FilesApi, ImagesApi, TriggersApi, AuditApi);

/// The API as a poem endpoint plus its spec. Needs no runtime state, so the spec can be
/// printed without configuration or AWS.
pub fn service() -> OpenApiService<Api, ()> {
    OpenApiService::new(
        (MetaApi, FilesApi, ImagesApi, TriggersApi, AuditApi),
        "Hoist",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Upload and trigger gateway: stores files and images in S3 buckets named by alias, \
         lists and deletes them, and triggers Lambda functions and Step Functions. \
         Successful responses are `{data: ...}`; errors are \
         `{error: {code, status, message, correlationId}}`.",
    )
}

/// The spec as checked in under `openapi/openapi.yaml`.
pub fn spec_yaml() -> String {
    service().spec_yaml()
}
