//! One `ciux ignite` at a time per workspace: an advisory lock on a file
//! beside the env files.
//!
//! Two runs on the same workspace would clone the same siblings and replace
//! the same env files at once. The second waits (a bounded time,
//! `CIUX_LOCK_TIMEOUT` seconds, default 600) and says who holds the lock: the
//! holder writes its process id, host and command line into the file. The
//! lock is the kernel's (`flock`), so it is released when its holder exits,
//! however it exits; the file staying behind means nothing.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use thiserror::Error;

/// File name of the lock, in the env files' directory.
pub(crate) const LOCK_FILE: &str = "ignite.lock";
/// Seconds to wait for a lock held by another run.
pub(crate) const LOCK_TIMEOUT_VAR: &str = "CIUX_LOCK_TIMEOUT";
const DEFAULT_TIMEOUT: u64 = 600;

#[derive(Debug, Error)]
pub(crate) enum LockError {
    #[error("cannot lock {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("another ciux is working on this workspace ({holder}), still after {} s; lock {}\n  hint: wait for it to finish, or set {LOCK_TIMEOUT_VAR} to wait longer", waited.as_secs(), path.display())]
    Busy {
        path: PathBuf,
        holder: String,
        waited: Duration,
    },
}

/// The held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub(crate) struct WorkspaceLock {
    _file: File,
}

/// How long to wait, from `CIUX_LOCK_TIMEOUT`.
pub(crate) fn lock_timeout() -> Duration {
    let seconds = std::env::var(LOCK_TIMEOUT_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(DEFAULT_TIMEOUT);
    Duration::from_secs(seconds)
}

/// Take the lock in `dir`, waiting up to `timeout`; `waiting` is told once who
/// holds it when the wait begins.
pub(crate) fn acquire(
    dir: &Path,
    timeout: Duration,
    waiting: &dyn Fn(&str),
) -> Result<WorkspaceLock, LockError> {
    let path = dir.join(LOCK_FILE);
    let io = |source| LockError::Io {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    let started = Instant::now();
    let mut told = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => {
                let holder = holder(&mut file);
                if started.elapsed() >= timeout {
                    return Err(LockError::Busy {
                        path,
                        holder,
                        waited: started.elapsed(),
                    });
                }
                if !told {
                    waiting(&holder);
                    told = true;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
    }
    let me = format!(
        "pid {} on {} ({})\n",
        std::process::id(),
        hostname(),
        crate::safe_text::escape_value(&std::env::args().collect::<Vec<_>>().join(" "))
    );
    let write = |file: &mut File| -> std::io::Result<()> {
        file.set_len(0)?;
        file.rewind()?;
        file.write_all(me.as_bytes())?;
        file.flush()
    };
    write(&mut file).map_err(io)?;
    Ok(WorkspaceLock { _file: file })
}

/// What the holder wrote, on one line.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind();
    let _ = file.take(4096).read_to_string(&mut text);
    let text = text.trim();
    if text.is_empty() {
        "held by a process that has not said who it is yet".into()
    } else {
        format!("held by {}", crate::safe_text::escape_value(text))
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "an unknown host".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_waits_then_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path(), Duration::ZERO, &|_| {}).unwrap();
        let told = std::cell::RefCell::new(String::new());
        let started = Instant::now();
        let err = acquire(dir.path(), Duration::from_millis(300), &|h| {
            *told.borrow_mut() = h.to_owned()
        })
        .unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(300));
        let pid = format!("pid {} on ", std::process::id());
        assert!(told.borrow().contains(&pid), "{}", told.borrow());
        assert!(err.to_string().contains(&pid), "{err}");
        drop(first);
        acquire(dir.path(), Duration::ZERO, &|_| {}).unwrap();
    }
}
