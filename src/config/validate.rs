//! Validation of the raw schema into a [`Config`]: pure, one [`Problem`] at a time.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::raw::{RawConfig, RawDependency};
use super::{Config, Dependency, DependencyKind, RegistryTimeouts, Source};
use crate::registry::{Reference, RegistryError, check_registry_prefix, is_valid_image_name};

/// A validation failure at a key path such as `dependencies[2].url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) key: String,
    pub(crate) message: String,
    /// The other key of a clash (two dependencies that collide), named in
    /// the message with its own location.
    pub(crate) other: Option<String>,
}

fn problem(key: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem {
        key: key.into(),
        message: message.into(),
        other: None,
    }
}

impl Problem {
    /// The message, with the other key's location when there is one;
    /// `position` finds a key, `spell` writes it as the file does.
    pub(crate) fn message_with_other(
        &self,
        path: &std::path::Path,
        position: &dyn Fn(&str) -> super::Position,
        spell: &dyn Fn(&str) -> String,
    ) -> String {
        match &self.other {
            None => self.message.clone(),
            Some(other) => {
                let at = position(other);
                format!(
                    "{} (the other one: {}:{}:{}: {})",
                    self.message,
                    path.display(),
                    at.line,
                    at.column,
                    spell(other)
                )
            }
        }
    }
}

/// Two dependencies that would share a sibling directory or a variable name:
/// a configuration error naming both, found before any network call.
fn check_collisions(project: Option<&str>, dependencies: &[Dependency]) -> Result<(), Problem> {
    use crate::emit::names::{image_prefix, repo_prefix};
    use std::collections::BTreeMap;
    let clash = |key: String, other: String, message: String| Problem {
        key,
        message,
        other: Some(other),
    };
    // name → (key, url) and prefix → (key, name) of the first git dependency.
    let mut by_name: BTreeMap<&str, (String, &str)> = BTreeMap::new();
    let mut by_prefix: BTreeMap<String, (String, String)> = BTreeMap::new();
    if let Some(project) = project {
        by_prefix.insert(repo_prefix(project), ("project".into(), project.to_owned()));
    }
    for (i, dep) in dependencies.iter().enumerate() {
        match &dep.kind {
            DependencyKind::Git { url } => {
                let key = format!("dependencies[{i}].url");
                let name = repo_name_of_url(url);
                if let Some((first, first_url)) = by_name.get(name) {
                    if first_url != url {
                        return Err(clash(
                            key,
                            first.clone(),
                            format!(
                                "repository `{name}` is also {first} with another URL (`{first_url}`): both would be the sibling directory `{name}`"
                            ),
                        ));
                    }
                    continue;
                }
                by_name.insert(name, (key.clone(), url));
                let prefix = repo_prefix(name);
                claim_prefix(&mut by_prefix, &prefix, key, name, |first_name, first| {
                    format!(
                        "repository `{name}` and `{first_name}` ({first}) both give the variables {prefix}_*; rename one of them"
                    )
                })?;
            }
            DependencyKind::Image { image } => {
                let key = format!("dependencies[{i}].image");
                let prefix = format!("{}_IMAGE", image_prefix(image));
                claim_prefix(&mut by_prefix, &prefix, key, image, |first_image, first| {
                    format!(
                        "image `{image}` and `{first_image}` ({first}) both give the variable {prefix}; keep one"
                    )
                })?;
            }
            DependencyKind::Package { .. } => {}
        }
    }
    Ok(())
}

/// Give the variable prefix `prefix` to `owner` (a repository or image, at
/// `key`) unless another owner has it: that is a clash, whose message
/// `message` writes from the first owner and its key. The same owner twice is
/// no clash (a dependency listed twice is the other check's business).
fn claim_prefix(
    by_prefix: &mut BTreeMap<String, (String, String)>,
    prefix: &str,
    key: String,
    owner: &str,
    message: impl FnOnce(&str, &str) -> String,
) -> Result<(), Problem> {
    match by_prefix.get(prefix) {
        Some((first, first_owner)) if first_owner != owner => Err(Problem {
            key,
            message: message(first_owner, first),
            other: Some(first.clone()),
        }),
        Some(_) => Ok(()),
        None => {
            by_prefix.insert(prefix.to_owned(), (key, owner.to_owned()));
            Ok(())
        }
    }
}

pub(crate) fn validate(raw: RawConfig, source: Source) -> Result<Config, Problem> {
    if let Some(project) = &raw.project {
        check_name(project).map_err(|m| problem("project", m))?;
        if raw.registry.is_some() && !is_valid_image_name(&project.to_lowercase()) {
            return Err(problem(
                "project",
                format!(
                    "`{project}` lower-cased is not a valid image name: lower-case letters and digits separated by `.`, `_`, `__` or `-`"
                ),
            ));
        }
    }
    if let Some(registry) = &raw.registry {
        check_registry(registry).map_err(|m| problem("registry", m))?;
    }
    for (i, path) in raw.source_paths.iter().enumerate() {
        check_source_path(path).map_err(|m| problem(format!("source_paths[{i}]"), m))?;
    }
    for (i, registry) in raw.insecure_registries.iter().enumerate() {
        check_host(registry).map_err(|m| problem(format!("insecure_registries[{i}]"), m))?;
    }
    let root = match &source {
        Source::Toml(path) | Source::Legacy(path) => path.parent().map(Path::to_path_buf),
        Source::Default => None,
    }
    .unwrap_or_default();
    let mut registry_ca = BTreeMap::new();
    for (host, path) in &raw.registry_ca {
        check_host(host).map_err(|m| problem("registry_ca", format!("{host}: {m}")))?;
        if path.is_empty() {
            return Err(problem(
                "registry_ca",
                format!("{host}: the path of a PEM CA certificate file must not be empty"),
            ));
        }
        registry_ca.insert(host.clone(), root.join(path));
    }
    let mut registry_timeouts = RegistryTimeouts::default();
    if let Some(t) = &raw.registry_timeouts {
        for (key, value, slot) in [
            ("connect", t.connect, &mut registry_timeouts.connect),
            ("read", t.read, &mut registry_timeouts.read),
        ] {
            if let Some(secs) = value {
                if !(secs.is_finite() && secs > 0.0 && secs <= 3600.0) {
                    return Err(problem(
                        format!("registry_timeouts.{key}"),
                        format!("`{secs}` is not a number of seconds between 0 and 3600"),
                    ));
                }
                *slot = Duration::from_secs_f64(secs);
            }
        }
    }
    let mut dependencies = Vec::with_capacity(raw.dependencies.len());
    for (i, dep) in raw.dependencies.into_iter().enumerate() {
        let key = format!("dependencies[{i}]");
        dependencies.push(validate_dependency(dep, &key, raw.registry.is_some())?);
    }
    check_collisions(raw.project.as_deref(), &dependencies)?;
    Ok(Config {
        source,
        project: raw.project,
        registry: raw.registry,
        source_paths: raw.source_paths,
        insecure_registries: raw.insecure_registries,
        registry_ca,
        registry_timeouts,
        build_command: raw.build.map(|b| b.command),
        deploy_command: raw.deploy.map(|d| d.command),
        dependencies,
    })
}

fn validate_dependency(
    dep: RawDependency,
    key: &str,
    has_registry: bool,
) -> Result<Dependency, Problem> {
    let given: Vec<&str> = [
        ("url", dep.url.is_some()),
        ("image", dep.image.is_some()),
        ("package", dep.package.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect();
    let kind = match (dep.url, dep.image, dep.package) {
        (Some(url), None, None) => {
            check_url(&url).map_err(|m| problem(format!("{key}.url"), m))?;
            DependencyKind::Git { url }
        }
        (None, Some(image), None) => {
            check_image(&image).map_err(|m| problem(format!("{key}.image"), m))?;
            DependencyKind::Image { image }
        }
        (None, None, Some(package)) => {
            let (module, version) =
                split_package(&package).map_err(|m| problem(format!("{key}.package"), m))?;
            DependencyKind::Package { module, version }
        }
        (None, None, None) => {
            return Err(problem(
                key,
                "a dependency needs one of `url`, `image` or `package`",
            ));
        }
        _ => {
            return Err(problem(
                format!("{key}.{}", given[1]),
                format!(
                    "a dependency has exactly one of `url`, `image` or `package`, not both `{}` and `{}`",
                    given[0], given[1]
                ),
            ));
        }
    };
    let is_git = matches!(kind, DependencyKind::Git { .. });
    let is_image = matches!(kind, DependencyKind::Image { .. });
    if !is_git {
        for (name, set) in [("clone", dep.clone.is_some()), ("pull", dep.pull.is_some())] {
            if set {
                return Err(problem(
                    format!("{key}.{name}"),
                    format!("`{name}` applies to `url` dependencies only"),
                ));
            }
        }
    }
    if dep.build_input.is_some() && !is_image {
        return Err(problem(
            format!("{key}.build_input"),
            "`build_input` applies to `image` dependencies only",
        ));
    }
    let pull = dep.pull.unwrap_or(false);
    if pull && !has_registry {
        return Err(problem(
            format!("{key}.pull"),
            "`pull = true` needs a top-level `registry` to name the dependency's image",
        ));
    }
    for (label, value) in &dep.labels {
        check_label_key(label).map_err(|m| problem(format!("{key}.labels.{label}"), m))?;
        check_label_value(value).map_err(|m| problem(format!("{key}.labels.{label}"), m))?;
    }
    Ok(Dependency {
        kind,
        clone: dep.clone.unwrap_or(false),
        pull,
        labels: dep.labels,
        build_input: dep.build_input.unwrap_or(false),
        deploy: dep.deploy,
    })
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "`{name}` holds `{}`; use letters, digits, `-`, `_`, `.`",
            c.escape_default()
        ));
    }
    Ok(())
}

/// A registry with an optional path: `host[:port][/path]`, no scheme, no tag,
/// such that `<registry>/<name>` is a valid image reference (the one grammar
/// of [`crate::registry::Reference`]); or `oci:<dir>`.
fn check_registry(registry: &str) -> Result<(), String> {
    if registry.contains("://") {
        return Err(format!(
            "`{}` has a scheme; write `host[:port]/path` without it",
            registry.escape_default()
        ));
    }
    check_registry_prefix(registry)
}

/// A registry host as `insecure_registries` and `[registry_ca]` name it:
/// `host` or `host:port`, nothing else.
fn check_host(host: &str) -> Result<(), String> {
    let parsed = Reference::parse(&format!("{host}/x"));
    match parsed {
        Ok(r) if r.registry == host => Ok(()),
        _ => Err(format!(
            "`{}` is not a registry host: write `host` or `host:port`",
            host.escape_default()
        )),
    }
}

/// A source path is relative and clean: no empty, `.` or `..` segment, no
/// leading or trailing slash. `.` alone means the whole repository.
pub(crate) fn check_source_path(path: &str) -> Result<(), String> {
    if path == "." {
        return Ok(());
    }
    if path.is_empty() {
        return Err("empty path".into());
    }
    if path.starts_with('/') || path.contains('\\') || path.get(1..2) == Some(":") {
        return Err(format!(
            "`{path}` is absolute; source paths are relative to the repository root"
        ));
    }
    if path.contains('\0') {
        return Err("the path holds a NUL byte".into());
    }
    if path
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(format!(
            "`{path}` is not clean (no `..`, `.`, empty segment or trailing slash)"
        ));
    }
    Ok(())
}

/// Git URLs: `https://`, `http://`, `ssh://`, `git://`, `file://`, scp-like
/// `user@host:path`, and local paths.
fn check_url(url: &str) -> Result<(), String> {
    if url.is_empty() {
        return Err("empty URL".into());
    }
    if let Some(c) = url.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "`{}` holds the character {:?}",
            url.escape_default(),
            c
        ));
    }
    if url.starts_with('-') {
        return Err(format!("`{url}` starts with `-`"));
    }
    if let Some((scheme, rest)) = url.split_once("://") {
        match scheme {
            "https" | "http" | "ssh" | "git" | "file" => {}
            _ => {
                return Err(format!(
                    "unsupported scheme `{scheme}` (https, http, ssh, git, file)"
                ));
            }
        }
        let host_end = rest.find('/').unwrap_or(rest.len());
        if scheme != "file" && host_end == 0 {
            return Err(format!("`{url}` has no host"));
        }
        if rest[host_end..].trim_matches('/').is_empty() {
            return Err(format!("`{url}` names no repository"));
        }
    }
    let name = repo_name_of_url(url);
    if name.is_empty() || name == "." || name == ".." {
        return Err(format!("`{url}` names no repository"));
    }
    Ok(())
}

/// The last path segment of a git URL, without `.git`.
pub(crate) fn repo_name_of_url(url: &str) -> &str {
    let trimmed = url.trim_end_matches('/');
    let last = trimmed.rsplit(['/', ':']).next().unwrap_or(trimmed);
    last.strip_suffix(".git").unwrap_or(last)
}

fn check_image(image: &str) -> Result<(), String> {
    match Reference::parse(image) {
        Ok(_) => Ok(()),
        Err(RegistryError::BadReference { why, .. }) => Err(format!(
            "`{}` is not a valid image reference: {why}",
            image.escape_default()
        )),
        Err(e) => Err(e.to_string()),
    }
}

fn split_package(package: &str) -> Result<(String, String), String> {
    match package.rsplit_once('@') {
        Some((module, version)) if !module.is_empty() && !version.is_empty() => {
            if let Some(c) = package
                .chars()
                .find(|c| c.is_whitespace() || c.is_control())
            {
                return Err(format!(
                    "`{}` holds the character {:?}",
                    package.escape_default(),
                    c
                ));
            }
            Ok((module.to_owned(), version.to_owned()))
        }
        _ => Err(format!("`{package}` is not of the form `module@version`")),
    }
}

/// Kubernetes label keys: an optional DNS prefix and `/`, then a name of at most
/// 63 characters: alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric.
pub(crate) fn check_label_key(key: &str) -> Result<(), String> {
    let name = match key.rsplit_once('/') {
        Some((prefix, name)) => {
            if prefix.is_empty()
                || prefix.len() > 253
                || !prefix.split('.').all(|p| {
                    !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
            {
                return Err(format!("label key `{key}` has an invalid prefix"));
            }
            name
        }
        None => key,
    };
    if name.is_empty() {
        return Err("empty label key".into());
    }
    check_label_value(name).map_err(|_| format!("invalid label key `{key}`"))
}

/// Kubernetes label values: empty, or at most 63 alphanumerics, `-`, `_`, `.`,
/// starting and ending alphanumeric.
pub(crate) fn check_label_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    let ok = value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && value.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid label value `{}` (at most 63 letters, digits, `-`, `_`, `.`, alphanumeric at both ends)",
            value.escape_default()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_paths() {
        for ok in ["Dockerfile", "src/bin", "a.b/c-d", "."] {
            assert_eq!(check_source_path(ok), Ok(()), "{ok}");
        }
        for bad in [
            "", "/abs", "../x", "a//b", "a/", "./a", "a/./b", "a/..", "C:\\x",
        ] {
            assert!(check_source_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_and_names() {
        for (url, name) in [
            (
                "https://127.0.0.1:9/astrolabsoftware/fink-alert-simulator",
                "fink-alert-simulator",
            ),
            ("https://127.0.0.1:9/a/b.git", "b"),
            ("git@127.0.0.1:a/b.git", "b"),
            ("file:///tmp/remotes/dep1.git", "dep1"),
            ("../sibling", "sibling"),
            ("ssh://git@host:22/x/y/", "y"),
        ] {
            assert_eq!(check_url(url), Ok(()), "{url}");
            assert_eq!(repo_name_of_url(url), name, "{url}");
        }
        for bad in [
            "",
            "ftp://x/y",
            "https://",
            "https://host",
            "has space",
            "-oProxy",
            "https:///x",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn images() {
        for ok in [
            "r.example/a/b:1.0",
            "ubuntu",
            "localhost:5000/x",
            format!("x/y@sha256:{}", "ab".repeat(32)).as_str(),
        ] {
            assert_eq!(check_image(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "https://r/x",
            "r//x:1",
            "x:",
            "a b",
            "x/y@sha256:abc",
            "127.0.0.1:9/Astro/x:1",
            "UPPER/Case:t@g!",
        ] {
            assert!(check_image(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn labels() {
        for ok in ["itest", "ci", "127.0.0.1/tier", "a_b.c-d"] {
            assert_eq!(check_label_key(ok), Ok(()), "{ok}");
        }
        for bad in ["", "-a", "a b", "/x", "x/", "a$"] {
            assert!(check_label_key(bad).is_err(), "{bad}");
        }
        for ok in ["", "true", "optional", "v1.2"] {
            assert_eq!(check_label_value(ok), Ok(()), "{ok}");
        }
        assert!(check_label_value("a,b").is_err());
        assert!(check_label_value(&"x".repeat(64)).is_err());
    }

    #[test]
    fn packages() {
        assert_eq!(
            split_package("127.0.0.1:9/k8s-school/ktbx@v1.1.1-rc7"),
            Ok(("127.0.0.1:9/k8s-school/ktbx".into(), "v1.1.1-rc7".into()))
        );
        assert!(split_package("127.0.0.1:9/x").is_err());
        assert!(split_package("@v1").is_err());
    }
}
