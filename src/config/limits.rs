//! Bounds on what a configuration file may be before any parser sees it.
//!
//! A configuration is read by every command, the pre-push hook included, and
//! may come from a stranger's pull request. The YAML parser's cost grows with
//! the square of the nesting depth (a 300 KB file of nested brackets took
//! minutes of CPU), and reading a symbolic link to `/dev/zero` or a FIFO never
//! ends. So the file must be a regular file (or a symbolic link to one inside
//! the repository), at most [`MAX_BYTES`] long, nested at most [`MAX_DEPTH`]
//! levels; real configurations are a few KB deep of 4.

use std::io::Read;
use std::path::Path;

use super::error::{ConfigError, Position, position_of};

/// Largest configuration file read (1 MiB; real ones are a few KB).
pub(crate) const MAX_BYTES: u64 = 1 << 20;
/// Deepest nesting accepted (tables, sequences, inline/flow collections and
/// dotted keys together); the schema itself needs 4.
pub(crate) const MAX_DEPTH: usize = 32;

/// Read `path` if it exists: a regular file, or a symbolic link to one inside
/// `root`, of at most [`MAX_BYTES`]. A dangling link is an error, not "no file".
pub(crate) fn read_config_file(path: &Path, root: &Path) -> Result<Option<String>, ConfigError> {
    let read_error = |source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    };
    let not_a_file = |what: String| ConfigError::NotAFile {
        path: path.to_path_buf(),
        what,
    };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(read_error(err)),
    };
    let meta = if meta.file_type().is_symlink() {
        let target = std::fs::canonicalize(path)
            .map_err(|_| not_a_file("a symbolic link to nothing (dangling)".into()))?;
        let inside = std::fs::canonicalize(root).is_ok_and(|root| target.starts_with(root));
        if !inside {
            return Err(not_a_file(format!(
                "a symbolic link to {}, outside the repository",
                target.display()
            )));
        }
        std::fs::metadata(&target).map_err(read_error)?
    } else {
        meta
    };
    if !meta.is_file() {
        return Err(not_a_file(kind_of(&meta.file_type()).into()));
    }
    if meta.len() > MAX_BYTES {
        return Err(too_large(path, meta.len()));
    }
    // The length may change between the check and the read: read one byte more
    // than allowed at most.
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(too_large(path, bytes.len() as u64));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|e| read_error(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

fn kind_of(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

fn too_large(path: &Path, len: u64) -> ConfigError {
    ConfigError::Invalid {
        path: path.to_path_buf(),
        position: Position { line: 1, column: 1 },
        key: "(document)".into(),
        message: format!("the file is {len} bytes; a configuration is at most {MAX_BYTES} bytes"),
    }
}

/// Refuse text longer than [`MAX_BYTES`] or nested deeper than [`MAX_DEPTH`],
/// naming the line where the limit is crossed. `yaml` selects the syntax.
pub(crate) fn check_text(text: &str, path: &Path, yaml: bool) -> Result<(), ConfigError> {
    if text.len() as u64 > MAX_BYTES {
        return Err(too_large(path, text.len() as u64));
    }
    let deep = if yaml {
        yaml_too_deep(text)
    } else {
        toml_too_deep(text)
    };
    match deep {
        None => Ok(()),
        Some(offset) => Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            position: position_of(text, offset),
            key: "(document)".into(),
            message: format!("nested more than {MAX_DEPTH} levels deep"),
        }),
    }
}

/// Tracks quotes and flow brackets through a line; returns the byte offset
/// (in the line) where `base + flow depth` first exceeds the limit.
struct Flow {
    depth: usize,
}

impl Flow {
    fn scan(&mut self, line: &str, base: usize, yaml: bool) -> Option<usize> {
        let mut quote: Option<char> = None;
        let mut escaped = false;
        let mut previous = ' ';
        for (i, c) in line.char_indices() {
            match quote {
                Some(q) => {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' && q == '"' {
                        escaped = true;
                    } else if c == q {
                        quote = None;
                    }
                }
                None => match c {
                    '"' | '\'' => quote = Some(c),
                    '#' if !yaml || previous.is_whitespace() => return None,
                    '[' | '{' => {
                        self.depth += 1;
                        if base + self.depth > MAX_DEPTH {
                            return Some(i);
                        }
                    }
                    ']' | '}' => self.depth = self.depth.saturating_sub(1),
                    _ => {}
                },
            }
            previous = c;
        }
        None
    }
}

/// The offset of the first place where `text` nests deeper than
/// [`MAX_DEPTH`]. `block` gives the depth each line opens before any flow
/// collection on it (its third argument says whether the line starts inside
/// one), or `None` for a line to pass over; flow brackets are counted here.
fn first_too_deep(
    text: &str,
    yaml: bool,
    mut block: impl FnMut(&str, &str, bool) -> Option<usize>,
) -> Option<usize> {
    let mut flow = Flow { depth: 0 };
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim_start();
        let Some(depth) = block(line, trimmed, flow.depth > 0) else {
            continue;
        };
        if depth > MAX_DEPTH {
            return Some(start + (line.len() - trimmed.len()));
        }
        if let Some(i) = flow.scan(line, depth, yaml) {
            return Some(start + i);
        }
    }
    None
}

fn yaml_too_deep(text: &str) -> Option<usize> {
    let mut indents: Vec<usize> = Vec::new();
    first_too_deep(text, true, |line, trimmed, in_flow| {
        if trimmed.trim().is_empty() || trimmed.starts_with('#') {
            return None;
        }
        if in_flow {
            return Some(indents.len());
        }
        let indent = line.len() - trimmed.len();
        while indents.last().is_some_and(|&i| i >= indent) {
            indents.pop();
        }
        indents.push(indent);
        // `- - - x` opens one sequence per dash on the same line.
        let mut rest = trimmed;
        let mut dashes = 0;
        while let Some(after) = rest.strip_prefix('-') {
            if !(after.is_empty() || after.starts_with(char::is_whitespace)) {
                break;
            }
            dashes += 1;
            rest = after.trim_start();
        }
        Some(indents.len() + dashes)
    })
}

fn toml_too_deep(text: &str) -> Option<usize> {
    first_too_deep(text, false, |_, trimmed, in_flow| {
        if in_flow {
            return Some(0);
        }
        // Dotted keys (`a.b.c = 1`, `[a.b.c]`) nest tables too.
        let key_part = match trimmed.find('=') {
            Some(eq) if !trimmed.starts_with('[') => &trimmed[..eq],
            _ if trimmed.starts_with('[') => trimmed.split(']').next().unwrap_or(""),
            _ => "",
        };
        Some(key_part.matches('.').count())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_error(text: &str, yaml: bool) -> Option<String> {
        check_text(text, Path::new("f"), yaml)
            .err()
            .map(|e| e.to_string())
    }

    #[test]
    fn real_configurations_pass() {
        for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/reference"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "yaml" || e == "yml")
                || path.file_name().is_some_and(|n| n == ".ciux")
            {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                assert_eq!(depth_error(&text, true), None, "{}", path.display());
            }
        }
        let toml =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ciux.example.toml"))
                .unwrap();
        assert_eq!(depth_error(&toml, false), None);
        assert_eq!(
            depth_error("a:\n  - b: [1, {c: \"[[[[\"}]\n", true),
            None,
            "brackets in quotes do not count"
        );
    }

    #[test]
    fn deep_nesting_is_refused_at_its_line() {
        let flow = format!("project: x\ndependencies: {}", "[".repeat(40));
        assert_eq!(
            depth_error(&flow, true).as_deref(),
            Some("f:2:46: (document): nested more than 32 levels deep")
        );
        let block: String = (0..40).map(|i| format!("{}a:\n", "  ".repeat(i))).collect();
        assert!(depth_error(&block, true).unwrap().starts_with("f:33:"));
        let dashes = format!("x:\n{}1\n", "- ".repeat(40));
        assert!(depth_error(&dashes, true).unwrap().starts_with("f:2:"));
        let inline = format!("a = {}", "[".repeat(40));
        assert!(depth_error(&inline, false).unwrap().starts_with("f:1:"));
        let dotted = format!("{} = 1", vec!["a"; 40].join("."));
        assert!(depth_error(&dotted, false).unwrap().starts_with("f:1:1"));
        assert!(depth_error(&format!("a = \"{}\"", "[".repeat(40)), false).is_none());
    }
}
