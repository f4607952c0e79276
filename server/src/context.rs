//! What one request carries through every layer: its correlation id and its client address.
//! The HTTP middleware sets them; the domains (triggers, hooks, audit) read them, so they live
//! below both.

pub(crate) mod correlation;
pub(crate) mod peer;
