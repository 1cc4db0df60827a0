//! Rules about GitHub Actions workflows beyond their shell steps.

pub mod action_ref_not_pinned;
