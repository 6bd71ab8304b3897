//! ciux: multi-repository CI and versioning.
//!
//! The library holds everything; `src/main.rs` only calls [`cli::main`]. Pure
//! logic (selectors, versions, plans, emitters) is kept apart from effects
//! (git, registry, files) so it can be tested on literal inputs.

#[cfg(feature = "bench")]
pub mod bench;
pub mod cli;
pub mod config;
pub mod error;
pub mod fsutil;
pub mod git;
