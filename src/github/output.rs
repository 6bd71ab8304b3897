//! Runner file commands (`$GITHUB_OUTPUT`, `$GITHUB_ENV`): always the heredoc
//! form `NAME<<DELIM`, value, `DELIM`, with a delimiter that does not occur in
//! the value, so no value (a branch name with a newline, say) can end early
//! and set another name.

use std::io::Write;

use super::GithubError;
use crate::plan::{Plan, matrix_of_wave};

/// `true` when the project image must be built, else `false`.
pub(crate) const OUTPUT_BUILD: &str = "ciux_build";
/// The project image to test: the existing one, or the one to build.
pub(crate) const OUTPUT_IMAGE_URL: &str = "ciux_image_url";
/// The image name with HEAD's version, pushed once CI passes.
pub(crate) const OUTPUT_PROMOTED_IMAGE_URL: &str = "ciux_promoted_image_url";
/// `CIUX_IMAGE_INPUTS`: fingerprint of the build inputs (`io.ciux.inputs`), empty when not computed.
pub(crate) const OUTPUT_IMAGE_INPUTS: &str = "ciux_image_inputs";
/// `CIUX_IMAGE_DIGEST`: manifest digest of the image found, empty when it is to be built.
pub(crate) const OUTPUT_IMAGE_DIGEST: &str = "ciux_image_digest";
/// The env file `ignite` wrote (`.ciux.d/ciux[_SELECTOR].sh`), empty when it wrote none.
pub(crate) const OUTPUT_ENV_FILE: &str = "env_file";
/// The whole plan, compact JSON (schema 1).
pub(crate) const OUTPUT_PLAN: &str = "plan";
/// Number of waves; `wave_0` ... `wave_{waves-1}` are set.
pub(crate) const OUTPUT_WAVES: &str = "waves";
/// Prefix of the per-wave matrices `wave_0`, `wave_1`...
const OUTPUT_WAVE_PREFIX: &str = "wave_";

/// The outputs of a plan, in a stable order: `ciux_build`, `ciux_image_url`,
/// `ciux_promoted_image_url` (given by the caller, who knows HEAD's version),
/// `plan`, `waves`, then one `wave_N` matrix per wave.
pub(crate) fn plan_outputs(plan: &Plan, promoted_image_url: Option<&str>) -> Vec<(String, String)> {
    let project = plan.project_step();
    let mut outputs = vec![
        (
            OUTPUT_BUILD.to_string(),
            project.is_some_and(|p| p.build).to_string(),
        ),
        (
            OUTPUT_IMAGE_URL.to_string(),
            project
                .and_then(|p| p.image_url.clone())
                .unwrap_or_default(),
        ),
        (
            OUTPUT_PROMOTED_IMAGE_URL.to_string(),
            promoted_image_url.unwrap_or_default().to_string(),
        ),
        (OUTPUT_PLAN.to_string(), plan.to_compact_json()),
        (OUTPUT_WAVES.to_string(), plan.waves.len().to_string()),
    ];
    for wave in 0..plan.waves.len() {
        outputs.push((
            format!("{OUTPUT_WAVE_PREFIX}{wave}"),
            matrix_of_wave(plan, wave),
        ));
    }
    outputs
}

/// Write one `NAME<<DELIM` entry. Names are ours, but are checked anyway: a
/// name with `=`, `<<` or a newline would change how the runner splits lines.
pub(crate) fn write_file_command(
    out: &mut impl Write,
    name: &str,
    value: &str,
) -> Result<(), GithubError> {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !plain {
        return Err(GithubError::BadName {
            name: name.to_string(),
        });
    }
    let delimiter = delimiter_for(value);
    write!(out, "{name}<<{delimiter}\n{value}\n{delimiter}\n").map_err(|source| {
        GithubError::Write {
            name: name.to_string(),
            source,
        }
    })
}

/// Write every `(name, value)` pair.
pub(crate) fn write_file_commands(
    out: &mut impl Write,
    pairs: &[(String, String)],
) -> Result<(), GithubError> {
    pairs
        .iter()
        .try_for_each(|(n, v)| write_file_command(out, n, v))
}

/// The first of `CIUX_EOF`, `CIUX_EOF_1`, ... that is not a substring of `value`.
/// Deterministic (so outputs are reproducible) and safe: the runner ends a value
/// only at a line equal to the delimiter, which needs the delimiter in the value.
fn delimiter_for(value: &str) -> String {
    let mut delimiter = "CIUX_EOF".to_string();
    let mut n = 0usize;
    while value.contains(&delimiter) {
        n += 1;
        delimiter = format!("CIUX_EOF_{n}");
    }
    delimiter
}
