//! Front ends: one per input kind. Each parses a file once and exposes byte spans.

pub mod dockerfile;
pub mod dockerfile_facts;
pub mod image;
pub mod kubernetes;
pub mod kustomize;
pub mod rust;
pub mod rust_logging;
pub mod rust_runtime;
pub mod rust_scan;
pub mod rust_service;
pub mod script;
pub mod shell;
pub mod text;
pub mod words;
pub mod workflow;
pub mod yaml;
