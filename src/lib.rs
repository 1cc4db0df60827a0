//! prodlint: a production-readiness linter for service repositories.
//!
//! The library runs a whole check ([`engine::check`]) without the CLI, so tests and other tools can
//! use it directly.

pub mod baseline;
pub mod cache;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod discover;
pub mod engine;
pub mod git;
pub mod lang;
pub mod output;
pub mod project;
pub mod rules;
pub mod services;
pub mod source;
pub mod suppress;
pub mod surface;
