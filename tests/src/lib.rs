//! Hoist e2e test support.
