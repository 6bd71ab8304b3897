//! Plans of hand-built graphs, and snapshots of every output format.

use super::*;

/// A component of kind `git` with only a name.
fn git(name: &str) -> Component {
    Component {
        name: name.into(),
        ..Component::default()
    }
}

fn graph(project: &str, names: &[&str], edges: &[(&str, &str)]) -> Graph {
    Graph {
        project: project.into(),
        components: names.iter().map(|n| git(n)).collect(),
        edges: edges
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
    }
}

fn waves_of(g: Graph) -> Vec<Vec<String>> {
    Plan::new(g).unwrap().waves
}

/// A stack like an alert broker's: the project, a simulator it deploys with, a
/// base image and a tool, with a diamond (app and simulator both need ktbx).
pub(crate) fn sample() -> Plan {
    let project = Component {
        name: "fink-broker".into(),
        details: Details {
            kind: Kind::Git,
            version: Some("v3.1.2-rc1-40-g75a25ee".into()),
            branch: Some("feature-x".into()),
            reason: Some("checked-out branch".into()),
            dir: Some("/ci/fink-broker".into()),
            path: Some(".".into()),
            image_url: Some("registry.example.org/astro/fink-broker:v3.1.2-rc1-40-g75a25ee".into()),
            digest: None,
            build: true,
            pull: false,
            missing: false,
            build_reason: Some("no image for source of 75a25ee".into()),
            build_command: Some("./build.sh".into()),
            deploy_command: Some("./e2e/deploy.sh".into()),
        },
    };
    let simulator = Component {
        name: "fink-alert-simulator".into(),
        details: Details {
            kind: Kind::Git,
            version: Some("v1.0.0".into()),
            branch: Some("main".into()),
            reason: Some("branch feature-x absent on remote".into()),
            dir: Some("/ci/fink-alert-simulator".into()),
            path: Some("../fink-alert-simulator".into()),
            image_url: Some("registry.example.org/astro/fink-alert-simulator:v1.0.0".into()),
            digest: Some(
                "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into(),
            ),
            build: false,
            pull: false,
            missing: false,
            build_reason: Some("image found in registry".into()),
            build_command: None,
            deploy_command: Some("./deploy.sh".into()),
        },
    };
    let spark = Component {
        name: "spark-py".into(),
        details: Details {
            kind: Kind::Image,
            version: Some("k8s-3.4.1".into()),
            image_url: Some("registry.example.org/astro/fink/spark-py:k8s-3.4.1".into()),
            ..Details::default()
        },
    };
    let ktbx = Component {
        name: "ktbx".into(),
        details: Details {
            kind: Kind::Package,
            version: Some("v1.1.1-rc7".into()),
            ..Details::default()
        },
    };
    let g = Graph {
        project: "fink-broker".into(),
        components: vec![project, simulator, spark, ktbx],
        edges: [
            ("fink-broker", "fink-alert-simulator"),
            ("fink-broker", "spark-py"),
            ("fink-broker", "ktbx"),
            ("fink-alert-simulator", "ktbx"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect(),
    };
    Plan::new(g).unwrap()
}

/// Names from git that try to break out of every format.
pub(crate) fn hostile() -> Plan {
    let evil = Component {
        name: "evil\"]; click n0 call alert(1) %%".into(),
        details: Details {
            version: Some("v1|<img src=x onerror=alert(1)>\n```\n# hi".into()),
            branch: Some("x\ny=1\nEOF\n::set-env name=A::b".into()),
            build: true,
            build_reason: Some("a | b\r\n<script>".into()),
            ..Details::default()
        },
    };
    Plan::new(Graph {
        project: evil.name.clone(),
        components: vec![evil, git("lib\\\"}")],
        edges: vec![(
            "evil\"]; click n0 call alert(1) %%".into(),
            "lib\\\"}".into(),
        )],
    })
    .unwrap()
}

fn render(f: impl Fn(&Plan, &mut Vec<u8>) -> std::io::Result<()>, plan: &Plan) -> String {
    let mut out = Vec::new();
    f(plan, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn chain_gives_one_wave_per_link() {
    let g = graph("a", &["a", "b", "c"], &[("a", "b"), ("b", "c")]);
    assert_eq!(waves_of(g), [["c"], ["b"], ["a"]]);
}

#[test]
fn diamond_puts_both_sides_in_one_wave_sorted_by_name() {
    let g = graph(
        "top",
        &["top", "right", "left", "bottom"],
        &[
            ("top", "right"),
            ("top", "left"),
            ("right", "bottom"),
            ("left", "bottom"),
        ],
    );
    let plan = Plan::new(g).unwrap();
    assert_eq!(
        plan.waves,
        vec![vec!["bottom"], vec!["left", "right"], vec!["top"]]
    );
    let order: Vec<(&str, usize)> = plan
        .components
        .iter()
        .map(|s| (s.name.as_str(), s.wave))
        .collect();
    assert_eq!(
        order,
        [("bottom", 0), ("left", 1), ("right", 1), ("top", 2)]
    );
    assert_eq!(plan.components[3].depends_on, ["left", "right"]);
}

#[test]
fn wave_is_one_more_than_latest_dependency() {
    // d depends on a (wave 0) and c (wave 2): it must wait for c.
    let g = graph(
        "d",
        &["a", "b", "c", "d"],
        &[("b", "a"), ("c", "b"), ("d", "a"), ("d", "c")],
    );
    assert_eq!(waves_of(g), [vec!["a"], vec!["b"], vec!["c"], vec!["d"]]);
}

#[test]
fn independent_nodes_share_wave_zero_and_duplicate_edges_count_once() {
    let g = graph("z", &["z", "y", "x"], &[("z", "y"), ("z", "y")]);
    assert_eq!(waves_of(g), [vec!["x", "y"], vec!["z"]]);
}

#[test]
fn every_component_comes_after_its_dependencies() {
    let plan = sample();
    for step in &plan.components {
        for dep in &step.depends_on {
            let dep_wave = plan
                .components
                .iter()
                .find(|s| &s.name == dep)
                .unwrap()
                .wave;
            assert!(dep_wave < step.wave, "{dep} before {}", step.name);
        }
    }
    assert_eq!(plan.project_step().unwrap().wave, 2);
}

#[test]
fn cycle_reports_the_whole_path() {
    let g = graph(
        "a",
        &["a", "b", "c", "d"],
        &[("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")],
    );
    let err = Plan::new(g).unwrap_err();
    assert_eq!(err.to_string(), "dependency cycle: a -> b -> c -> a");
}

#[test]
fn cycle_behind_an_acyclic_prefix_is_found() {
    // "a" is not on the cycle but depends on it: the path starts at the cycle.
    let g = graph(
        "a",
        &["a", "m", "n", "leaf"],
        &[("a", "m"), ("m", "n"), ("n", "m"), ("n", "leaf")],
    );
    assert_eq!(
        Plan::new(g).unwrap_err(),
        PlanError::Cycle {
            path: vec!["m".into(), "n".into(), "m".into()]
        }
    );
}

#[test]
fn self_dependency_is_a_cycle() {
    let g = graph("a", &["a"], &[("a", "a")]);
    assert_eq!(
        Plan::new(g).unwrap_err().to_string(),
        "dependency cycle: a -> a"
    );
}

#[test]
fn bad_graphs_are_errors() {
    let dup = graph("a", &["a", "a"], &[]);
    assert_eq!(
        Plan::new(dup).unwrap_err(),
        PlanError::Duplicate { name: "a".into() }
    );
    let unknown = graph("a", &["a"], &[("a", "ghost")]);
    assert!(matches!(
        Plan::new(unknown).unwrap_err(),
        PlanError::UnknownComponent { .. }
    ));
    let unknown_from = graph("a", &["a"], &[("ghost", "a")]);
    assert!(matches!(
        Plan::new(unknown_from).unwrap_err(),
        PlanError::UnknownComponent { .. }
    ));
    let no_project = graph("p", &["a"], &[]);
    assert_eq!(
        Plan::new(no_project).unwrap_err(),
        PlanError::NoProject { name: "p".into() }
    );
}

#[test]
fn json_round_trips_and_carries_the_schema_version() {
    let plan = sample();
    let json = render(|p, o| p.write_json(o), &plan);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["schema"], 1);
    assert_eq!(serde_json::from_str::<Plan>(&json).unwrap(), plan);
    assert_eq!(
        serde_json::from_str::<Plan>(&plan.to_compact_json()).unwrap(),
        plan
    );
    assert!(!plan.to_compact_json().contains('\n'));
}

#[test]
fn matrix_lines_are_include_objects_per_wave() {
    let plan = sample();
    let text = render(render_matrix, &plan);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    for (wave, line) in lines.iter().enumerate() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        let names: Vec<&str> = value["include"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, plan.waves[wave]);
    }
    assert_eq!(matrix_of_wave(&plan, 3), r#"{"include":[]}"#);
}

#[test]
fn snapshot_text() {
    insta::assert_snapshot!(render(render_text, &sample()));
}

#[test]
fn snapshot_json() {
    insta::assert_snapshot!(render(|p, o| p.write_json(o), &sample()));
}

#[test]
fn snapshot_matrix() {
    insta::assert_snapshot!(render(render_matrix, &sample()));
}

#[test]
fn snapshot_mermaid() {
    insta::assert_snapshot!(render(render_mermaid, &sample()));
}

#[test]
fn snapshot_dot() {
    insta::assert_snapshot!(render(render_dot, &sample()));
}

#[test]
fn hostile_names_stay_inside_their_labels() {
    let plan = hostile();
    let mermaid = render(render_mermaid, &plan);
    // Each node is one line; no quote, bracket, angle bracket or backtick leaks.
    let nodes: Vec<&str> = mermaid.lines().filter(|l| l.starts_with("    n")).collect();
    assert_eq!(nodes.len(), 2, "{mermaid}");
    for line in nodes {
        let (_, rest) = line.split_once("[\"").unwrap();
        let inner = rest.strip_suffix("\"]").unwrap().replace("<br/>", "");
        assert!(
            !inner.contains(['"', '[', ']', '{', '}', '<', '>', '`', '|', '%', '\\']),
            "{line}"
        );
    }
    assert!(!mermaid.contains("```"));
    assert!(!mermaid.contains("<img"));
    assert_eq!(mermaid.lines().filter(|l| l.contains("-->")).count(), 1);

    let dot = render(render_dot, &plan);
    assert!(dot.contains(r#"label="evil\"]; click n0 call alert(1) %%\nv1|<img src=x onerror=alert(1)> ``` # hi\nbuild""#), "{dot}");
    assert!(dot.contains(r#"label="lib\\\"}\nskip""#), "{dot}");
    assert_eq!(dot.lines().filter(|l| l.contains("->")).count(), 1);

    let text = render(render_text, &plan);
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(text.contains(r"x\ny=1\nEOF"));
}

#[test]
fn snapshot_hostile_mermaid() {
    insta::assert_snapshot!(render(render_mermaid, &hostile()));
}

/// docs/plan-schema.md documents exactly the fields we write, and its example
/// is a valid plan.
#[test]
fn schema_doc_matches_the_serialized_fields() {
    let doc = include_str!("../../docs/plan-schema.md");
    let documented = |section: &str| -> Vec<String> {
        let start = doc.find(section).unwrap();
        doc[start..]
            .lines()
            .skip_while(|l| !l.starts_with("| `"))
            .take_while(|l| l.starts_with("| `"))
            .map(|l| l.split('`').nth(1).unwrap().to_string())
            .collect()
    };
    let value = serde_json::to_value(sample()).unwrap();
    let keys =
        |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(sorted(documented("## Top level")), keys(&value));
    assert_eq!(
        sorted(documented("## Component")),
        keys(&value["components"][0])
    );
    let example = doc
        .split("```json")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let plan: Plan = serde_json::from_str(example).unwrap();
    assert_eq!(plan.schema, SCHEMA_VERSION);
    assert_eq!(plan.waves, [["lib"], ["app"]]);
}

/// The reason tables of docs/plan-schema.md hold exactly the strings the code
/// writes: every `BranchReason`, and every build reason a plan can carry.
#[test]
fn schema_doc_lists_the_real_reasons() {
    use crate::git::remote::BranchReason;
    use crate::image::Reason;
    let doc = include_str!("../../docs/plan-schema.md");
    let table = |header: &str| -> Vec<String> {
        let start = doc.find(header).unwrap();
        doc[start..]
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with("| `"))
            .map(|l| l.split('`').nth(1).unwrap().to_string())
            .collect()
    };
    let all = [
        BranchReason::Option,
        BranchReason::CheckedOut,
        BranchReason::GithubHeadRef,
        BranchReason::GithubRefName,
        BranchReason::Detached,
        BranchReason::SameBranch,
        BranchReason::FallbackMain,
        BranchReason::FallbackMaster,
    ];
    // A new variant fails to compile here: add it to `all` and to the doc.
    for reason in &all {
        match reason {
            BranchReason::Option
            | BranchReason::CheckedOut
            | BranchReason::GithubHeadRef
            | BranchReason::GithubRefName
            | BranchReason::Detached
            | BranchReason::SameBranch
            | BranchReason::FallbackMain
            | BranchReason::FallbackMaster => {}
        }
    }
    let real: Vec<String> = all.iter().map(ToString::to_string).collect();
    assert_eq!(table("| `reason` | when |"), real);

    // Build reasons: the image decision's, rendered with placeholders, and the
    // plan's own for an unchecked image (`NotChecked` and `RegistryFailed`
    // never reach a plan: they are unchecked).
    let commit = "<commit>";
    let build = [
        Reason::DirtySources.to_string(),
        super::workspace::UNCHECKED.to_string(),
        Reason::Found {
            tag: "<tag>".into(),
            commit: commit.into(),
        }
        .to_string(),
        Reason::NotFound { window: 7 }
            .to_string()
            .replace('7', "<n>"),
        Reason::InputsChanged {
            tag: "<tag>".into(),
            label: Some("<label>".into()),
        }
        .to_string(),
    ];
    assert_eq!(table("| `build_reason` | build |"), build);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Up to 12 nodes `n00`..; edges as index pairs, made acyclic on demand by
    /// keeping only edges from a higher to a lower index.
    fn graph_strategy(acyclic: bool) -> impl Strategy<Value = Graph> {
        (1usize..12)
            .prop_flat_map(|n| (Just(n), proptest::collection::vec((0..n, 0..n), 0..30)))
            .prop_map(move |(n, pairs)| {
                let name = |i: usize| format!("n{i:02}");
                let edges = pairs
                    .into_iter()
                    .filter(|(a, b)| !acyclic || a > b)
                    .map(|(a, b)| (name(a), name(b)))
                    .collect();
                Graph {
                    project: name(0),
                    components: (0..n).rev().map(|i| git(&name(i))).collect(),
                    edges,
                }
            })
    }

    proptest! {
        #[test]
        fn acyclic_graphs_give_minimal_sorted_waves(g in graph_strategy(true)) {
            let edges = g.edges.clone();
            let count = g.components.len();
            let plan = Plan::new(g).unwrap();
            prop_assert_eq!(plan.components.len(), count);
            let wave_of = |n: &str| plan.components.iter().find(|s| s.name == n).unwrap().wave;
            for step in &plan.components {
                // One more than the latest dependency, 0 without any.
                let expected = step.depends_on.iter().map(|d| wave_of(d) + 1).max().unwrap_or(0);
                prop_assert_eq!(step.wave, expected);
            }
            for (from, to) in &edges {
                prop_assert!(wave_of(to) < wave_of(from));
            }
            for names in &plan.waves {
                prop_assert!(names.windows(2).all(|w| w[0] < w[1]));
            }
            let order: Vec<&str> = plan.components.iter().map(|s| s.name.as_str()).collect();
            let flat: Vec<&str> = plan.waves.iter().flatten().map(String::as_str).collect();
            prop_assert_eq!(order, flat);
        }

        #[test]
        fn a_reported_cycle_is_a_real_cycle(g in graph_strategy(false)) {
            let edges: BTreeSet<(String, String)> = g.edges.iter().cloned().collect();
            match Plan::new(g) {
                Ok(plan) => {
                    for (from, to) in &edges {
                        let wave_of = |n: &str| plan.components.iter().find(|s| s.name == n).unwrap().wave;
                        prop_assert!(wave_of(to) < wave_of(from));
                    }
                }
                Err(PlanError::Cycle { path }) => {
                    prop_assert!(path.len() >= 2);
                    prop_assert_eq!(path.first(), path.last());
                    for pair in path.windows(2) {
                        prop_assert!(edges.contains(&(pair[0].clone(), pair[1].clone())), "{:?}", path);
                    }
                    let inner: BTreeSet<&String> = path[..path.len() - 1].iter().collect();
                    prop_assert_eq!(inner.len(), path.len() - 1, "no node twice: {:?}", path);
                }
                Err(other) => prop_assert!(false, "{other}"),
            }
        }
    }
}
