//! A small client of the OCI distribution API: what ciux needs to decide whether
//! to build an image (manifest existence and digest, tag listing) and to promote
//! one (manifest copy by digest).
//!
//! Written on the blocking `ureq` client rather than on oci-client: ciux needs
//! Docker `config.json` credentials, `Link` pagination, 404 mapped to "absent",
//! retries on 429/5xx and request counting, none of which oci-client has, and a
//! blocking client with scoped threads keeps the rest of ciux free of an async
//! runtime.
//!
//! Every lookup has three answers: present (with its digest), absent
//! (`Ok(Lookup::Missing)`), or failed (`Err`): refused, unreachable, or retries
//! exhausted. Only the caller may decide that a failure means "build".

mod api;
mod auth;
mod client;
pub mod layout;
mod reference;

use thiserror::Error;

pub use auth::{Credential, Credentials, PASSWORD_VAR, USER_VAR};
pub use client::{Client, MANIFEST_TYPES, Manifest, Retry};
pub use reference::{DOCKER_HUB, Reference, is_valid_tag, tag_of_version};

/// The answer to "does this image exist?".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "answer", rename_all = "lowercase")]
pub enum Lookup {
    /// The registry holds it; `digest` is its manifest digest.
    Present { digest: String },
    /// The registry answered that it does not hold it.
    Missing,
}

/// A registry that could not be asked, or refused; never "the image is absent".
#[derive(Debug, Error)]
pub enum RegistryError {
    #[error("`{reference}` is not a valid image reference: {why}")]
    BadReference { reference: String, why: String },
    #[error("cannot reach registry {registry} ({attempts} attempts)")]
    Unreachable {
        registry: String,
        attempts: u32,
        #[source]
        source: Box<ureq::Error>,
    },
    #[error(
        "registry {registry} refused access to {repository} (HTTP {status}): {message}\n  fix: log in (docker login {registry}), or set {USER_VAR} and {PASSWORD_VAR}"
    )]
    Denied {
        registry: String,
        repository: String,
        status: u16,
        message: String,
    },
    #[error(
        "registry {registry} answered HTTP {status} to {what} {repository} ({attempts} attempts): {message}"
    )]
    Status {
        registry: String,
        repository: String,
        what: &'static str,
        status: u16,
        attempts: u32,
        message: String,
    },
    #[error("registry {registry}: unexpected answer to {what}: {why}")]
    Protocol {
        registry: String,
        what: &'static str,
        why: String,
    },
    #[error("cannot read the OCI image layout {}", path.display())]
    Layout {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Unsupported(String),
}
