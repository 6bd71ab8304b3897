//! The OCI registry: what ciux needs to decide whether to build an image
//! (manifest existence and digest, tag listing) and to promote one (manifest
//! copy by digest, blob mounts), plus OCI layout directories (`oci:DIR`).
//!
//! The protocol is oci-client's (on reqwest and tokio); this module keeps the
//! semantics ciux promises on top of it. Every lookup has three answers:
//! present (with its digest), absent (`Ok(Lookup::Missing)`: HTTP 404,
//! `MANIFEST_UNKNOWN`, `NAME_UNKNOWN`), or failed (`Err`): refused,
//! unreachable, timed out, or retries exhausted. Only the caller may decide
//! that a failure means "build".

mod api;
mod client;
mod credentials;
pub(crate) mod layout;
mod reference;

use std::path::PathBuf;

use thiserror::Error;

pub use client::Client;
pub use client::Settings;
pub(crate) use credentials::{PASSWORD_VAR, USER_VAR};
pub use reference::Reference;
pub(crate) use reference::{
    DOCKER_HUB, check_registry_prefix, is_valid_image_name, tag_of_version,
};

/// The answer to "does this image exist?".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "answer", rename_all = "lowercase")]
pub(crate) enum Lookup {
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
    #[error("cannot reach registry {registry} ({attempts} attempts): {why}")]
    Unreachable {
        registry: String,
        attempts: u32,
        why: String,
    },
    #[error(
        "registry {registry} did not answer within {seconds} s ({kind} timeout)\n  fix: check that the registry is up, or raise the timeout with {var} or `{key} = <seconds>` under `[registry_timeouts]` in .ciux.toml"
    )]
    Timeout {
        registry: String,
        kind: &'static str,
        seconds: f64,
        var: &'static str,
        key: &'static str,
    },
    #[error(
        "registry {registry} refused access to {repository} (HTTP {status}): {message}\n  fix: {hint}"
    )]
    Denied {
        registry: String,
        repository: String,
        status: u16,
        message: String,
        hint: String,
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
    #[error("registry {registry}: {fix}")]
    TlsMismatch { registry: String, fix: String },
    #[error(
        "registry {registry}: its TLS certificate is not trusted ({why})\n  fix: give its CA certificate in .ciux.toml: `[registry_ca]` then `\"{registry}\" = \"path/to/ca.pem\"` (or set SSL_CERT_FILE)"
    )]
    Untrusted { registry: String, why: String },
    #[error("cannot read the CA certificate {} for registry {registry} (`[registry_ca]` in .ciux.toml)", path.display())]
    Ca {
        registry: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("registry {registry}: unexpected answer to {what}: {why}")]
    Protocol {
        registry: String,
        what: &'static str,
        why: String,
    },
    #[error("cannot read the OCI image layout {}", path.display())]
    Layout {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Promotion by a manifest copy stays within one registry.
    #[error(
        "cannot promote across registries ({source_registry} to {target_registry}) by a manifest copy: copy the image with `skopeo copy`"
    )]
    CrossRegistry {
        source_registry: String,
        target_registry: String,
    },
    /// A multi-platform index is promoted within its repository only.
    #[error(
        "{reference} is a multi-platform index: promote it within its repository, or with `skopeo copy --all`"
    )]
    MultiPlatform { reference: String },
    /// The target registry answered a cross-repository blob mount with an
    /// upload instead.
    #[error(
        "registry {registry} did not mount blob {digest} from {from} into {into}: promote within one repository, or copy the image with `skopeo copy`"
    )]
    MountRefused {
        registry: String,
        digest: String,
        from: String,
        into: String,
    },
    /// The client itself failed (its runtime, a task): a bug or the
    /// machine, not the registry.
    #[error("the registry client failed: {why}")]
    Client { why: String },
}
