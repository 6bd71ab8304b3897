//! ciux: multi-repository CI and versioning.
//!
//! The library holds everything; `src/main.rs` only calls [`cli::main`]. Pure
//! logic (selectors, versions, plans, emitters) is kept apart from effects
//! (git, registry, files) so it can be tested on literal inputs.

#[cfg(feature = "bench")]
pub mod alert_bench;
pub mod check;
pub mod cli;
pub mod config;
pub mod emit;
pub mod engine;
pub mod error;
pub mod fsutil;
pub mod git;
pub mod github;
pub mod hook;
pub mod image;
pub mod lock;
pub mod packages;
mod parallel;
pub mod plan;
pub mod registry;
pub mod release;
pub mod resolution;
pub mod safe_text;
pub mod selector;
pub mod workspace;
