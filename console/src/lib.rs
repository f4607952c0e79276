//! The Hoist operator console: an Elm-style terminal app (model, `update`, `view`) over the
//! Hoist HTTP API. Slow calls are [`msg::Command`]s that the [`executor`] runs and answers
//! with completion [`msg::Msg`]s, so tests can drive the whole app without a network.

pub mod app;
pub mod clipboard;
pub mod executor;
pub mod input;
pub mod keymap;
pub mod model;
pub mod msg;
pub mod pages;
pub mod resume;
pub mod tus;
pub mod ui;
pub mod uploads;

pub use app::App;
