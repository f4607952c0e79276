//! The HTTP API as poem-openapi operations; its types become `openapi/openapi.yaml`.
//! Handlers are thin: they check auth, call a service, wrap the result.

mod audit;
pub(crate) mod files;
mod images;
mod meta;
pub(crate) mod objects;
pub(crate) mod spec;
mod triggers;
pub(crate) mod tus;

use poem_openapi::{OpenApiService, ServerObject, Tags};

pub use audit::AuditApi;
pub use files::{FilesApi, PresignApi};
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
pub type Api = (
    MetaApi,
    FilesApi,
    PresignApi,
    ImagesApi,
    TriggersApi,
    AuditApi,
);

/// The API as a poem endpoint plus its spec. Needs no runtime state, so the spec can be
/// printed without configuration or AWS.
pub fn service() -> OpenApiService<Api, ()> {
    OpenApiService::new(
        (
            MetaApi,
            FilesApi,
            PresignApi,
            ImagesApi,
            TriggersApi,
            AuditApi,
        ),
        "Hoist",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Upload and trigger gateway: stores files and images in S3 buckets named by alias, \
         lists and deletes them, and triggers Lambda functions and Step Functions. \
         Successful responses are `{data: ...}`; errors are \
         `{error: {code, status, message, correlationId}}`, where `code` is one of a closed \
         set (the `ErrorBody` schema lists them all). Each operation documents exactly the \
         statuses it can answer with and the codes under each, with one exception: any path \
         answers a method it does not serve with 405 `method-not-allowed`.",
    )
    // Relative: the spec is served by the gateway it describes, wherever that is.
    .server(ServerObject::new("/"))
}

/// The spec as served and checked in under `openapi/openapi.yaml`.
pub fn spec_yaml() -> String {
    spec::yaml()
}
