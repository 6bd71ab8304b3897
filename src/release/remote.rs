//! Talking to remotes through the `git` CLI, which picks up CI credential
//! helpers and ssh agents that libgit2 would not. Remote URLs and git's output
//! are redacted before they reach a message: credentials never reach logs.

use std::path::Path;

use super::ReleaseError;

/// Run `git -C dir args...`; stdout on success, a [`ReleaseError::GitCommand`]
/// with git's (redacted) stderr otherwise. `--` separates options from values
/// taken from the repository in every caller, so none is read as an option.
pub(crate) fn git(dir: &Path, args: &[&str]) -> Result<String, ReleaseError> {
    let mut cmd = crate::git::cli::git_command();
    cmd.arg("-C").arg(dir).args(args);
    let output = crate::git::cli::output(&mut cmd).map_err(|e| match e {
        crate::git::cli::RunError::Spawn(source) => ReleaseError::Spawn {
            path: dir.to_path_buf(),
            source,
        },
        timed_out => ReleaseError::GitCommand {
            path: dir.to_path_buf(),
            command: redact(&format!("git {}", args.join(" "))),
            stderr: timed_out.describe(),
        },
    })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(ReleaseError::GitCommand {
            path: dir.to_path_buf(),
            command: redact(&format!("git {}", args.join(" "))),
            stderr: redact(String::from_utf8_lossy(&output.stderr).trim()),
        })
    }
}

/// The remote a branch pushes to: `branch.<name>.remote`, else `origin`, else
/// the only remote; `None` when the repository has no remote.
pub(crate) fn branch_remote(repo: &git2::Repository, branch: Option<&str>) -> Option<String> {
    if let Some(branch) = branch
        && let Ok(config) = repo.config()
        && let Ok(name) = config.get_string(&format!("branch.{branch}.remote"))
        && name != "."
        && repo.find_remote(&name).is_ok()
    {
        return Some(name);
    }
    let remotes = repo.remotes().ok()?;
    let names: Vec<&str> = remotes.iter().flatten().flatten().collect();
    if names.contains(&"origin") {
        Some("origin".into())
    } else if names.len() == 1 {
        Some(names[0].to_owned())
    } else {
        None
    }
}

/// The (redacted) URL of a remote, for messages.
pub(crate) fn remote_url(repo: &git2::Repository, name: &str) -> String {
    repo.find_remote(name)
        .ok()
        .and_then(|r| r.url().ok().map(redact))
        .unwrap_or_default()
}

/// The tag names on `remote` (one `git ls-remote --tags`; peeled `^{}` lines skipped).
pub(crate) fn remote_tags(dir: &Path, remote: &str) -> Result<Vec<String>, ReleaseError> {
    let out = git(dir, &["ls-remote", "--tags", "--refs", "--", remote])?;
    Ok(out
        .lines()
        .filter_map(|line| line.split('\t').nth(1))
        .filter_map(|r| r.strip_prefix("refs/tags/"))
        .map(str::to_owned)
        .collect())
}

/// Push one tag to `remote`.
pub(crate) fn push_tag(dir: &Path, remote: &str, tag: &str) -> Result<(), ReleaseError> {
    let refspec = format!("refs/tags/{tag}:refs/tags/{tag}");
    git(dir, &["push", "--quiet", "--", remote, &refspec]).map(drop)
}

/// Replace the user-info part of every URL in `text` (`https://user:token@host`)
/// by `***`, so that a token in a remote URL never reaches a message.
pub(crate) fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (before, after) = rest.split_at(i + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| c == '/' || c.is_whitespace())
            .unwrap_or(after.len());
        match after[..end].rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&after[at..end]);
            }
            None => out.push_str(&after[..end]),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn credentials_are_redacted() {
        for (text, want) in [
            ("https://host/a.git", "https://host/a.git"),
            ("https://user:tok@host/a.git", "https://***@host/a.git"),
            (
                "To https://x-access-token:ghs_1@github.example/o/r\n",
                "To https://***@github.example/o/r\n",
            ),
            (
                "a ssh://git@h:22/r b http://u:p@h2",
                "a ssh://***@h:22/r b http://***@h2",
            ),
            ("git@host:org/repo.git", "git@host:org/repo.git"),
            ("file:///tmp/r.git", "file:///tmp/r.git"),
            ("", ""),
        ] {
            assert_eq!(redact(text), want, "{text}");
        }
    }
}
