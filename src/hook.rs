//! `ciux hook install|uninstall`: the pre-push hook that runs `ciux check`.
//!
//! A hook that is already there is kept: it moves to `pre-push.ciux-chained`
//! and our hook runs it after the check, with the same arguments and input.
//! Nothing is overwritten silently: when the chained slot is taken too, or the
//! hook to remove is not ours, we refuse. The script never evaluates a value
//! that comes from git (remote name, URL, refs): they are passed on as quoted
//! `"$@"` and standard input only.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::check::shell_quote;
use crate::git::Repo;

/// The line that marks a hook as written by ciux.
pub(crate) const MARKER: &str = "# ciux pre-push hook";
/// Where an existing hook is kept and run from.
pub(crate) const CHAINED: &str = "pre-push.ciux-chained";

#[derive(Debug, Error)]
pub(crate) enum HookError {
    #[error("{} exists and {} is taken too: refusing to overwrite either\n  fix: merge them into one hook by hand, or remove one", hook.display(), chained.display())]
    WouldOverwrite { hook: PathBuf, chained: PathBuf },
    #[error("{} was not written by ciux: leaving it alone\n  fix: remove it by hand if you want it gone", path.display())]
    NotOurs { path: PathBuf },
    #[error("cannot {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
}

/// What `install` or `uninstall` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HookOutcome {
    Installed(PathBuf),
    /// Our hook was there already; rewritten (e.g. the binary moved).
    Updated(PathBuf),
    /// Installed; the hook that was there now runs after the check.
    Chained {
        hook: PathBuf,
        chained: PathBuf,
    },
    Removed(PathBuf),
    /// Removed ours and put the chained hook back.
    Restored(PathBuf),
    NothingToDo(PathBuf),
}

impl std::fmt::Display for HookOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Installed(p) => write!(f, "installed {}", p.display()),
            Self::Updated(p) => write!(f, "updated {}", p.display()),
            Self::Chained { hook, chained } => write!(
                f,
                "installed {}; the hook that was there moved to {} and runs after the check",
                hook.display(),
                chained.display()
            ),
            Self::Removed(p) => write!(f, "removed {}", p.display()),
            Self::Restored(p) => write!(
                f,
                "removed the ciux hook and restored the previous {}",
                p.display()
            ),
            Self::NothingToDo(p) => write!(f, "no ciux hook at {}", p.display()),
        }
    }
}

/// The hooks directory git uses: `core.hooksPath` (relative to the work tree),
/// else `hooks/` in the common git directory (shared by linked worktrees).
pub(crate) fn hooks_dir(repo: &Repo) -> PathBuf {
    let configured = repo
        .git()
        .config()
        .ok()
        .and_then(|c| c.get_path("core.hooksPath").ok());
    match configured {
        Some(path) if path.is_absolute() => path,
        Some(path) => repo.root().join(path),
        None => repo.git().commondir().join("hooks"),
    }
}

/// The hook script, calling `ciux` at `exe` (else `ciux` on PATH).
pub(crate) fn script(exe: &Path) -> String {
    let exe = shell_quote(&exe.display().to_string());
    format!(
        r#"#!/bin/sh
{MARKER}: runs `ciux check` before each push, then the hook that was here
# before ({CHAINED}), if any. Written by `ciux hook install`; remove it with
# `ciux hook uninstall`. No value from git is ever evaluated here.
ciux={exe}
[ -x "$ciux" ] || ciux=ciux
refs=$(mktemp) || exit 1
trap 'rm -f "$refs"' EXIT
cat >"$refs"
"$ciux" check --pre-push . <"$refs" || exit $?
chained="$(dirname "$0")/{CHAINED}"
if [ -x "$chained" ]; then
  "$chained" "$@" <"$refs" || exit $?
fi
exit 0
"#
    )
}

fn is_ours(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .is_ok_and(|text| text.lines().nth(1).is_some_and(|l| l.starts_with(MARKER)))
}

/// Write the pre-push hook of the repository containing `path`.
pub(crate) fn install(path: &Path, exe: &Path) -> Result<HookOutcome, HookError> {
    let repo = Repo::discover(path)?;
    let dir = hooks_dir(&repo);
    let hook = dir.join("pre-push");
    let chained = dir.join(CHAINED);
    let io = |action, path: &Path| {
        let path = path.to_path_buf();
        move |source| HookError::Io {
            action,
            path,
            source,
        }
    };
    let outcome = if !exists(&hook) {
        HookOutcome::Installed(hook.clone())
    } else if is_ours(&hook) {
        HookOutcome::Updated(hook.clone())
    } else if exists(&chained) {
        return Err(HookError::WouldOverwrite { hook, chained });
    } else {
        std::fs::rename(&hook, &chained).map_err(io("move", &hook))?;
        HookOutcome::Chained {
            hook: hook.clone(),
            chained,
        }
    };
    crate::fsutil::write_atomic(&hook, script(exe).as_bytes()).map_err(io("write", &hook))?;
    set_executable(&hook).map_err(io("make executable", &hook))?;
    Ok(outcome)
}

/// Remove our pre-push hook, putting back the hook it chained, if any.
pub(crate) fn uninstall(path: &Path) -> Result<HookOutcome, HookError> {
    let repo = Repo::discover(path)?;
    let dir = hooks_dir(&repo);
    let hook = dir.join("pre-push");
    let chained = dir.join(CHAINED);
    if !exists(&hook) {
        return Ok(HookOutcome::NothingToDo(hook));
    }
    if !is_ours(&hook) {
        return Err(HookError::NotOurs { path: hook });
    }
    if exists(&chained) {
        std::fs::rename(&chained, &hook).map_err(|source| HookError::Io {
            action: "restore",
            path: chained,
            source,
        })?;
        return Ok(HookOutcome::Restored(hook));
    }
    std::fs::remove_file(&hook).map_err(|source| HookError::Io {
        action: "remove",
        path: hook.clone(),
        source,
    })?;
    Ok(HookOutcome::Removed(hook))
}

/// Exists, or is a (possibly dangling) symbolic link: either way, not ours to clobber.
fn exists(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

#[cfg(unix)]
fn set_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn set_executable(_: &Path) -> std::io::Result<()> {
    Ok(())
}
