//! Image references: the one grammar every part of ciux uses.
//!
//! Parsing is the distribution registry's reference grammar as oci-client
//! implements it (`[host[:port]/]path[:tag][@digest]`, lower-case path
//! components, tags of at most 128 characters, `algorithm:hex` digests).
//! Configuration validation, `--tmp-registry`, the emitters and the registry
//! client all go through [`Reference::parse`] (or [`check_registry_prefix`]
//! for a `registry` value), so a reference accepted at configuration time is
//! never refused later.
//!
//! As with Docker, a first component without `.` or `:` that is not
//! `localhost` is a Docker Hub path (`alpine` is `docker.io/library/alpine`).

use serde::Serialize;

use super::RegistryError;

/// The registry name Docker uses for Docker Hub.
pub(crate) const DOCKER_HUB: &str = "docker.io";

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    /// Registry host with its port, e.g. `127.0.0.1:5000` or `docker.io`.
    pub(crate) registry: String,
    /// Repository path inside the registry, e.g. `astro/fink-broker`.
    pub(crate) repository: String,
    pub(crate) tag: Option<String>,
    pub(crate) digest: Option<String>,
}

impl Reference {
    /// Parse `text` with the distribution reference grammar.
    pub fn parse(text: &str) -> Result<Self, RegistryError> {
        let bad = |why: String| RegistryError::BadReference {
            reference: text.to_owned(),
            why,
        };
        // The grammar has no room for these; say so plainly rather than
        // through a regular expression's failure.
        if text.is_empty() {
            return Err(bad("an image reference is not empty".into()));
        }
        if let Some(c) = text.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(format!("it holds the character {c:?}")));
        }
        if text.contains("://") {
            return Err(bad("write `host[:port]/path[:tag]` without a scheme".into()));
        }
        let parsed = parse_oci(text).map_err(|e| {
            bad(match e {
                oci_client::ParseError::NameContainsUppercase
                | oci_client::ParseError::ReferenceInvalidFormat
                | oci_client::ParseError::TagInvalidFormat => {
                    "path components are lower-case letters and digits separated by `.`, `_`, `__` or `-`; a tag is 1-128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`".to_owned()
                }
                other => other.to_string(),
            })
        })?;
        // The parser fills in `latest` for a reference without tag or
        // digest; ciux needs to know whether one was written (a registry
        // path has none).
        let name = text.split('@').next().unwrap_or(text);
        let written = name
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains(':'));
        Ok(Self {
            registry: parsed.registry().to_owned(),
            repository: parsed.repository().to_owned(),
            tag: parsed.tag().filter(|_| written).map(str::to_owned),
            digest: parsed.digest().map(str::to_owned),
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

    /// The same reference in oci-client's type.
    pub(crate) fn to_oci(&self) -> oci_client::Reference {
        match (&self.tag, &self.digest) {
            (Some(tag), Some(digest)) => oci_client::Reference::with_tag_and_digest(
                self.registry.clone(),
                self.repository.clone(),
                tag.clone(),
                digest.clone(),
            ),
            (None, Some(digest)) => oci_client::Reference::with_digest(
                self.registry.clone(),
                self.repository.clone(),
                digest.clone(),
            ),
            (tag, None) => oci_client::Reference::with_tag(
                self.registry.clone(),
                self.repository.clone(),
                tag.clone().unwrap_or_else(|| "latest".to_owned()),
            ),
        }
    }
}

/// oci-client's reference pattern (oci-spec's `REFERENCE_REGEXP`), its
/// classes made ASCII-only by `(?-u)`. oci-spec's own pattern is Unicode: its
/// 128 counted repetitions of `\w` took 89 ms to compile against 0.35 ms for
/// this one (docs/perf.md), most of an image check's time.
const ASCII_REFERENCE: &str = r"(?-u)^((?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+)?(?::[0-9]+)?/)?[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?(?:(?:/[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?)+)?)(?::([\w][\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}))?$";

/// Parse as oci-client does. On ASCII text (every real reference) the ASCII
/// pattern matches exactly what the Unicode one does, and the steps after the
/// match are oci-spec's (`split_domain`, length and digest checks); other text
/// goes to oci-client itself. `parse_oci_agrees_with_oci_client` holds the two
/// paths equal.
fn parse_oci(text: &str) -> Result<oci_client::Reference, oci_client::ParseError> {
    use oci_client::ParseError;
    static PATTERN: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let pattern = PATTERN.get_or_init(|| regex::Regex::new(ASCII_REFERENCE).ok());
    let Some(pattern) = pattern
        .as_ref()
        .filter(|_| text.is_ascii() && !text.is_empty())
    else {
        return text.parse();
    };
    let captures = pattern
        .captures(text)
        .ok_or(ParseError::ReferenceInvalidFormat)?;
    let name = captures.get(1).map_or("", |m| m.as_str());
    let tag = captures.get(2).map(|m| m.as_str().to_owned());
    let digest = captures.get(3).map(|m| m.as_str().to_owned());
    let (registry, repository) = split_domain(name);
    if repository.len() > 255 {
        return Err(ParseError::NameTooLong);
    }
    if let Some(digest) = &digest {
        let (hex, want) = match digest.split_once(':') {
            None => return Err(ParseError::DigestInvalidFormat),
            Some(("sha256", hex)) => (hex, 64),
            Some(("sha384", hex)) => (hex, 96),
            Some(("sha512", hex)) => (hex, 128),
            Some(_) => return Err(ParseError::DigestUnsupported),
        };
        if hex.len() != want {
            return Err(ParseError::DigestInvalidLength);
        }
    }
    Ok(match (tag, digest) {
        (Some(tag), Some(digest)) => {
            oci_client::Reference::with_tag_and_digest(registry, repository, tag, digest)
        }
        (None, Some(digest)) => oci_client::Reference::with_digest(registry, repository, digest),
        (tag, None) => oci_client::Reference::with_tag(
            registry,
            repository,
            tag.unwrap_or_else(|| "latest".to_owned()),
        ),
    })
}

/// Docker's split of a name into registry and repository (oci-spec's
/// `split_domain`): a first component without `.` or `:` that is not
/// `localhost` is a Docker Hub path, and Hub's one-component names are under
/// `library/`.
fn split_domain(name: &str) -> (String, String) {
    let (mut domain, mut rest) = match name.split_once('/') {
        Some((left, right)) if left.contains('.') || left.contains(':') || left == "localhost" => {
            (left.to_owned(), right.to_owned())
        }
        _ => (DOCKER_HUB.to_owned(), name.to_owned()),
    };
    if domain == "index.docker.io" {
        domain = DOCKER_HUB.to_owned();
    }
    if domain == DOCKER_HUB && !rest.contains('/') {
        rest = format!("library/{rest}");
    }
    (domain, rest)
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

/// Check a registry prefix (`host[:port][/path]`, the `registry` and
/// `--tmp-registry` values): an image named `<prefix>/<name>` must be a valid
/// reference, with no tag or digest in the prefix itself. `oci:<dir>` (an OCI
/// layout directory) is accepted as is.
pub(crate) fn check_registry_prefix(prefix: &str) -> Result<(), String> {
    if prefix.starts_with("oci:") {
        return Ok(());
    }
    if prefix.is_empty() {
        return Err("must not be empty".into());
    }
    if prefix.ends_with('/') || prefix.contains('@') {
        return Err(format!(
            "`{}` is not of the form `host[:port]/path` (no tag, no digest)",
            prefix.escape_default()
        ));
    }
    let parsed = Reference::parse(&format!("{prefix}/x")).map_err(|e| match e {
        RegistryError::BadReference { why, .. } => {
            format!(
                "`{}` is not a registry path: {why}",
                prefix.escape_default()
            )
        }
        other => other.to_string(),
    })?;
    if parsed.tag.is_some() {
        return Err(format!("`{prefix}` holds a tag; a registry path has none"));
    }
    Ok(())
}

/// A version as an image tag: semver build metadata (`+build`) is not allowed in
/// tags, so `+` becomes `_` (the convention Helm and others use).
pub(crate) fn tag_of_version(version: &str) -> String {
    version.replace('+', "_")
}

/// Whether `name` can be the last path component of an image (a project name
/// once lower-cased).
pub(crate) fn is_valid_image_name(name: &str) -> bool {
    Reference::parse(&format!("localhost/{name}")).is_ok_and(|r| r.repository == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path against oci-client's own parser: a fixed corpus of edge
    /// cases and 200,000 seeded random strings over the grammar's alphabet.
    #[test]
    fn parse_oci_agrees_with_oci_client() {
        let hex = "0123456789abcdef".repeat(8);
        let mut corpus: Vec<String> = [
            "alpine",
            "alpine:3",
            "library/alpine",
            "docker.io/alpine",
            "index.docker.io/x",
            "localhost/x",
            "localhost:5000/a/b:c",
            "127.0.0.1:5000/astro/fink:v1.2-3-gabc",
            "Upper/x",
            "a//b",
            "a/",
            "/a",
            "a:",
            ":a",
            "a@",
            "a:.x",
            "a:-x",
            "a:_x",
            "a__b",
            "a___b",
            "a--b",
            "a.-b",
            "host:port/x",
            "h:1/x:y@sha256:",
            "x@md5:abc",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for n in [126, 127, 128, 129] {
            corpus.push(format!("r/x:{}", "t".repeat(n)));
        }
        for n in [254, 255, 256] {
            corpus.push(format!("h.io/{}", "a".repeat(n)));
        }
        for (alg, n) in [
            ("sha256", 64),
            ("sha256", 63),
            ("sha384", 96),
            ("sha512", 128),
            ("sha512", 127),
            ("blake3", 64),
        ] {
            corpus.push(format!("h.io/a@{alg}:{}", &hex[..n]));
            corpus.push(format!("h.io/a:t@{alg}:{}", &hex[..n]));
        }
        let alphabet: Vec<char> = "abcAZ09._-:/@".chars().collect();
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..200_000 {
            let len = rng.usize(1..24);
            corpus.push(
                (0..len)
                    .map(|_| alphabet[rng.usize(..alphabet.len())])
                    .collect(),
            );
        }
        let view = |r: &oci_client::Reference| {
            (
                r.registry().to_owned(),
                r.repository().to_owned(),
                r.tag().map(str::to_owned),
                r.digest().map(str::to_owned),
            )
        };
        for text in &corpus {
            let ours = parse_oci(text).map(|r| view(&r));
            let theirs = text.parse::<oci_client::Reference>().map(|r| view(&r));
            assert_eq!(ours, theirs, "{text:?}");
        }
    }

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
        assert_eq!(r.tag.as_deref(), Some("t"));
        assert_eq!(r.to_oci().to_string(), format!("ghcr.io/o/p:t@{d}"));
    }

    #[test]
    fn rejects_bad_references() {
        for text in [
            "",
            "Upper/Case",
            "UPPER/Case:t@g!",
            "reg.example.org/Astro/x:1",
            "oci:/tmp/a",
            "h:x/a",
            "a//b",
            "a:",
            "a:-x",
            "a@sha256:zz",
            "a/b-",
            "x y",
            "https://reg/x",
        ] {
            assert!(Reference::parse(text).is_err(), "{text:?}");
        }
        assert_eq!(tag_of_version("v1.2.3+build.5"), "v1.2.3_build.5");
        assert!(Reference::parse(&format!("a:{}", "t".repeat(129))).is_err());
    }

    #[test]
    fn registry_prefixes() {
        for ok in [
            "127.0.0.1:5000",
            "127.0.0.1:5000/astro",
            "reg.example.org/astro/fink",
            "localhost/a",
            "oci:/tmp/layouts",
            "docker.io/astro",
        ] {
            assert_eq!(check_registry_prefix(ok), Ok(()), "{ok}");
        }
        for bad in [
            "reg/x:tag",
            "reg.example.org/Astro",
            "reg.example.org/",
            "reg.example.org/a@sha256:x",
            "",
        ] {
            assert!(check_registry_prefix(bad).is_err(), "{bad}");
        }
        assert!(is_valid_image_name("fink-broker"));
        assert!(!is_valid_image_name("my project"));
        assert!(!is_valid_image_name("-x"));
    }
}
