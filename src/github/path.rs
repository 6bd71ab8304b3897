//! `$GITHUB_PATH`: directories prepended to `PATH` for the next steps.

use std::path::Path;

use super::{ENV_PATH, GithubError, append_file};

/// Append `dir` to the `$GITHUB_PATH` file `github_path`, so later steps find
/// the tools installed there. A directory whose name holds a line break is
/// refused: it would add a second, attacker-chosen entry.
pub(crate) fn add_path(github_path: &Path, dir: &Path) -> Result<(), GithubError> {
    let text = dir.to_string_lossy();
    if text.contains(['\n', '\r']) {
        return Err(GithubError::BadPath {
            path: dir.to_path_buf(),
        });
    }
    append_file(ENV_PATH, github_path, format!("{text}\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_path_gets_one_line_per_dir() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("path");
        add_path(&file, Path::new("/home/runner/go/bin")).unwrap();
        assert!(add_path(&file, Path::new("/x\n/evil")).is_err());
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "/home/runner/go/bin\n"
        );
    }
}
