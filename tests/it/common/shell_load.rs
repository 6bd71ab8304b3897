//! Loading an env file in a real shell, the way CI scripts do, to prove what it
//! defines. Shared by the unit tests of `src/emit/shell.rs` (through `#[path]`)
//! and the hostile-input integration tests, so both prove the same thing.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// How a test loads an env file in a shell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Load {
    AllExport,
    Dot,
    Source,
}

/// Load `file` in `shell`; the exported variables it adds or changes, and the
/// values of `names`. Panics if the shell fails or says anything on stderr.
pub fn load(
    shell: &str,
    how: Load,
    file: &Path,
    names: &[&str],
    cwd: &Path,
) -> (BTreeMap<String, Vec<u8>>, Vec<Vec<u8>>) {
    let command = match how {
        Load::AllExport => "set -a; . \"$1\"; set +a",
        Load::Dot => ". \"$1\"",
        Load::Source => "source \"$1\"",
    };
    let mut script = format!(
        "set -eu; env -0; printf 'CIUX-SPLIT\\0'; {command}; env -0; printf 'CIUX-SPLIT\\0'"
    );
    for name in names {
        script.push_str(&format!("; printf '%s\\0' \"${name}\""));
    }
    let mut cmd = Command::new(shell);
    if shell == "bash" {
        cmd.args(["--noprofile", "--norc"]);
    }
    let out = cmd
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(["-c", &script, shell])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{shell} {how:?} {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut parts = out.stdout.split(|b| *b == 0).map(<[u8]>::to_vec);
    let read_env = |parts: &mut dyn Iterator<Item = Vec<u8>>| {
        let mut env = BTreeMap::new();
        for part in parts {
            if part == b"CIUX-SPLIT" {
                break;
            }
            let eq = part.iter().position(|b| *b == b'=').unwrap_or(part.len());
            let name = String::from_utf8_lossy(&part[..eq]).into_owned();
            env.insert(name, part.get(eq + 1..).unwrap_or_default().to_vec());
        }
        env
    };
    let before = read_env(&mut parts);
    let after = read_env(&mut parts);
    let mut values: Vec<Vec<u8>> = parts.collect();
    values.pop();
    let changed = after
        .into_iter()
        .filter(|(name, value)| {
            !matches!(name.as_str(), "_" | "SHLVL" | "PWD" | "OLDPWD")
                && before.get(name) != Some(value)
        })
        .collect();
    (changed, values)
}

/// Every way to load an env file: bash and dash, `set -a; .`, `.`, `source`.
pub const LOADS: [(&str, Load); 5] = [
    ("bash", Load::AllExport),
    ("bash", Load::Dot),
    ("bash", Load::Source),
    ("dash", Load::AllExport),
    ("dash", Load::Dot),
];
