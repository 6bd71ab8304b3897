//! ciux: multi-repository CI and versioning.
//!
//! The library holds everything; `src/main.rs` only calls [`cli::main`]. Pure
//! logic (selectors, versions, plans, emitters) is kept apart from effects
//! (git, registry, files) so it can be tested on literal inputs.

#[cfg(feature = "bench")]
pub mod alert_bench;
mod check;
pub mod cli;
pub mod config;
pub mod emit;
mod engine;
mod error;
mod fsutil;
pub mod git;
pub mod github;
mod hook;
pub mod image;
pub mod lock;
mod packages;
mod parallel;
mod plan;
pub mod registry;
mod release;
mod resolution;
mod safe_text;
mod selector;
mod workspace;
