//! `export NAME='value'` for shells, and `NAME="value"` dotenv files.
//!
//! Shell values are always single-quoted: inside single quotes bash interprets
//! nothing at all, so the only character to handle is `'` itself, written as
//! `'\''` (close, escaped quote, reopen). That holds for every byte but NUL,
//! which no shell variable can hold and which git never puts in a name.

use std::io::Write;

use super::{EmitError, Entry, Env};

/// Quote `value` for a POSIX shell so that it reads back as exactly `value`.
pub fn quote_sh(value: &str) -> String {
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
pub fn quote_word(text: &str) -> String {
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
pub fn write_sh(env: &Env, out: &mut impl Write) -> Result<(), EmitError> {
    for entry in &env.entries {
        match entry {
            Entry::Comment(text) => writeln!(out, "# {}", comment_line(text))?,
            Entry::Var { name, value } => {
                check_nul(name, value)?;
                writeln!(out, "export {name}={}", quote_sh(value))?;
            }
        }
    }
    Ok(())
}

/// A dotenv file (Docker Compose, python-dotenv, direnv's `dotenv`): values
/// double-quoted with `\\`, `\"`, `\n`, `\r`, `\t` and `\$` escaped, the
/// subset of escapes those readers share.
pub fn write_dotenv(env: &Env, out: &mut impl Write) -> Result<(), EmitError> {
    for entry in &env.entries {
        match entry {
            Entry::Comment(text) => writeln!(out, "# {}", comment_line(text))?,
            Entry::Var { name, value } => {
                check_nul(name, value)?;
                let mut quoted = String::with_capacity(value.len() + 2);
                for c in value.chars() {
                    match c {
                        '\\' => quoted.push_str("\\\\"),
                        '"' => quoted.push_str("\\\""),
                        '\n' => quoted.push_str("\\n"),
                        '\r' => quoted.push_str("\\r"),
                        '\t' => quoted.push_str("\\t"),
                        '$' => quoted.push_str("\\$"),
                        c => quoted.push(c),
                    }
                }
                writeln!(out, "{name}=\"{quoted}\"")?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::process::Command;

    /// Source `file` in a fresh bash and print each variable's value, NUL-separated.
    fn source_in_bash(
        file: &std::path::Path,
        names: &[&str],
        cwd: &std::path::Path,
    ) -> Vec<Vec<u8>> {
        let mut script = String::from("set -eu; source \"$1\"");
        for name in names {
            script.push_str(&format!("; printf '%s\\0' \"${name}\""));
        }
        let out = Command::new("bash")
            .current_dir(cwd)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .args(["--noprofile", "--norc", "-c", &script, "bash"])
            .arg(file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "bash failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "bash wrote {:?}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut values: Vec<Vec<u8>> = out.stdout.split(|b| *b == 0).map(<[u8]>::to_vec).collect();
        values.pop();
        values
    }

    #[test]
    fn quoting_literals() {
        assert_eq!(quote_sh(""), "''");
        assert_eq!(quote_sh("it's"), "'it'\\''s'");
        assert_eq!(quote_sh("$(x)`y`"), "'$(x)`y`'");
    }

    #[test]
    fn nul_is_refused_with_the_name() {
        let mut env = Env::default();
        env.var("A_VERSION", "a\0b");
        let err = write_sh(&env, &mut Vec::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the value of A_VERSION holds a NUL byte, which no shell variable can hold"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Sourcing what we write sets exactly the values and runs nothing: a
        /// value that would run `touch pwned` leaves no file behind.
        #[test]
        fn bash_reads_back_the_exact_values(
            values in proptest::collection::vec("[^\0]{0,24}|[^\0]{0,8}[$`'\"\\\\;\n ()|&<>*?~#!{}][^\0]{0,8}|x\\$\\(touch\\$\\{IFS\\}pwned\\)", 1..6),
            comment in "[^\0]{0,20}",
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut env = Env::default();
            env.comment(comment);
            let names: Vec<String> = (0..values.len()).map(|i| format!("V{i}_VERSION")).collect();
            for (name, value) in names.iter().zip(&values) {
                env.var(name.clone(), value.clone());
            }
            let mut text = Vec::new();
            write_sh(&env, &mut text).unwrap();
            let file = dir.path().join("env.sh");
            std::fs::write(&file, &text).unwrap();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let got = source_in_bash(&file, &refs, dir.path());
            let want: Vec<Vec<u8>> = values.iter().map(|v| v.as_bytes().to_vec()).collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "something ran");
        }
    }
}
