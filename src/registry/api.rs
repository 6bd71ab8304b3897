//! The registry operations ciux makes, each one oci-client call (or a few)
//! under [`Inner::call`]'s retries: manifest existence and digest, manifest
//! and blob reads, tag listing with pages, manifest copy for promotion.

use std::sync::Arc;

use oci_client::RegistryOperation;

use super::client::{Client, Inner, MANIFEST_TYPES, Manifest};
use super::{DOCKER_HUB, Lookup, Reference, RegistryError};

/// Tags asked for per page.
const PAGE_SIZE: usize = 1000;
/// A sorted page at least this long may have a next one. oci-client does not
/// hand back the `Link` header that says so, and a registry may cap `n` below
/// what was asked (it then sends `Link`); see [`may_have_more`].
const MAYBE_MORE: usize = 100;
/// Pages followed at most, so a registry that ignores `last` cannot loop us.
const MAX_PAGES: usize = 1000;
/// Concurrent lookups of one [`Client::lookup_all`].
const CONCURRENCY: usize = 8;

impl Client {
    /// Does the registry hold this tag or digest? One request ([`lookup`]).
    pub(crate) fn lookup(&self, reference: &Reference) -> Result<Lookup, RegistryError> {
        let inner = self.inner();
        self.block_on(lookup(inner, reference.clone()))
    }

    /// Look up several images concurrently on the client's runtime (a
    /// `JoinSet`, at most [`CONCURRENCY`] at once); answers in input order.
    pub(crate) fn lookup_all(&self, images: &[Reference]) -> Vec<Result<Lookup, RegistryError>> {
        let inner = self.inner();
        let images = images.to_vec();
        let count = images.len();
        let run = async move {
            let bound = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
            let mut set = tokio::task::JoinSet::new();
            for (i, image) in images.into_iter().enumerate() {
                let (inner, bound) = (inner.clone(), bound.clone());
                set.spawn(async move {
                    let _permit = bound.acquire_owned().await;
                    (i, lookup(inner, image).await)
                });
            }
            let mut answers: Vec<Option<Result<Lookup, RegistryError>>> =
                (0..count).map(|_| None).collect();
            while let Some(joined) = set.join_next().await {
                if let Ok((i, answer)) = joined {
                    answers[i] = Some(answer);
                }
            }
            Ok(answers)
        };
        match self.block_on(run) {
            Ok(answers) => answers
                .into_iter()
                .map(|a| {
                    a.unwrap_or_else(|| {
                        Err(RegistryError::Client {
                            why: "a registry lookup panicked".into(),
                        })
                    })
                })
                .collect(),
            Err(e) => {
                let text = e.to_string();
                (0..count)
                    .map(|_| Err(RegistryError::Client { why: text.clone() }))
                    .collect()
            }
        }
    }

    /// Fetch a manifest; `None` when absent.
    pub(crate) fn manifest(
        &self,
        reference: &Reference,
    ) -> Result<Option<Manifest>, RegistryError> {
        let inner = self.inner();
        self.block_on(manifest(inner, reference.clone()))
    }

    /// Fetch a blob (an image configuration); `None` when absent.
    pub(crate) fn blob(
        &self,
        reference: &Reference,
        digest: &str,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        let inner = self.inner();
        let digest = digest.to_owned();
        self.block_on(async move {
            inner
                .call(
                    reference,
                    RegistryOperation::Pull,
                    "blob of",
                    |r, oci_ref| {
                        let digest = digest.clone();
                        async move {
                            let mut out = Vec::new();
                            r.oci.pull_blob(&oci_ref, digest.as_str(), &mut out).await?;
                            Ok(out)
                        }
                    },
                )
                .await
        })
    }

    /// Put the manifest of `source` under `target`'s tag without downloading
    /// layers: a manifest `GET` and `PUT`, after mounting the blobs when the
    /// repositories differ. Returns the digest, or `None` when `source` is absent.
    pub fn copy(
        &self,
        source: &Reference,
        target: &Reference,
    ) -> Result<Option<String>, RegistryError> {
        if source.registry != target.registry {
            return Err(RegistryError::CrossRegistry {
                source_registry: source.registry.clone(),
                target_registry: target.registry.clone(),
            });
        }
        let inner = self.inner();
        let (source, target) = (source.clone(), target.clone());
        self.block_on(async move {
            let Some(found) = manifest(inner.clone(), source.clone()).await? else {
                return Ok(None);
            };
            if source.repository != target.repository {
                let json: serde_json::Value =
                    serde_json::from_slice(&found.bytes).map_err(|e| RegistryError::Protocol {
                        registry: source.registry.clone(),
                        what: "manifest of",
                        why: e.to_string(),
                    })?;
                if json.get("manifests").is_some() {
                    return Err(RegistryError::MultiPlatform {
                        reference: source.to_string(),
                    });
                }
                let blobs: Vec<String> = std::iter::once(&json["config"])
                    .chain(json["layers"].as_array().into_iter().flatten())
                    .filter_map(|b| b["digest"].as_str().map(str::to_owned))
                    .collect();
                for digest in blobs {
                    mount(&inner, &source, &target, &digest).await?;
                }
            }
            let pushed = inner
                .call(
                    &target,
                    RegistryOperation::Push,
                    "manifest put to",
                    |r, oci_ref| {
                        let (bytes, media_type) = (found.bytes.clone(), found.media_type.clone());
                        async move {
                            let content_type = media_type.parse().map_err(|_| {
                                oci_client::errors::OciDistributionError::UnsupportedMediaTypeError(
                                    media_type.clone(),
                                )
                            })?;
                            r.oci.push_manifest_raw(&oci_ref, bytes, content_type).await
                        }
                    },
                )
                .await?;
            Ok(pushed.map(|_| found.digest.clone()))
        })
    }

    /// Every tag of the repository, page after page; `None` when the
    /// repository does not exist (every tag is absent).
    pub(crate) fn tags(&self, reference: &Reference) -> Result<Option<Vec<String>>, RegistryError> {
        let inner = self.inner();
        let reference = reference.clone();
        self.block_on(async move {
            let mut tags: Vec<String> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for _ in 0..MAX_PAGES {
                let last = tags.last().cloned();
                let page = inner
                    .call(
                        &reference,
                        RegistryOperation::Pull,
                        "tag list of",
                        |r, oci_ref| {
                            let last = last.clone();
                            async move {
                                r.oci
                                    .list_tags(&oci_ref, &r.auth, Some(PAGE_SIZE), last.as_deref())
                                    .await
                            }
                        },
                    )
                    .await?;
                let Some(page) = page else {
                    return Ok(None);
                };
                // A registry that ignores `last` sends the same page again.
                let more = may_have_more(&page.tags);
                let new: Vec<String> = page
                    .tags
                    .into_iter()
                    .filter(|t| seen.insert(t.clone()))
                    .collect();
                let more = more && !new.is_empty();
                tags.extend(new);
                if !more {
                    return Ok(Some(tags));
                }
            }
            Err(RegistryError::Protocol {
                registry: reference.registry.clone(),
                what: "tag list of",
                why: format!("more than {MAX_PAGES} pages"),
            })
        })
    }
}

/// Whether a tag page may have a next one, without the `Link` header that
/// would say so. A page longer than asked comes from a registry that ignores
/// `n`: it sent every tag. A page not in lexical order comes from a registry
/// that does not page by `last` (the distribution spec orders paged answers;
/// Debian's distribution 2.8 ignores `n` and `last` and sends every tag in
/// storage order): following it would only fetch the same page again
/// (lexical: byte order, or case-insensitive as the spec has it). A
/// sorted page of at least [`MAYBE_MORE`] tags is followed: it is full, or a
/// registry capped `n`.
fn may_have_more(page: &[String]) -> bool {
    let count = page.len();
    count <= PAGE_SIZE
        && count >= PAGE_SIZE.min(MAYBE_MORE)
        && page
            .windows(2)
            .all(|w| w[0] < w[1] || w[0].to_lowercase() < w[1].to_lowercase())
}

/// Does the registry hold `reference`? One request whatever the answer: a
/// manifest `GET`. oci-client's `HEAD` (`fetch_manifest_digest`) asks again
/// by `GET` whenever the answer carries no `Docker-Content-Digest`, which is
/// every 404 and every 429, so an absent image cost two requests and a
/// refusal two per attempt. Docker Hub is the exception: its pull limit
/// counts manifest `GET`s and not `HEAD`s, so there a present image stays a
/// `HEAD` (and an absent one costs the second request).
async fn lookup(inner: Arc<Inner>, reference: Reference) -> Result<Lookup, RegistryError> {
    if reference.registry == DOCKER_HUB {
        let digest = inner
            .call(
                &reference,
                RegistryOperation::Pull,
                "manifest of",
                |r, oci_ref| async move { r.oci.fetch_manifest_digest(&oci_ref, &r.auth).await },
            )
            .await?;
        return Ok(digest.map_or(Lookup::Missing, |digest| Lookup::Present { digest }));
    }
    Ok(match manifest(inner, reference).await? {
        Some(found) => Lookup::Present {
            digest: found.digest,
        },
        None => Lookup::Missing,
    })
}

async fn manifest(
    inner: Arc<Inner>,
    reference: Reference,
) -> Result<Option<Manifest>, RegistryError> {
    let found = inner
        .call(
            &reference,
            RegistryOperation::Pull,
            "manifest of",
            |r, oci_ref| async move {
                r.oci
                    .pull_manifest_raw(&oci_ref, &r.auth, MANIFEST_TYPES)
                    .await
            },
        )
        .await?;
    Ok(found.map(|(bytes, digest)| Manifest {
        media_type: media_type_of(&bytes),
        bytes: bytes.to_vec(),
        digest,
    }))
}

/// A manifest's media type, from its `mediaType` field (oci-client does not
/// return the `Content-Type`); an OCI manifest may omit the field, and then
/// its shape tells.
fn media_type_of(bytes: &[u8]) -> String {
    let json: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    match json["mediaType"].as_str() {
        Some(t) => t.to_owned(),
        None if json.get("manifests").is_some() => MANIFEST_TYPES[1].to_owned(),
        None => MANIFEST_TYPES[0].to_owned(),
    }
}

/// Make blob `digest` of `source`'s repository available in `target`'s.
async fn mount(
    inner: &Inner,
    source: &Reference,
    target: &Reference,
    digest: &str,
) -> Result<(), RegistryError> {
    let from = source.to_oci();
    let unsupported = || RegistryError::MountRefused {
        registry: target.registry.clone(),
        digest: digest.to_owned(),
        from: source.repository.clone(),
        into: target.repository.clone(),
    };
    let answer = inner
        .call(
            target,
            RegistryOperation::Push,
            "blob mount to",
            |r, oci_ref| {
                let from = from.clone();
                let digest = digest.to_owned();
                async move {
                    // `mount_blob` uses the credential stored by an earlier call.
                    r.oci
                        .store_auth_if_needed(oci_ref.resolve_registry(), &r.auth)
                        .await;
                    r.oci.mount_blob(&oci_ref, &from, &digest).await
                }
            },
        )
        .await;
    match answer {
        Ok(Some(())) => Ok(()),
        Ok(None) | Err(RegistryError::Protocol { .. }) => Err(unsupported()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_followed_only_when_they_may_have_more() {
        let tags = |n: usize| (0..n).map(|i| format!("v{i:05}")).collect::<Vec<_>>();
        assert!(may_have_more(&tags(PAGE_SIZE)), "a full page");
        assert!(
            may_have_more(&tags(MAYBE_MORE)),
            "a page capped by the registry"
        );
        assert!(
            !may_have_more(&tags(MAYBE_MORE - 1)),
            "a short page ends the list"
        );
        assert!(
            !may_have_more(&tags(PAGE_SIZE + 1)),
            "`n` ignored: every tag"
        );
        let mut unsorted = tags(PAGE_SIZE);
        unsorted.swap(3, 700);
        assert!(!may_have_more(&unsorted), "not paged by `last`");
    }

    #[test]
    fn media_types_from_the_manifest() {
        assert_eq!(
            media_type_of(
                br#"{"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}"#
            ),
            "application/vnd.docker.distribution.manifest.v2+json"
        );
        assert_eq!(
            media_type_of(br#"{"schemaVersion":2,"manifests":[]}"#),
            "application/vnd.oci.image.index.v1+json"
        );
        assert_eq!(
            media_type_of(br#"{"schemaVersion":2,"layers":[]}"#),
            "application/vnd.oci.image.manifest.v1+json"
        );
    }
}
