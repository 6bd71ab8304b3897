//! Every environment variable name ciux reads or writes, in one place, and the
//! rules that turn repository and image names into variable-name prefixes.

/// Overrides the env file path.
pub(crate) const CIUXCONFIG: &str = "CIUXCONFIG";
/// Suffix of a repository's checkout directory variable.
pub(crate) const DIR_SUFFIX: &str = "_DIR";
/// Suffix of a repository's version variable.
pub(crate) const VERSION_SUFFIX: &str = "_VERSION";
/// Suffix of a repository's branch variable.
pub(crate) const WORKBRANCH_SUFFIX: &str = "_WORKBRANCH";
/// Suffix of an image dependency's variable.
pub(crate) const IMAGE_SUFFIX: &str = "_IMAGE";

pub(crate) const CIUX_IMAGE_REGISTRY: &str = "CIUX_IMAGE_REGISTRY";
pub(crate) const CIUX_IMAGE_NAME: &str = "CIUX_IMAGE_NAME";
pub(crate) const CIUX_IMAGE_TAG: &str = "CIUX_IMAGE_TAG";
pub(crate) const CIUX_IMAGE_URL: &str = "CIUX_IMAGE_URL";
pub(crate) const CIUX_BUILD: &str = "CIUX_BUILD";
pub(crate) const CIUX_PROMOTED_IMAGE_URL: &str = "CIUX_PROMOTED_IMAGE_URL";
pub(crate) const CIUX_TEMPORARY_IMAGE_URL: &str = "CIUX_TEMPORARY_IMAGE_URL";
pub(crate) const CIUX_IMAGE_DIGEST: &str = "CIUX_IMAGE_DIGEST";
pub(crate) const CIUX_IMAGE_INPUTS: &str = "CIUX_IMAGE_INPUTS";

/// GitHub Actions: set when running in a workflow.
pub(crate) const GITHUB_ACTIONS: &str = "GITHUB_ACTIONS";
/// Set (`true`) by CI services: GitHub Actions, GitLab CI, act, most others.
pub(crate) const CI: &str = "CI";
/// GitHub Actions: file of environment variables for the next steps.
pub(crate) const GITHUB_ENV: &str = "GITHUB_ENV";
/// GitHub Actions: file of step outputs.
pub(crate) const GITHUB_OUTPUT: &str = "GITHUB_OUTPUT";
/// GitHub Actions: file of directories prepended to `PATH` for the next steps.
pub(crate) const GITHUB_PATH: &str = "GITHUB_PATH";
/// GitHub Actions: markdown file shown on the run's summary page.
pub(crate) const GITHUB_STEP_SUMMARY: &str = "GITHUB_STEP_SUMMARY";
/// GitHub Actions: the pull request's source branch.
pub(crate) const GITHUB_HEAD_REF: &str = "GITHUB_HEAD_REF";
/// GitHub Actions: the branch or tag that triggered the workflow.
pub(crate) const GITHUB_REF_NAME: &str = "GITHUB_REF_NAME";

/// The variable-name prefix of a repository: upper-cased, `-` and `.` (and any
/// other character that a shell name cannot hold) → `_`, and `_` in front of a
/// leading digit, so that the result is always a valid shell variable name.
pub fn repo_prefix(name: &str) -> String {
    let mut prefix: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if prefix.is_empty() || prefix.starts_with(|c: char| c.is_ascii_digit()) {
        prefix.insert(0, '_');
    }
    prefix
}

/// The variable-name prefix of an image dependency: its repository path (no
/// registry host, tag or digest) mapped like [`repo_prefix`], as the reference
/// tool does (`registry.example.org/astro/spark-py:1` → `ASTRO_SPARK_PY`; a
/// Docker Hub official image `ubuntu:22.04` → `LIBRARY_UBUNTU`).
pub(crate) fn image_prefix(image: &str) -> String {
    repo_prefix(&image_repository_path(image))
}

/// The repository path of an image reference, without registry host, tag or digest.
pub(crate) fn image_repository_path(image: &str) -> String {
    let without_digest = image.split('@').next().unwrap_or(image);
    let without_tag = match without_digest.rfind(':') {
        Some(i) if !without_digest[i..].contains('/') => &without_digest[..i],
        _ => without_digest,
    };
    let mut parts: Vec<&str> = without_tag.split('/').collect();
    let has_host = parts.len() > 1
        && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost");
    if has_host {
        parts.remove(0);
    }
    if !has_host && parts.len() == 1 {
        parts.insert(0, "library");
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_prefixes_are_shell_names() {
        assert_eq!(repo_prefix("fink-alert-simulator"), "FINK_ALERT_SIMULATOR");
        assert_eq!(repo_prefix("my.repo"), "MY_REPO");
        assert_eq!(repo_prefix("3d-viewer"), "_3D_VIEWER");
        assert_eq!(repo_prefix("a$(b)"), "A__B_");
        assert_eq!(repo_prefix(""), "_");
    }

    #[test]
    fn image_prefixes_follow_the_repository_path() {
        for (image, prefix) in [
            (
                "gitlab-registry.in2p3.fr/astrolabsoftware/fink/spark-py:k8s-3.4.1",
                "ASTROLABSOFTWARE_FINK_SPARK_PY",
            ),
            ("localhost:5000/a/b-c:1", "A_B_C"),
            ("ubuntu:22.04", "LIBRARY_UBUNTU"),
            ("bitnami/kafka", "BITNAMI_KAFKA"),
            ("127.0.0.1:5000/x@sha256:abcd", "X"),
            ("registry.example.org/astro/fink.deps:v2", "ASTRO_FINK_DEPS"),
        ] {
            assert_eq!(image_prefix(image), prefix, "{image}");
        }
    }
}
