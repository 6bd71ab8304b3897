//! Text for stderr that no value can turn into something else.
//!
//! Messages carry values from git, configuration and the network (branch
//! names, URLs, a remote's error text). A control character in such a value
//! could rewrite the terminal, and a newline could start a line of its own,
//! which GitHub Actions reads as a workflow command when it starts with `::`
//! (`::error::`, `::add-mask::`, `::stop-commands::`). So:
//!
//! - a value is made one line with [`escape_value`] where it enters a message
//!   (control characters become visible escapes such as `\n`);
//! - every stderr line passes through [`stderr_text`] at the sink: control
//!   characters but the line breaks and tabs are escaped, and under
//!   `GITHUB_ACTIONS=true` a line that would start with `::` (after blanks,
//!   which the runner tolerates) has its first colon percent-escaped as GitHub
//!   documents for command data (`%3A`), so the runner shows it as text.

use std::borrow::Cow;
use std::io::{self, Write};

/// `text` on one line: every control character written as an escape (`\n`,
/// `\r`, `\t`, `\u{1b}`), everything else as is.
pub(crate) fn escape_value(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().collect()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// `text` made safe for stderr, keeping its line breaks: other control
/// characters are escaped, and with `actions` no line starts with `::`.
pub(crate) fn stderr_text(text: &str, actions: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let line: String = line
            .chars()
            .map(|c| {
                if c.is_control() && c != '\t' {
                    c.escape_default().collect()
                } else {
                    c.to_string()
                }
            })
            .collect();
        let blanks = line.len() - line.trim_start().len();
        if actions && line[blanks..].starts_with("::") {
            out.push_str(&line[..blanks]);
            out.push_str("%3A");
            out.push_str(&line[blanks + 1..]);
        } else {
            out.push_str(&line);
        }
    }
    out
}

/// Write `text` and a newline to stderr through [`stderr_text`].
pub(crate) fn eprint_line(text: &str) {
    let safe = stderr_text(text, crate::github::in_actions());
    let _ = writeln!(io::stderr().lock(), "{safe}");
}

/// A stderr writer for log lines: buffers what one event writes and passes it
/// through [`stderr_text`] when dropped (the log subscriber makes one per event).
pub(crate) struct SafeStderr {
    buffer: Vec<u8>,
    actions: bool,
}

impl SafeStderr {
    pub(crate) fn new() -> Self {
        Self {
            buffer: Vec::new(),
            actions: crate::github::in_actions(),
        }
    }
}

impl Default for SafeStderr {
    fn default() -> Self {
        Self::new()
    }
}

impl Write for SafeStderr {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.buffer);
        // A log event ends with its newline; keep it outside the escaping.
        let (body, newline) = match text.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (text.as_ref(), ""),
        };
        let safe = stderr_text(body, self.actions) + newline;
        self.buffer.clear();
        io::stderr().lock().write_all(safe.as_bytes())
    }
}

impl Drop for SafeStderr {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_one_line() {
        assert_eq!(escape_value("main"), "main");
        assert_eq!(
            escape_value("x\n::error title=x::y\r\u{1b}[2J"),
            "x\\n::error title=x::y\\r\\u{1b}[2J"
        );
    }

    #[test]
    fn no_line_starts_a_workflow_command_in_actions() {
        let text = "error: cannot list x\n::error title=x::y\n   ::add-mask::z\r\u{7}";
        let safe = stderr_text(text, true);
        assert_eq!(
            safe,
            "error: cannot list x\n%3A:error title=x::y\n   %3A:add-mask::z\\r\\u{7}"
        );
        for line in safe.lines() {
            assert!(!line.trim_start().starts_with("::"), "{line}");
            assert!(!line.chars().any(char::is_control), "{line:?}");
        }
        assert_eq!(
            stderr_text("::warning::x", false),
            "::warning::x",
            "outside Actions a colon is only a colon"
        );
    }
}
