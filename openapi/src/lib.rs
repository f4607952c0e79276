//! Hoist client.
