//! Whether tracked files differ from HEAD, as `git describe --dirty` asks.
//!
//! libgit2's status walks the whole work tree (a directory read and a `stat`
//! of every entry, ignore rules for what the index does not hold) and diffs
//! HEAD against the index in full; on git's own work tree that was most of a
//! `ciux get revision` with a commit-graph (docs/perf.md). Git answers the
//! same question by comparing each index entry's recorded `stat` data with
//! the file's. So do we, first: when every tracked file matches its entry
//! (and, where it was written in the same instant as the index, its bytes
//! are the recorded blob: git's "racily clean" rule), the work tree is the
//! index, and only HEAD against the index remains. Anything else (a mismatch, a
//! conflict, an intent-to-add entry, a missing file) is decided by
//! libgit2's full status, which reads content and applies filters.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use git2::{DiffOptions, IndexEntry, ObjectType, Oid, Repository, StatusOptions};

/// Index entry flags (git's `index-format.txt`).
const STAGE_MASK: u16 = 0x3000;
const ASSUME_VALID: u16 = 0x8000;
const INTENT_TO_ADD: u16 = 0x2000;
const SKIP_WORKTREE: u16 = 0x4000;
const GITLINK: u32 = 0o160000;
const SYMLINK: u32 = 0o120000;

/// Whether tracked files (under `paths`, when given; `"."` is everything)
/// differ from HEAD in the index or the work tree. Untracked and ignored
/// files do not count, nor do submodules.
pub(crate) fn tracked_changes(
    git: &Repository,
    paths: Option<&[String]>,
) -> Result<bool, git2::Error> {
    // A bare repository (`tag --all` clones missing dependencies bare) has
    // no work tree to differ from HEAD.
    let Some(workdir) = git.workdir() else {
        return Ok(false);
    };
    // Clean as a whole is clean under any paths.
    if work_tree_matches_index(git, workdir) && !head_differs_from_index(git)? {
        return Ok(false);
    }
    full_status(git, paths)
}

/// Whether every tracked file's `stat` data matches its index entry, so that
/// the work tree holds exactly what the index does. False means "not known".
fn work_tree_matches_index(git: &Repository, workdir: &Path) -> bool {
    let Ok(mut index) = git.index() else {
        return false;
    };
    // Reread it if it changed on disk since this repository opened it.
    if index.read(false).is_err() {
        return false;
    }
    let Some(written) = index
        .path()
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| (m.mtime(), m.mtime_nsec()))
    else {
        return false;
    };
    let trust_mode = git
        .config()
        .and_then(|c| c.get_bool("core.filemode"))
        .unwrap_or(true);
    index
        .iter()
        .all(|entry| entry_matches(&entry, workdir, written, trust_mode))
}

fn entry_matches(
    entry: &IndexEntry,
    workdir: &Path,
    written: (i64, i64),
    trust_mode: bool,
) -> bool {
    if entry.flags & STAGE_MASK != 0 || entry.flags_extended & INTENT_TO_ADD != 0 {
        return false;
    }
    if entry.flags & ASSUME_VALID != 0
        || entry.flags_extended & SKIP_WORKTREE != 0
        || entry.mode == GITLINK
    {
        return true;
    }
    let mtime = (
        i64::from(entry.mtime.seconds()),
        i64::from(entry.mtime.nanoseconds()),
    );
    let Ok(path) = std::str::from_utf8(&entry.path) else {
        return false;
    };
    let path = workdir.join(path);
    let Ok(meta) = std::fs::symlink_metadata(&path) else {
        return false;
    };
    let kind_matches = if entry.mode == SYMLINK {
        meta.file_type().is_symlink()
    } else {
        meta.file_type().is_file()
            && (!trust_mode || (meta.mode() & 0o100 != 0) == (entry.mode & 0o100 != 0))
    };
    let stat_matches = kind_matches
        && (meta.mtime(), meta.mtime_nsec()) == mtime
        && meta.ctime() == i64::from(entry.ctime.seconds())
        && meta.ctime_nsec() == i64::from(entry.ctime.nanoseconds())
        // The index keeps the low 32 bits of the size and of the inode.
        && meta.size() as u32 == entry.file_size
        && meta.ino() as u32 == entry.ino;
    // Racily clean: written no earlier than the index, so a change in the
    // same instant would not show in the times. As git does, look at the
    // content (here unfiltered: a file whose bytes are the recorded blob is
    // unchanged; any other goes to the full status). After a clone or a
    // checkout these are the files written in the index's last instant.
    stat_matches
        && (mtime < written
            || (meta.file_type().is_file()
                && Oid::hash_file(ObjectType::Blob, &path).is_ok_and(|id| id == entry.id)))
}

/// Whether the index differs from HEAD's tree (an unborn HEAD differs from
/// any index holding entries).
fn head_differs_from_index(git: &Repository) -> Result<bool, git2::Error> {
    let index = git.index()?;
    let tree = match git.head() {
        Ok(head) => Some(head.peel_to_tree()?),
        Err(e) if e.code() == git2::ErrorCode::UnbornBranch => None,
        Err(e) => return Err(e),
    };
    let mut options = DiffOptions::new();
    options.ignore_submodules(true);
    let diff = git.diff_tree_to_index(tree.as_ref(), Some(&index), Some(&mut options))?;
    Ok(diff.deltas().len() > 0)
}

/// libgit2's status, which reads content where `stat` data differ.
fn full_status(git: &Repository, paths: Option<&[String]>) -> Result<bool, git2::Error> {
    let mut options = StatusOptions::new();
    options
        .include_untracked(false)
        .include_ignored(false)
        .exclude_submodules(true)
        .renames_head_to_index(false);
    if let Some(paths) = paths.filter(|p| !p.iter().any(|p| p == ".")) {
        options.disable_pathspec_match(false);
        for path in paths {
            options.pathspec(path);
        }
    }
    Ok(git
        .statuses(Some(&mut options))?
        .iter()
        .any(|entry| entry.status() != git2::Status::CURRENT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::testing::git;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    /// Set every tracked file's times back, each call to another whole
    /// second (git compares seconds only), and let git record them, so that
    /// no entry is racily clean and the stat comparison decides.
    fn settle(dir: &Path) {
        static CALLS: AtomicU64 = AtomicU64::new(0);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let back = 3600 + 2 * CALLS.fetch_add(1, Ordering::Relaxed);
        let past = UNIX_EPOCH + Duration::from_secs(now - back);
        for path in git(dir, &["ls-files"]).lines() {
            let path = dir.join(path);
            if !path.is_symlink() {
                let file = std::fs::File::options().append(true).open(&path).unwrap();
                file.set_modified(past).unwrap();
            }
        }
        git(dir, &["update-index", "-q", "--refresh"]);
    }

    /// Our answer against `git status`, with whether the stat comparison
    /// alone found the work tree equal to the index.
    fn compare(dir: &Path, step: &str) -> bool {
        let repo = Repository::open(dir).unwrap();
        let theirs = !git(
            dir,
            &[
                "--no-optional-locks",
                "status",
                "--porcelain",
                "--untracked-files=no",
            ],
        )
        .is_empty();
        assert_eq!(tracked_changes(&repo, None).unwrap(), theirs, "{step}");
        work_tree_matches_index(&repo, dir)
    }

    #[test]
    fn agrees_with_git_status() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q", "-b", "main"]);
        std::fs::create_dir(dir.join("src")).unwrap();
        std::fs::write(dir.join("src/a.c"), "int a;\n").unwrap();
        std::fs::write(dir.join("run.sh"), "#!/bin/sh\n").unwrap();
        std::os::unix::fs::symlink("src/a.c", dir.join("link")).unwrap();
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-q", "-m", "one"]);
        // Written after the index by the clock (a time in the future):
        // racily clean, decided by the content, which is the blob.
        let future = SystemTime::now() + Duration::from_secs(3600);
        std::fs::File::options()
            .append(true)
            .open(dir.join("src/a.c"))
            .unwrap()
            .set_modified(future)
            .unwrap();
        git(dir, &["update-index", "-q", "--refresh"]);
        assert!(compare(dir, "racily clean"), "racy, same bytes");
        settle(dir);
        assert!(
            compare(dir, "clean"),
            "a settled clean tree is decided by stat alone"
        );

        std::fs::write(dir.join("untracked"), "x").unwrap();
        assert!(compare(dir, "an untracked file does not count"));

        // Same content, new times: not equal by stat, clean by content.
        std::fs::write(dir.join("src/a.c"), "int a;\n").unwrap();
        assert!(!compare(dir, "rewritten with the same content"));
        settle(dir);

        let steps: [(&str, &dyn Fn()); 5] = [
            ("content changed", &|| {
                std::fs::write(dir.join("src/a.c"), "int b;\n").unwrap()
            }),
            ("mode changed", &|| {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(
                    dir.join("run.sh"),
                    std::fs::Permissions::from_mode(0o755),
                )
                .unwrap();
            }),
            ("file deleted", &|| {
                std::fs::remove_file(dir.join("run.sh")).unwrap()
            }),
            ("change staged", &|| {
                std::fs::write(dir.join("src/a.c"), "int c;\n").unwrap();
                git(dir, &["add", "src/a.c"]);
                settle(dir);
            }),
            ("new file staged", &|| {
                std::fs::write(dir.join("new.c"), "int n;\n").unwrap();
                git(dir, &["add", "new.c"]);
                settle(dir);
            }),
        ];
        for (step, change) in steps {
            change();
            let by_stat = compare(dir, step);
            git(dir, &["reset", "-q", "--hard"]);
            settle(dir);
            assert!(compare(dir, "reset"), "after {step}");
            let staged = step.ends_with("staged");
            assert_eq!(
                by_stat, staged,
                "{step}: only a staged change matches by stat"
            );
        }
    }
}
