//! The distribution-API calls ciux makes: manifest existence and digest, tag
//! listing with `Link` pages, manifest copy for promotion.

use ureq::http::Method;

use super::client::{Client, MANIFEST_TYPES, Manifest, Reply};
use super::{Lookup, Reference, RegistryError};

/// Tags asked for per page; registries may send fewer and a `Link` to the next page.
const PAGE_SIZE: usize = 1000;
/// Pages followed at most (a million tags), so a looping `Link` cannot hang us.
const MAX_PAGES: usize = 1000;

impl Client {
    /// `HEAD` or `GET` on the manifest of `reference`, accepting every manifest type.
    fn manifest_request(
        &self,
        reference: &Reference,
        method: Method,
    ) -> Result<Reply, RegistryError> {
        let url = format!(
            "{}/manifests/{}",
            self.base(reference),
            reference.manifest_reference()
        );
        self.send(
            reference,
            method,
            &url,
            &[("Accept", MANIFEST_TYPES)],
            None,
            "pull",
            "manifest of",
        )
    }

    /// Does the registry hold this tag or digest? `HEAD` on the manifest.
    pub fn lookup(&self, reference: &Reference) -> Result<Lookup, RegistryError> {
        let reply = self.manifest_request(reference, Method::HEAD)?;
        match reply.status {
            200 => match reply.header("docker-content-digest") {
                Some(digest) => Ok(Lookup::Present {
                    digest: digest.to_owned(),
                }),
                // Some registries omit the digest on HEAD: GET gives it.
                None => self.manifest(reference).map(|m| match m {
                    Some(m) => Lookup::Present { digest: m.digest },
                    None => Lookup::Missing,
                }),
            },
            404 => Ok(Lookup::Missing),
            _ => Err(self.status_error(reference, "manifest of", &reply)),
        }
    }

    /// Fetch a manifest; `None` when absent.
    pub fn manifest(&self, reference: &Reference) -> Result<Option<Manifest>, RegistryError> {
        let reply = self.manifest_request(reference, Method::GET)?;
        match reply.status {
            200 => {
                let digest = reply
                    .header("docker-content-digest")
                    .map(str::to_owned)
                    .or_else(|| reference.digest.clone())
                    .ok_or_else(|| {
                        self.protocol(reference, "manifest of", "no Docker-Content-Digest header")
                    })?;
                let media_type = reply
                    .header("content-type")
                    .map(|t| t.split(';').next().unwrap_or(t).trim().to_owned())
                    .ok_or_else(|| {
                        self.protocol(reference, "manifest of", "no Content-Type header")
                    })?;
                Ok(Some(Manifest {
                    media_type,
                    bytes: reply.body,
                    digest,
                }))
            }
            404 => Ok(None),
            _ => Err(self.status_error(reference, "manifest of", &reply)),
        }
    }

    /// Fetch a blob (an image configuration); `None` when absent.
    pub fn blob(
        &self,
        reference: &Reference,
        digest: &str,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        let url = format!("{}/blobs/{digest}", self.base(reference));
        let reply = self.send(reference, Method::GET, &url, &[], None, "pull", "blob of")?;
        match reply.status {
            200 => Ok(Some(reply.body)),
            404 => Ok(None),
            _ => Err(self.status_error(reference, "blob of", &reply)),
        }
    }

    /// Store `manifest` under `target`'s tag; returns the digest the registry computed.
    pub fn put_manifest(
        &self,
        target: &Reference,
        manifest: &Manifest,
    ) -> Result<String, RegistryError> {
        let url = format!(
            "{}/manifests/{}",
            self.base(target),
            target.manifest_reference()
        );
        let body = (manifest.media_type.as_str(), manifest.bytes.as_slice());
        let reply = self.send(
            target,
            Method::PUT,
            &url,
            &[],
            Some(body),
            "pull,push",
            "manifest put to",
        )?;
        match reply.status {
            200 | 201 => Ok(reply
                .header("docker-content-digest")
                .unwrap_or(&manifest.digest)
                .to_owned()),
            _ => Err(self.status_error(target, "manifest put to", &reply)),
        }
    }

    /// Make blob `digest` of repository `from` (same registry) available in `target`.
    pub fn mount_blob(
        &self,
        target: &Reference,
        from: &str,
        digest: &str,
    ) -> Result<(), RegistryError> {
        let url = format!(
            "{}/blobs/uploads/?mount={digest}&from={from}",
            self.base(target)
        );
        let reply = self.send(
            target,
            Method::POST,
            &url,
            &[],
            Some(("application/octet-stream", &[])),
            "pull,push",
            "blob mount to",
        )?;
        match reply.status {
            201 => Ok(()),
            _ => Err(RegistryError::Unsupported(format!(
                "registry {} did not mount blob {digest} from {from} into {} (HTTP {}): promote within one repository, or copy the image with `skopeo copy`",
                target.registry, target.repository, reply.status
            ))),
        }
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
            return Err(RegistryError::Unsupported(format!(
                "cannot promote across registries ({} to {}) by a manifest copy: copy the image with `skopeo copy`",
                source.registry, target.registry
            )));
        }
        let Some(manifest) = self.manifest(source)? else {
            return Ok(None);
        };
        if source.repository != target.repository {
            let json: serde_json::Value = serde_json::from_slice(&manifest.bytes)
                .map_err(|e| self.protocol(source, "manifest of", &e.to_string()))?;
            if json.get("manifests").is_some() {
                return Err(RegistryError::Unsupported(format!(
                    "{source} is a multi-platform index: promote it within its repository, or with `skopeo copy --all`"
                )));
            }
            let blobs = std::iter::once(&json["config"])
                .chain(json["layers"].as_array().into_iter().flatten());
            for blob in blobs {
                if let Some(digest) = blob["digest"].as_str() {
                    self.mount_blob(target, &source.repository, digest)?;
                }
            }
        }
        self.put_manifest(target, &manifest).map(Some)
    }

    /// Every tag of the repository, following `Link` pages; `None` when the
    /// repository does not exist (every tag is absent).
    pub fn tags(&self, reference: &Reference) -> Result<Option<Vec<String>>, RegistryError> {
        #[derive(serde::Deserialize)]
        struct Page {
            tags: Option<Vec<String>>,
        }
        let base = self.base(reference);
        let origin = origin_of(&base);
        let mut url = format!("{base}/tags/list?n={PAGE_SIZE}");
        let mut tags = Vec::new();
        for _ in 0..MAX_PAGES {
            let reply = self.send(
                reference,
                Method::GET,
                &url,
                &[("Accept", "application/json")],
                None,
                "pull",
                "tag list of",
            )?;
            match reply.status {
                200 => {}
                404 => return Ok(None),
                _ => return Err(self.status_error(reference, "tag list of", &reply)),
            }
            let page: Page = serde_json::from_slice(&reply.body)
                .map_err(|e| self.protocol(reference, "tag list of", &e.to_string()))?;
            tags.extend(page.tags.unwrap_or_default());
            match reply.header("link").and_then(next_link) {
                Some(next) if next.starts_with('/') => url = format!("{origin}{next}"),
                Some(next) if next.starts_with(&origin) => url = next,
                Some(next) => {
                    return Err(self.protocol(
                        reference,
                        "tag list of",
                        &format!("a `Link` to another host: {next}"),
                    ));
                }
                None => return Ok(Some(tags)),
            }
        }
        Err(self.protocol(reference, "tag list of", "more than 1000 pages"))
    }
}

/// The target of `rel="next"` in a `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            p.trim().trim_start_matches("rel=").trim_matches('"') == "next" && p.contains("rel")
        });
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| target.to_owned())
    })
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> String {
    let after = url.find("://").map_or(0, |i| i + 3);
    match url[after..].find('/') {
        Some(i) => url[..after + i].to_owned(),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links() {
        assert_eq!(
            next_link(r#"</v2/a/tags/list?last=x&n=2>; rel="next""#).as_deref(),
            Some("/v2/a/tags/list?last=x&n=2")
        );
        assert_eq!(next_link(r#"</x>; rel="prev""#), None);
        assert_eq!(
            origin_of("http://127.0.0.1:5000/v2/a"),
            "http://127.0.0.1:5000"
        );
    }
}
