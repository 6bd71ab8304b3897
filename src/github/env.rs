//! An env as GitHub Actions `$GITHUB_ENV` and `$GITHUB_OUTPUT` entries
//! (`ciux ignite --format github`), and the runner's reader of those files.
//!
//! Every variable uses the multi-line form `NAME<<DELIMITER`, value lines, then
//! a line holding exactly the delimiter, written by [`super::write_file_command`]:
//! the delimiter never occurs in the value, so no value can end itself early
//! and inject another variable (such as `PATH` or `LD_PRELOAD`).

use std::path::PathBuf;

use super::{ENV_ENV, ENV_OUTPUT, GithubError};
use crate::emit::{EmitError, Env};

/// The variables of `env` in the multi-line form (comments are dropped: the
/// runner's format has none).
pub(crate) fn render_github(env: &Env) -> Result<Vec<u8>, AppendEnvError> {
    let mut out = Vec::new();
    for (name, value) in env.vars() {
        if value.contains('\0') {
            return Err(EmitError::Nul {
                name: name.to_owned(),
            }
            .into());
        }
        super::write_file_command(&mut out, name, value)?;
    }
    Ok(out)
}

/// Why `--format github` wrote nothing.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AppendEnvError {
    #[error(transparent)]
    Emit(#[from] EmitError),
    /// Outside a GitHub Actions step: bad usage.
    #[error("--format github needs ${var}: it is set in GitHub Actions steps")]
    Unset { var: &'static str },
    #[error(transparent)]
    Append(#[from] GithubError),
}

/// Append the variables of `env` to `$GITHUB_ENV` and `$GITHUB_OUTPUT` (the
/// runner reads them after the step); returns the files written.
pub(crate) fn append_env(env: &Env) -> Result<Vec<PathBuf>, AppendEnvError> {
    let bytes = render_github(env)?;
    let mut written = Vec::new();
    for var in [ENV_ENV, ENV_OUTPUT] {
        let Some(path) = std::env::var_os(var)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
        else {
            return Err(AppendEnvError::Unset { var });
        };
        super::append_file(var, &path, &bytes)?;
        written.push(path);
    }
    Ok(written)
}

/// Read a `$GITHUB_ENV`/`$GITHUB_OUTPUT` file the way the Actions runner does on
/// Linux (`NAME=value` lines and `NAME<<DELIMITER` blocks, lines split on `\n`).
/// Returns the pairs in order, or a message like the runner's on a malformed file.
pub fn parse_github_file(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    let mut index = 0;
    while let Some((line, _)) = read_line(text, &mut index) {
        if line.is_empty() {
            continue;
        }
        let equals = line.find('=');
        let heredoc = line.find("<<");
        match (equals, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                pairs.push((line[..e].to_owned(), line[e + 1..].to_owned()));
            }
            (_, Some(h)) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                if name.is_empty() || delimiter.is_empty() {
                    return Err(format!("invalid format {line:?}"));
                }
                let start = index;
                let mut end = index;
                loop {
                    match read_line(text, &mut index) {
                        None => return Err(format!("matching delimiter not found {delimiter:?}")),
                        Some((l, _)) if l == delimiter => break,
                        Some((_, false)) => return Err("EOF marker missing new line".into()),
                        Some((_, true)) => end = index - 1,
                    }
                }
                pairs.push((name.to_owned(), text[start..end.max(start)].to_owned()));
            }
            _ => return Err(format!("invalid format {line:?}")),
        }
    }
    Ok(pairs)
}

/// The next line and whether it ended with `\n`.
fn read_line<'a>(text: &'a str, index: &mut usize) -> Option<(&'a str, bool)> {
    if *index >= text.len() {
        return None;
    }
    let start = *index;
    match text[start..].find('\n') {
        Some(i) => {
            *index = start + i + 1;
            Some((&text[start..start + i], true))
        }
        None => {
            *index = text.len();
            Some((&text[start..], false))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parser_reads_both_forms() {
        let text = "A=1\nB<<EOF\nx\ny\nEOF\n\nC<<EOF\nEOF\n";
        let pairs = parse_github_file(text).unwrap();
        assert_eq!(
            pairs,
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "x\ny".into()),
                ("C".into(), String::new())
            ]
        );
        assert!(parse_github_file("B<<EOF\nx\n").is_err());
    }

    #[test]
    fn a_value_cannot_inject_a_variable() {
        let mut env = Env::default();
        env.var(
            "X_WORKBRANCH",
            "main\nPATH=/tmp/evil\nEOF\nLD_PRELOAD<<EOF\n/tmp/x.so",
        );
        let out = render_github(&env).unwrap();
        let pairs = parse_github_file(std::str::from_utf8(&out).unwrap()).unwrap();
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].0, "X_WORKBRANCH");
    }

    proptest! {
        /// What we write, the runner reads back exactly, one pair per variable.
        #[test]
        fn runner_reads_back_the_exact_values(values in proptest::collection::vec("[^\0]{0,30}", 1..6)) {
            let mut env = Env::default();
            for (i, value) in values.iter().enumerate() {
                env.var(format!("V{i}"), value.clone());
            }
            let out = render_github(&env).unwrap();
            let pairs = parse_github_file(std::str::from_utf8(&out).unwrap()).unwrap();
            let want: Vec<(String, String)> = values.iter().enumerate().map(|(i, v)| (format!("V{i}"), v.clone())).collect();
            prop_assert_eq!(pairs, want);
        }
    }
}
