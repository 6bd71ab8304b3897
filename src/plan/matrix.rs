//! The plan as GitHub Actions matrices: one `{"include":[...]}` object per
//! wave, so a workflow can run a deploy job per wave with
//! `strategy.matrix: ${{ fromJSON(needs.plan.outputs.wave_0) }}`. Each entry is
//! the component object of the JSON schema (`matrix.name`, `matrix.version`,
//! `matrix.deploy_command`...).

use std::io::{self, Write};

use serde::Serialize;

use super::{Plan, Step};

#[derive(Serialize)]
struct Matrix<'a> {
    include: Vec<&'a Step>,
}

/// The matrix of one wave as compact JSON (`{"include":[]}` past the last wave).
pub(crate) fn matrix_of_wave(plan: &Plan, wave: usize) -> String {
    let matrix = Matrix {
        include: plan.wave(wave).collect(),
    };
    // Plain strings, numbers and booleans always serialize.
    serde_json::to_string(&matrix).unwrap_or_default()
}

/// One line per wave, in order.
pub(crate) fn render_matrix(plan: &Plan, out: &mut impl Write) -> io::Result<()> {
    for wave in 0..plan.waves.len() {
        writeln!(out, "{}", matrix_of_wave(plan, wave))?;
    }
    Ok(())
}
