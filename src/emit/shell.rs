//! `export NAME='value'` for shells, and `NAME="value"` dotenv files.
//!
//! Shell values are always single-quoted: inside single quotes bash interprets
//! nothing at all, so the only character to handle is `'` itself, written as
//! `'\''` (close, escaped quote, reopen). That holds for every byte but NUL,
//! which no shell variable can hold and which git never puts in a name.

use super::{EmitError, Entry, Env};

/// Quote `value` for a POSIX shell so that it reads back as exactly `value`.
pub(crate) fn quote_sh(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// `text` as one shell word: as is when it holds only characters no shell treats
/// specially (so commands and `export CIUX_BUILD=true` read as written), else
/// quoted by [`quote_sh`].
pub(crate) fn quote_word(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:@+,%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_owned()
    } else {
        quote_sh(text)
    }
}

/// A comment line that stays one line: control characters become spaces.
fn comment_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn check_nul(name: &str, value: &str) -> Result<(), EmitError> {
    if value.contains('\0') {
        return Err(EmitError::Nul {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// The env file that build and test scripts `source`.
pub(crate) fn render_sh(env: &Env) -> Result<Vec<u8>, EmitError> {
    render(env, |name, value| {
        format!("export {name}={}\n", quote_sh(value))
    })
}

/// One line per entry: comments as `# text`, variables as `var` writes them.
fn render(env: &Env, var: impl Fn(&str, &str) -> String) -> Result<Vec<u8>, EmitError> {
    let mut out = String::new();
    for entry in &env.entries {
        match entry {
            Entry::Comment(text) => {
                out.push_str("# ");
                out.push_str(&comment_line(text));
                out.push('\n');
            }
            Entry::Var { name, value } => {
                check_nul(name, value)?;
                out.push_str(&var(name, value));
            }
        }
    }
    Ok(out.into_bytes())
}

/// A dotenv file (Docker Compose's `env_file:`, python-dotenv, direnv's
/// `dotenv`) that a shell may also load with `set -a; . FILE`.
///
/// Each value takes the first form that reads back exactly in both shells and
/// dotenv readers:
/// - `NAME="value"` with only `\\` and `\"` escaped, when the value holds no
///   `$`, backtick or control character (both kinds of reader decode exactly
///   those two escapes alike);
/// - `NAME='value'` when it holds no `'` and no `\\` (both read single quotes
///   literally, across lines too);
/// - otherwise `NAME="value"` with `\\`, `\"`, `\$` and backtick escaped, the
///   escapes of POSIX double quotes: a shell reads the exact value and runs
///   nothing, while dotenv readers keep the backslashes before `$` and backtick.
pub(crate) fn render_dotenv(env: &Env) -> Result<Vec<u8>, EmitError> {
    render(env, |name, value| {
        format!("{name}={}\n", quote_dotenv(value))
    })
}

/// The quoted value of a dotenv line (see [`render_dotenv`]).
pub(crate) fn quote_dotenv(value: &str) -> String {
    let expands = |c: char| c == '$' || c == '`' || c.is_control();
    if !value.chars().any(expands) {
        return double_quoted(value, |c| matches!(c, '\\' | '"'));
    }
    if !value.contains(['\'', '\\']) {
        return format!("'{value}'");
    }
    double_quoted(value, |c| matches!(c, '\\' | '"' | '$' | '`'))
}

fn double_quoted(value: &str, escaped: impl Fn(char) -> bool) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for c in value.chars() {
        if escaped(c) {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
#[path = "../../tests/it/common/shell_load.rs"]
mod shell_load;

#[cfg(test)]
pub(crate) mod tests {
    use super::shell_load::{LOADS, Load, load};
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// Load `text` in bash and dash, every way, and check that exactly `vars`
    /// come back (and, with `exported`, that they are all exported) and that
    /// nothing ran: the directory holds the file alone afterwards.
    pub(crate) fn assert_loads_exactly(text: &[u8], vars: &[(String, String)], exported: bool) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("env file");
        std::fs::write(&file, text).unwrap();
        let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
        let want_values: Vec<Vec<u8>> = vars.iter().map(|(_, v)| v.as_bytes().to_vec()).collect();
        let want_env: BTreeMap<String, Vec<u8>> = vars
            .iter()
            .map(|(n, v)| (n.clone(), v.as_bytes().to_vec()))
            .collect();
        for (shell, how) in LOADS {
            let (changed, values) = load(shell, how, &file, &names, dir.path());
            assert_eq!(values, want_values, "{shell} {how:?}: values");
            if exported || how == Load::AllExport {
                assert_eq!(changed, want_env, "{shell} {how:?}: variables set");
            } else {
                assert!(changed.is_empty(), "{shell} {how:?}: exported {changed:?}");
            }
            let entries: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(
                entries.len(),
                1,
                "{shell} {how:?}: something ran: {entries:?}"
            );
        }
    }

    /// Values a hostile branch, tag or path may hold: shell syntax, quotes,
    /// backslashes, unicode, and commands that would leave a file behind.
    pub(crate) fn hostile_value() -> impl Strategy<Value = String> {
        prop_oneof![
            "[^\0]{0,24}",
            "[a-z `$();'\"\\\\{}|&<>*?~#!=é✓→\n\t\r]{0,24}",
            Just("x`touch${IFS}pwned`".to_owned()),
            Just("x$(touch${IFS}pwned)".to_owned()),
            Just("';touch pwned;'".to_owned()),
            Just("\";touch pwned;\"".to_owned()),
            Just("a\\'$(touch pwned)\\`touch pwned`".to_owned()),
            Just("\\\n$(touch pwned)".to_owned()),
        ]
    }

    fn env_of(values: &[String], comment: String) -> (Env, Vec<(String, String)>) {
        let mut env = Env::default();
        env.comment(comment);
        let vars: Vec<(String, String)> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("V{i}_VERSION"), v.clone()))
            .collect();
        for (name, value) in &vars {
            env.var(name.clone(), value.clone());
        }
        (env, vars)
    }

    #[test]
    fn quoting_literals() {
        assert_eq!(quote_sh(""), "''");
        assert_eq!(quote_sh("it's"), "'it'\\''s'");
        assert_eq!(quote_sh("$(x)`y`"), "'$(x)`y`'");
        assert_eq!(quote_dotenv("feat/a b"), "\"feat/a b\"");
        assert_eq!(quote_dotenv("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quote_dotenv("x`touch${IFS}pwned`"), "'x`touch${IFS}pwned`'");
        assert_eq!(quote_dotenv("it's $HOME"), "\"it's \\$HOME\"");
        assert_eq!(quote_dotenv("a\\`b`"), "\"a\\\\\\`b\\`\"");
    }

    #[test]
    fn nul_is_refused_with_the_name() {
        let mut env = Env::default();
        env.var("A_VERSION", "a\0b");
        let err = render_sh(&env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the value of A_VERSION holds a NUL byte, which no shell variable can hold"
        );
        assert!(render_dotenv(&env).is_err());
    }

    /// The backtick that the dotenv writer once left alone: loading the file
    /// in a shell ran it.
    #[test]
    fn dotenv_backticks_do_not_run() {
        let (env, vars) = env_of(&["x`touch${IFS}pwned`".to_owned()], String::new());
        let text = render_dotenv(&env).unwrap();
        assert_loads_exactly(&text, &vars, false);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Sourcing the sh file in bash and dash sets exactly the values,
        /// exported, and runs nothing.
        #[test]
        fn shells_read_back_the_sh_file_exactly(
            values in proptest::collection::vec(hostile_value(), 1..5),
            comment in "[^\0]{0,20}",
        ) {
            let (env, vars) = env_of(&values, comment);
            let text = render_sh(&env).unwrap();
            assert_loads_exactly(&text, &vars, true);
        }

        /// Loading the dotenv file in bash and dash (`set -a; .`, `.`,
        /// `source`) sets exactly the values and runs nothing.
        #[test]
        fn shells_read_back_the_dotenv_file_exactly(
            values in proptest::collection::vec(hostile_value(), 1..5),
            comment in "[^\0]{0,20}",
        ) {
            let (env, vars) = env_of(&values, comment);
            let text = render_dotenv(&env).unwrap();
            assert_loads_exactly(&text, &vars, false);
        }
    }
}
