//! The integration-test binary: one module per command, real git repositories,
//! real servers on 127.0.0.1.

mod common;

mod actionlint;
mod actions;
#[cfg(feature = "bench")]
mod bench;
#[cfg(feature = "bench")]
mod bench_groups;
#[cfg(feature = "bench")]
mod bench_lsst;
mod check;
mod cli;
mod config;
mod decisions;
mod dropin;
mod hostile;
mod ignite;
mod image;
mod image_engine;
mod lock;
mod plan;
mod registry;
mod registry_net;
mod resolution;
mod revision;
mod tag;
mod tag_all;
