//! What an operation can refuse with, in its type: `Refused<L>` is the error half of every
//! operation's result, where `L` lists the error types the handler can produce. The spec's
//! error responses of the operation (statuses, and the codes under each) are derived from
//! `L`; what poem itself answers before a handler runs is added by `api::spec`.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use poem::IntoResponse;
use poem_openapi::ApiResponse;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;

use super::error::ErrorEnvelope;
use super::schema::intern;
use super::{ApiError, ErrorCode};

/// An error type (or a list of them) and the codes it can be answered with.
pub trait Coded {
    /// Every code a value of this type maps to.
    fn codes() -> Vec<ErrorCode>;
}

impl Coded for () {
    fn codes() -> Vec<ErrorCode> {
        Vec::new()
    }
}

macro_rules! coded_tuple {
    ($($name:ident),+) => {
        impl<$($name: Coded),+> Coded for ($($name,)+) {
            fn codes() -> Vec<ErrorCode> {
                let mut codes = Vec::new();
                $(codes.extend($name::codes());)+
                codes
            }
        }
    };
}
coded_tuple!(A);
coded_tuple!(A, B);
coded_tuple!(A, B, C);
coded_tuple!(A, B, C, D);
coded_tuple!(A, B, C, D, E);
coded_tuple!(A, B, C, D, E, F);

/// An error of an operation whose handler produces the error types `L`.
pub struct Refused<L> {
    pub error: ApiError,
    list: PhantomData<fn() -> L>,
}

impl<L> fmt::Debug for Refused<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.error, f)
    }
}

/// Any domain error converts, so `?` works in handlers; a code that `L` does not list would
/// make the spec lie, so debug builds (every test, the fuzzer's server) stop on it.
impl<L: Coded, E: Into<ApiError>> From<E> for Refused<L> {
    fn from(error: E) -> Self {
        let error = error.into();
        debug_assert!(
            L::codes().contains(&error.code),
            "`{}` is not among the codes this operation documents: {:?}",
            error.code,
            L::codes()
        );
        Self {
            error,
            list: PhantomData,
        }
    }
}

impl<L> IntoResponse for Refused<L> {
    fn into_response(self) -> poem::Response {
        self.error.into_response()
    }
}

impl<L> From<Refused<L>> for poem::Error {
    fn from(refused: Refused<L>) -> Self {
        refused.error.into()
    }
}

impl<L: Coded + 'static> ApiResponse for Refused<L> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: by_status(L::codes())
                .into_iter()
                .map(|(status, codes)| error_response(status, intern(describe(&codes))))
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        ErrorEnvelope::register(registry);
    }
}

/// Codes grouped by the status they are answered with, each once, in table order.
pub fn by_status(codes: impl IntoIterator<Item = ErrorCode>) -> BTreeMap<u16, Vec<ErrorCode>> {
    let codes: Vec<ErrorCode> = codes.into_iter().collect();
    let mut grouped: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for code in ErrorCode::ALL.iter().copied().filter(|c| codes.contains(c)) {
        grouped
            .entry(code.status().as_u16())
            .or_default()
            .push(code);
    }
    grouped
}

/// One documented error status: the envelope, described by the codes it carries.
pub fn error_response(status: u16, description: &'static str) -> MetaResponse {
    MetaResponse {
        description,
        status: Some(status),
        status_range: None,
        content: vec![MetaMediaType {
            content_type: "application/json; charset=utf-8",
            schema: ErrorEnvelope::schema_ref(),
        }],
        headers: vec![],
    }
}

/// `- \`code\`: meaning` lines, the form `api::spec` also appends to.
pub fn describe(codes: &[ErrorCode]) -> String {
    codes
        .iter()
        .map(|code| line(*code))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn line(code: ErrorCode) -> String {
    format!("- `{}`: {}", code.as_str(), code.meaning())
}
