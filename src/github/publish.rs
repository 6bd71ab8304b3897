//! What `ignite` and `plan` publish in GitHub Actions: the plan as step
//! summary, and the outputs a later job reads.

use std::path::Path;

use super::{
    ENV_OUTPUT, ENV_STEP_SUMMARY, GithubError, OUTPUT_ENV_FILE, OUTPUT_IMAGE_DIGEST,
    OUTPUT_IMAGE_INPUTS, append_to, plan_outputs, write_file_commands, write_summary,
};
use crate::image::ImageBlock;
use crate::plan::Plan;

/// Append the step summary titled `title` and write the outputs
/// (`ciux_build`, `ciux_image_url`, `ciux_promoted_image_url`, `plan`,
/// `waves`, `wave_N`, then `ciux_image_inputs`, `ciux_image_digest` and, for
/// `ignite`, `env_file`). A runner variable that is not set is skipped with a
/// warning (the command's own work is done); a file that cannot be written is
/// an error.
pub(crate) fn publish(
    plan: &Plan,
    title: &str,
    image: &ImageBlock,
    env_file: Option<&Path>,
) -> Result<(), GithubError> {
    let mut summary = Vec::new();
    write_summary(plan, title, &mut summary).map_err(|source| GithubError::Write {
        name: "step summary".into(),
        source,
    })?;
    let mut pairs = plan_outputs(plan, Some(&image.promoted_url));
    pairs.push((
        OUTPUT_IMAGE_INPUTS.into(),
        image.inputs.clone().unwrap_or_default(),
    ));
    pairs.push((
        OUTPUT_IMAGE_DIGEST.into(),
        image.digest.clone().unwrap_or_default(),
    ));
    if let Some(path) = env_file {
        pairs.push((OUTPUT_ENV_FILE.into(), path.to_string_lossy().into_owned()));
    }
    let mut outputs = Vec::new();
    write_file_commands(&mut outputs, &pairs)?;
    for (var, bytes) in [(ENV_STEP_SUMMARY, summary), (ENV_OUTPUT, outputs)] {
        match append_to(var, &bytes) {
            Err(GithubError::Unset { var }) => tracing::warn!("${var} is not set: skipped"),
            other => other?,
        }
    }
    Ok(())
}
