//! The integration-test binary: one module per command, real git repositories,
//! real servers on 127.0.0.1.

mod common;

#[cfg(feature = "bench")]
mod bench;
mod config;
mod revision;
