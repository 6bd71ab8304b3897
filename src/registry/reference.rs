//! Image references with Docker's rules: `[host[:port]/]path[:tag][@digest]`.
//!
//! The first component is a registry host when it contains `.` or `:` or is
//! `localhost`; otherwise the image lives on Docker Hub (`docker.io`), and a
//! one-component path gets the `library/` namespace (`alpine` is
//! `docker.io/library/alpine`).

use serde::Serialize;

use super::RegistryError;

/// The registry name Docker uses for Docker Hub.
pub const DOCKER_HUB: &str = "docker.io";
/// The host that serves Docker Hub's distribution API.
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    /// Registry host with its port, e.g. `127.0.0.1:5000` or `docker.io`.
    pub registry: String,
    /// Repository path inside the registry, e.g. `astro/fink-broker`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Reference {
    /// Parse `text` with Docker's rules.
    pub fn parse(text: &str) -> Result<Self, RegistryError> {
        let bad = |why: &str| RegistryError::BadReference {
            reference: text.to_owned(),
            why: why.to_owned(),
        };
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => {
                let (algo, hex) = digest
                    .split_once(':')
                    .ok_or_else(|| bad("a digest is `algorithm:hex`"))?;
                if algo.is_empty() || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    return Err(bad("a digest is `algorithm:hex`"));
                }
                (rest, Some(digest.to_owned()))
            }
            None => (text, None),
        };
        // A tag follows the last `:` that comes after the last `/` (a port does not).
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (
                &rest[..last_slash + i],
                Some(rest[last_slash + i + 1..].to_owned()),
            ),
            None => (rest, None),
        };
        if let Some(tag) = &tag {
            if !is_valid_tag(tag) {
                return Err(bad(
                    "a tag is 1-128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`",
                ));
            }
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, path)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_owned(), path.to_owned())
            }
            _ => (DOCKER_HUB.to_owned(), name.to_owned()),
        };
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        if registry.is_empty() || registry.contains(|c: char| c.is_whitespace() || c == '@') {
            return Err(bad("bad registry host"));
        }
        if repository.is_empty() || !repository.split('/').all(is_valid_component) {
            return Err(bad(
                "path components are lower-case letters and digits separated by `.`, `_`, `__` or `-`",
            ));
        }
        Ok(Self {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The same repository with another tag and no digest.
    pub fn with_tag(&self, tag: &str) -> Self {
        Self {
            tag: Some(tag.to_owned()),
            digest: None,
            ..self.clone()
        }
    }

    /// `registry/repository` (Docker Hub written out as `docker.io`).
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The host to send API requests to (Docker Hub's API is on another host).
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// The tag or digest to ask for in `/v2/<name>/manifests/<reference>`.
    pub fn manifest_reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Docker's tag grammar: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn is_valid_tag(tag: &str) -> bool {
    let mut bytes = tag.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphanumeric() || b == b'_')
        && tag.len() <= 128
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A version as an image tag: semver build metadata (`+build`) is not allowed in
/// tags, so `+` becomes `_` (the convention Helm and others use).
pub fn tag_of_version(version: &str) -> String {
    version.replace('+', "_")
}

fn is_valid_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && alnum(&bytes[0])
        && alnum(&bytes[bytes.len() - 1])
        && bytes
            .iter()
            .all(|b| alnum(b) || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_rules() {
        let cases = [
            ("alpine", "docker.io", "library/alpine", None, None),
            (
                "alpine:3.20",
                "docker.io",
                "library/alpine",
                Some("3.20"),
                None,
            ),
            ("user/app", "docker.io", "user/app", None, None),
            ("localhost/app:v1", "localhost", "app", Some("v1"), None),
            (
                "127.0.0.1:5000/astro/fink:v1.2.3-rc1-4-gabc1234",
                "127.0.0.1:5000",
                "astro/fink",
                Some("v1.2.3-rc1-4-gabc1234"),
                None,
            ),
            (
                "reg.example.org:443/a/b",
                "reg.example.org:443",
                "a/b",
                None,
                None,
            ),
        ];
        for (text, registry, repository, tag, digest) in cases {
            let r = Reference::parse(text).unwrap();
            assert_eq!(
                (r.registry.as_str(), r.repository.as_str()),
                (registry, repository),
                "{text}"
            );
            assert_eq!(r.tag.as_deref(), tag, "{text}");
            assert_eq!(r.digest.as_deref(), digest, "{text}");
        }
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("ghcr.io/o/p:t@{d}")).unwrap();
        assert_eq!(r.manifest_reference(), d);
        assert_eq!(r.tag.as_deref(), Some("t"));
        assert_eq!(
            Reference::parse("docker.io/alpine").unwrap().api_host(),
            "registry-1.docker.io"
        );
    }

    #[test]
    fn rejects_bad_references() {
        for text in [
            "",
            "Upper/Case",
            "a//b",
            "a:",
            "a:-x",
            "a@sha256:zz",
            "a/b-",
            "x y",
        ] {
            assert!(Reference::parse(text).is_err(), "{text:?}");
        }
        assert_eq!(tag_of_version("v1.2.3+build.5"), "v1.2.3_build.5");
        assert!(!is_valid_tag(&"a".repeat(129)));
    }
}
