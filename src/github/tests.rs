//! Outputs are parsed back the way the runner parses `$GITHUB_OUTPUT`; the
//! summary and group helpers are checked against hostile values.

use std::collections::BTreeMap;

use super::*;
use crate::plan::tests::{hostile, sample};

/// The runner's file-command parser, made stricter: lines split on `\n`, and
/// also on `\r\n` or `\r` (the Linux runner splits on `\n` only; a Windows
/// one on `\r\n`), so a delimiter safe here is safe on both. Empty lines skipped, `NAME=VALUE` when `=` comes
/// before any `<<`, else `NAME<<DELIM` then lines up to one equal to `DELIM`.
/// Panics where the runner fails the step.
pub(crate) fn parse_like_runner(text: &str) -> BTreeMap<String, String> {
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut lines = normalized.split('\n');
    let mut values = BTreeMap::new();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        let equals = line.find('=');
        let heredoc = line.find("<<");
        let (name, value) = match (equals, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => (&line[..e], line[e + 1..].to_string()),
            (_, Some(h)) => {
                let delimiter = &line[h + 2..];
                assert!(!delimiter.is_empty(), "empty delimiter");
                let mut body = Vec::new();
                loop {
                    let next = lines
                        .next()
                        .unwrap_or_else(|| panic!("delimiter {delimiter} not found"));
                    if next == delimiter {
                        break;
                    }
                    body.push(next);
                }
                (&line[..h], body.join("\n"))
            }
            _ => panic!("invalid format {line:?}"),
        };
        assert!(!name.is_empty(), "empty name");
        values.insert(name.to_string(), value);
    }
    values
}

fn outputs_file(plan: &crate::plan::Plan, promoted: Option<&str>) -> String {
    let mut out = Vec::new();
    write_file_commands(&mut out, &plan_outputs(plan, promoted)).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn outputs_read_back_as_the_runner_reads_them() {
    let plan = sample();
    let promoted = "registry.example.org/astro/fink-broker:v3.1.2-rc1-40-g75a25ee";
    let parsed = parse_like_runner(&outputs_file(&plan, Some(promoted)));
    let names: Vec<&str> = parsed.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "ciux_build",
            "ciux_image_url",
            "ciux_promoted_image_url",
            "plan",
            "wave_0",
            "wave_1",
            "wave_2",
            "waves"
        ]
    );
    assert_eq!(parsed["ciux_build"], "true");
    assert_eq!(
        parsed["ciux_image_url"],
        plan.project_step().unwrap().image_url.clone().unwrap()
    );
    assert_eq!(parsed["ciux_promoted_image_url"], promoted);
    assert_eq!(parsed["waves"], "3");
    assert_eq!(
        serde_json::from_str::<crate::plan::Plan>(&parsed["plan"]).unwrap(),
        plan
    );
    let wave1: serde_json::Value = serde_json::from_str(&parsed["wave_1"]).unwrap();
    assert_eq!(wave1["include"][0]["name"], "fink-alert-simulator");
    assert_eq!(wave1["include"][0]["deploy_command"], "./deploy.sh");
}

#[test]
fn hostile_values_cannot_end_early_or_set_other_names() {
    for value in [
        "x\nCIUX_EOF\nciux_build<<E\nfalse\nE",
        "CIUX_EOF CIUX_EOF_1\r\nCIUX_EOF_2\rinjected=1",
        "\n\n=<<\n",
        "",
    ] {
        let mut out = Vec::new();
        write_file_command(&mut out, "ciux_image_url", value).unwrap();
        let parsed = parse_like_runner(&String::from_utf8(out).unwrap());
        assert_eq!(parsed.len(), 1, "{value:?} -> {parsed:?}");
        // The strict parser turns `\r\n` and `\r` into line breaks.
        assert_eq!(
            parsed["ciux_image_url"],
            value.replace("\r\n", "\n").replace('\r', "\n")
        );
    }
}

#[test]
fn hostile_plan_outputs_parse_to_the_same_plan() {
    let plan = hostile();
    let parsed = parse_like_runner(&outputs_file(&plan, None));
    assert_eq!(
        serde_json::from_str::<crate::plan::Plan>(&parsed["plan"]).unwrap(),
        plan
    );
    assert_eq!(parsed["ciux_promoted_image_url"], "");
    assert_eq!(parsed.len(), 7);
}

#[test]
fn bad_output_names_are_refused() {
    for name in ["", "a=b", "a<<b", "a\nb", "wave 0"] {
        let mut out = Vec::new();
        assert!(matches!(
            write_file_command(&mut out, name, "v"),
            Err(GithubError::BadName { .. })
        ));
        assert!(out.is_empty());
    }
}

#[test]
fn group_titles_cannot_start_another_command() {
    let mut out = Vec::new();
    let value = grouped(&mut out, true, "deps of x\n::error::pwned 100%", |o| {
        writeln!(o, "line")?;
        Ok(7)
    })
    .unwrap();
    assert_eq!(value, 7);
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text,
        "::group::deps of x%0A::error::pwned 100%25\nline\n::endgroup::\n"
    );
    let mut plain = Vec::new();
    grouped(&mut plain, false, "t", |o| writeln!(o, "line")).unwrap();
    assert_eq!(plain, b"line\n");
}

#[test]
fn summary_snapshot() {
    let mut out = Vec::new();
    write_summary(&sample(), "ciux plan", &mut out).unwrap();
    insta::assert_snapshot!(String::from_utf8(out).unwrap());
}

#[test]
fn hostile_summary_keeps_one_row_per_component_and_no_markup() {
    let mut out = Vec::new();
    write_summary(&hostile(), "ciux plan", &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| ")).collect();
    assert_eq!(rows.len(), 4, "{text}");
    for row in &rows {
        // 9 pipes: the row's own separators, none from values.
        assert_eq!(row.matches('|').count(), 9, "{row}");
    }
    assert!(
        !text.contains("<img") && !text.contains("<script"),
        "{text}"
    );
    assert_eq!(text.matches("```").count(), 2, "only our own fence: {text}");
    assert!(text.contains("&#124;"));
}

#[test]
fn append_file_appends_and_reports_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("output");
    std::fs::write(&path, "earlier=1\n").unwrap();
    append_file(ENV_OUTPUT, &path, b"later=2\n").unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "earlier=1\nlater=2\n"
    );
    let err = append_file(ENV_OUTPUT, &dir.path().join("missing/file"), b"x").unwrap_err();
    assert!(
        err.to_string().contains("missing/file") && err.to_string().contains("GITHUB_OUTPUT"),
        "{err}"
    );
}

proptest::proptest! {
    /// Any value, newlines and would-be delimiters included, reads back whole
    /// and sets nothing else. The parser above also breaks lines at `\r`, so
    /// carriage returns come back as line breaks there.
    #[test]
    fn any_value_round_trips_through_the_runner_parser(
        value in "(CIUX_EOF(_[0-9])?|[a-z=<>]{0,3}|\n|\r| ){0,12}",
    ) {
        let mut out = Vec::new();
        write_file_command(&mut out, "name", &value).unwrap();
        let parsed = parse_like_runner(&String::from_utf8(out).unwrap());
        proptest::prop_assert_eq!(parsed.len(), 1);
        // A trailing `\r` merges with the line break we write after the value.
        let read = format!("{value}\n").replace("\r\n", "\n").replace('\r', "\n");
        proptest::prop_assert_eq!(&parsed["name"], &read[..read.len() - 1]);
    }
}
