//! Closed string sets (error codes, access levels) as poem-openapi types whose schema is
//! written inline, `type: string` with its `enum`, wherever a field uses one. poem-openapi's
//! own `Enum` derive writes a `$ref`, which a described field wraps in `allOf`, and some
//! generators cannot take `allOf` over a string (openapi-python-client drops the whole model).

use std::collections::BTreeSet;
use std::sync::Mutex;

/// Implements poem-openapi's `Type`, `ParseFromJSON` and `ToJSON` for a `Copy` enum with
/// `const ALL: &[Self]` and `fn as_str(self) -> &'static str`, documented by `$description`.
macro_rules! inline_string_enum {
    ($ty:ty, $description:expr) => {
        impl poem_openapi::types::Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> std::borrow::Cow<'static, str> {
                "string".into()
            }

            fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
                poem_openapi::registry::MetaSchemaRef::Inline(Box::new(
                    poem_openapi::registry::MetaSchema {
                        description: Some($description),
                        enum_items: <$ty>::ALL
                            .iter()
                            .map(|item| serde_json::Value::from(item.as_str()))
                            .collect(),
                        ..poem_openapi::registry::MetaSchema::new("string")
                    },
                ))
            }

            fn as_raw_value(&self) -> Option<&Self> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
                Box::new(std::iter::once(self))
            }
        }

        impl poem_openapi::types::ParseFromJSON for $ty {
            fn parse_from_json(
                value: Option<serde_json::Value>,
            ) -> poem_openapi::types::ParseResult<Self> {
                let value = value.unwrap_or_default();
                value
                    .as_str()
                    .and_then(|text| {
                        <$ty>::ALL
                            .iter()
                            .copied()
                            .find(|item| item.as_str() == text)
                    })
                    .ok_or_else(|| poem_openapi::types::ParseError::expected_type(value))
            }
        }

        impl poem_openapi::types::ToJSON for $ty {
            fn to_json(&self) -> Option<serde_json::Value> {
                Some(serde_json::Value::from(self.as_str()))
            }
        }
    };
}

pub(crate) use inline_string_enum;

/// The spec's strings are `&'static str`; each distinct text built at run time (a table of
/// codes, the codes of an operation's status) is leaked once, so building the spec again
/// (start-up, tests) costs nothing more.
pub(crate) fn intern(text: String) -> &'static str {
    static SEEN: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut seen = SEEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(known) = seen.get(text.as_str()) {
        return known;
    }
    let leaked: &'static str = Box::leak(text.into_boxed_str());
    seen.insert(leaked);
    leaked
}
