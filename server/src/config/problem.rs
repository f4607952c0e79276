//! `ConfigProblem`: one thing wrong with the configuration, named by its key. Loading reports
//! the problems of parsing; each domain reports the problems of its own section.

use std::fmt;

/// One thing wrong with the configuration, named by its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub key: String,
    pub message: String,
}

impl ConfigProblem {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }

    pub(super) fn from_figment(error: figment::Error) -> Self {
        let key = if error.path.is_empty() {
            error
                .metadata
                .as_ref()
                .map(|m| m.name.to_string())
                .unwrap_or_else(|| "(configuration)".into())
        } else {
            error.path.join(".")
        };
        let mut message = error.kind.to_string();
        if let Some(source) = error.metadata.as_ref().and_then(|m| m.source.as_ref()) {
            message = format!("{message} (from {source})");
        }
        Self { key, message }
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}
