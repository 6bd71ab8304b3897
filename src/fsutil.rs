//! File writing that never leaves a half-written file behind.

use std::io::{self, Write};
use std::path::Path;

/// Write `bytes` to `path` atomically: a temporary file in the same directory,
/// flushed to disk, then renamed over the target. Creates missing parent directories.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_then(path, bytes, |file| file.persist(path).map(drop))
}

/// Like [`write_atomic`], but fails with `AlreadyExists` if `path` exists.
pub(crate) fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_then(path, bytes, |file| file.persist_noclobber(path).map(drop))
}

/// `bytes` in a temporary file beside `path`, on disk, then moved by `persist`.
fn write_then(
    path: &Path,
    bytes: &[u8],
    persist: impl FnOnce(tempfile::NamedTempFile) -> Result<(), tempfile::PersistError>,
) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = temp_beside(path)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    persist(file).map_err(|e| e.error)
}

/// A temporary file in the directory of `path` (which must exist), for a
/// writer that streams its content and then renames it over `path`.
pub(crate) fn temp_beside(path: &Path) -> io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(".ciux-tmp-")
        .tempfile_in(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_new_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/file.sh");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let err = write_new(&path, b"three").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file left behind");
    }
}
