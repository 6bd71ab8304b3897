//! Exit-status classification shared by every command.
//!
//! Exit 0 success; 1 a failure the user must act on; 2 bad usage or bad
//! configuration. Errors that mean "bad usage or configuration" are listed in
//! [`exit_status`]; everything else is a failure.

use thiserror::Error;

/// A subcommand of the contract that this build does not provide yet.
#[derive(Debug, Error)]
#[error("`ciux {0}` is not implemented yet")]
pub(crate) struct NotImplemented(pub(crate) &'static str);

/// Bad usage that clap cannot see (conflicting values, malformed arguments).
#[derive(Debug, Error)]
#[error("{0}")]
pub(crate) struct UsageError(pub(crate) String);

/// The exit status for an error: 2 for usage and configuration errors, else 1.
pub(crate) fn exit_status(err: &anyhow::Error) -> u8 {
    let usage = err.chain().any(|cause| {
        cause.is::<NotImplemented>()
            || cause.is::<UsageError>()
            || cause
                .downcast_ref::<crate::config::ConfigError>()
                .is_some_and(crate::config::ConfigError::is_usage)
            || cause.is::<crate::plan::PlanError>()
            || cause
                .downcast_ref::<crate::workspace::WorkspaceError>()
                .is_some_and(crate::workspace::WorkspaceError::is_usage)
            || cause
                .downcast_ref::<crate::resolution::ResolutionError>()
                .is_some_and(crate::resolution::ResolutionError::is_usage)
            || cause
                .downcast_ref::<crate::release::ReleaseError>()
                .is_some_and(crate::release::ReleaseError::is_usage)
            || cause
                .downcast_ref::<crate::image::ImageError>()
                .is_some_and(crate::image::ImageError::is_config)
            || cause
                .downcast_ref::<crate::check::CheckFailed>()
                .is_some_and(|c| c.config_invalid)
            || cause
                .downcast_ref::<crate::engine::EngineError>()
                .is_some_and(crate::engine::EngineError::is_usage)
            || is_bench_usage(cause)
    });
    if usage { 2 } else { 1 }
}

#[cfg(feature = "bench")]
fn is_bench_usage(cause: &(dyn std::error::Error + 'static)) -> bool {
    matches!(
        cause.downcast_ref::<crate::alert_bench::BenchError>(),
        Some(crate::alert_bench::BenchError::Usage(_))
    )
}

#[cfg(not(feature = "bench"))]
fn is_bench_usage(_: &(dyn std::error::Error + 'static)) -> bool {
    false
}
