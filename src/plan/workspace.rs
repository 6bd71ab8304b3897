//! From the resolved workspace (what `ignite` resolves) to the plan's input.
//!
//! Pure: the workspace, its image decisions (made once, by
//! [`crate::image::decide_workspace`]) and the configuration of each
//! checked-out repository go in; a [`Graph`] comes out. Nothing is resolved
//! or decided here: nodes, edges and images are the workspace's own.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use super::{Graph, Kind};
use crate::config::{Config, Dependency, DependencyKind};
use crate::image::ImageBlock;
use crate::image::{Required, WorkspaceImages};
use crate::workspace::{Checkout, Node, NodeKind, Workspace};

/// The plan's graph of `ws`. `configs` holds the configuration of each
/// repository node read from its checkout, by node name; `images` the image
/// decisions of the workspace.
pub(crate) fn graph_of(
    ws: &Workspace,
    images: &WorkspaceImages,
    configs: &BTreeMap<String, Config>,
) -> Graph {
    let image = &images.project;
    // `deploy = "..."` on a dependency entry, by the node it names; the first
    // declaration in node order wins (the project's own entries come first).
    let mut entry_deploy: BTreeMap<String, &str> = BTreeMap::new();
    for node in &ws.nodes {
        for dep in configs
            .get(&node.name)
            .map(|c| c.dependencies.as_slice())
            .unwrap_or_default()
        {
            if let Some(command) = &dep.deploy {
                entry_deploy.entry(node_name_of(dep)).or_insert(command);
            }
        }
    }
    let project_dir = ws
        .project_node()
        .and_then(|n| n.dir.clone())
        .unwrap_or_default();
    let components = ws
        .nodes
        .iter()
        .map(|node| {
            let config = configs.get(&node.name);
            let mut component = super::Component {
                name: node.name.clone(),
                details: super::Details {
                    kind: match node.kind {
                        NodeKind::Project | NodeKind::Git => Kind::Git,
                        NodeKind::Image => Kind::Image,
                        NodeKind::Package => Kind::Package,
                    },
                    version: node.version.clone(),
                    branch: node.branch.clone(),
                    reason: node.branch_reason.map(|r| r.to_string()),
                    dir: checked_out_dir(node),
                    path: checked_out_dir(node).map(|d| {
                        relative_to(&project_dir, Path::new(&d))
                            .display()
                            .to_string()
                    }),
                    build_command: config.and_then(|c| c.build_command.clone()),
                    deploy_command: entry_deploy
                        .get(&node.name)
                        .map(|c| c.to_string())
                        .or_else(|| config.and_then(|c| c.deploy_command.clone())),
                    ..super::Details::default()
                },
            };
            match node.kind {
                NodeKind::Project => {
                    component.image_url = Some(image.url.clone());
                    component.digest = image.digest.clone();
                    component.build = image.build;
                    component.build_reason = Some(build_reason(image).to_string());
                }
                NodeKind::Image => {
                    let reference = node.image.clone().unwrap_or_else(|| node.name.clone());
                    component.version = image_tag(&reference).map(str::to_string);
                    component.image_url = Some(reference);
                    component.pull = true;
                }
                NodeKind::Package => {
                    component.version = node.package.as_ref().map(|p| p.version.clone());
                }
                NodeKind::Git => {}
            }
            if let Some(required) = images.required_of(&node.name) {
                component.pull = true;
                component.image_url = Some(required.image.clone());
                let (digest, missing, why) = match &required.answer {
                    Required::Present { digest } => (
                        Some(digest.clone()),
                        false,
                        "image found in registry".to_owned(),
                    ),
                    Required::Missing => (None, true, "not in the registry".to_owned()),
                    // The reason is on stderr, as a warning.
                    Required::Unknown { .. } => (None, false, "registry not checked".to_owned()),
                };
                component.digest = digest;
                component.missing = missing;
                component.build_reason = Some(why);
            }
            component
        })
        .collect();
    Graph {
        project: ws.project.clone(),
        components,
        edges: ws
            .edges
            .iter()
            .map(|e| (e.from.clone(), e.to.clone()))
            .collect(),
    }
}

/// The node a dependency entry becomes: the same identity the workspace uses
/// (repository name, image reference, `module@version`).
fn node_name_of(dep: &Dependency) -> String {
    match &dep.kind {
        DependencyKind::Git { url } => dep.repo_name().unwrap_or(url).to_string(),
        DependencyKind::Image { image } => image.clone(),
        DependencyKind::Package { module, version } => format!("{module}@{version}"),
    }
}

/// The directory, when there is a checkout on disk.
fn checked_out_dir(node: &Node) -> Option<String> {
    match node.checkout {
        None | Some(Checkout::RemoteOnly) => None,
        Some(_) => node.dir.as_ref().map(|d| d.to_string_lossy().into_owned()),
    }
}

/// `path` relative to the directory `base`: `.` for `base` itself, `../lib`
/// for a sibling. Lexical (no file system), on absolute paths; a path that
/// shares nothing with `base` comes back as it is.
fn relative_to(base: &Path, path: &Path) -> PathBuf {
    let (base, path): (Vec<_>, Vec<_>) = (base.components().collect(), path.components().collect());
    let common = base.iter().zip(&path).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return path.iter().collect();
    }
    let mut relative: PathBuf = base[common..]
        .iter()
        .map(|_| Component::ParentDir)
        .collect();
    relative.extend(&path[common..]);
    if relative.as_os_str().is_empty() {
        relative.push(".");
    }
    relative
}

/// The build reason of a project image the registry was not asked about.
pub(crate) const UNCHECKED: &str = "registry not checked";

fn build_reason(image: &ImageBlock) -> &str {
    match (image.checked, image.build) {
        (false, _) => UNCHECKED,
        _ => &image.reason,
    }
}

/// The tag of an image reference: after the last `:` that follows the last `/`
/// (`host:5000/a/b:tag` → `tag`); none for a digest reference or no tag.
fn image_tag(reference: &str) -> Option<&str> {
    let name = reference.split('@').next().unwrap_or(reference);
    let last = name.rsplit('/').next().unwrap_or(name);
    last.split_once(':').map(|(_, tag)| tag)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::git::remote::BranchReason;
    use crate::image::RequiredImage;
    use crate::plan::Plan;
    use crate::workspace::{Edge, Package};

    fn node(name: &str, kind: NodeKind, checkout: Option<Checkout>) -> Node {
        Node {
            name: name.into(),
            kind,
            dir: Some(PathBuf::from("/ci").join(name)),
            url: None,
            image: None,
            package: None,
            branch: Some("main".into()),
            branch_reason: Some(BranchReason::FallbackMain),
            remote_commit: None,
            version: Some("v1.0.0".into()),
            version_tag: Some("v1.0.0".into()),
            checkout,
            clone: true,
            pull: false,
            labels: BTreeMap::new(),
            raw_url: None,
            build_input: false,
            deploy: None,
        }
    }

    fn config(text: &str) -> Config {
        Config::from_toml_str(text, Path::new(".ciux.toml")).unwrap()
    }

    fn fixture() -> (Workspace, WorkspaceImages, BTreeMap<String, Config>) {
        let mut project = node("app", NodeKind::Project, Some(Checkout::Project));
        project.branch = Some("feature".into());
        project.branch_reason = Some(BranchReason::CheckedOut);
        project.version = Some("v2.0.0-1-gabcdef0".into());
        let lib = node("lib", NodeKind::Git, Some(Checkout::Cloned));
        let mut remote = node("remote", NodeKind::Git, Some(Checkout::RemoteOnly));
        remote.version = None;
        let mut image = node("host:5000/a/spark:k8s-3.4.1", NodeKind::Image, None);
        image.image = Some(image.name.clone());
        let mut package = node("github.com/x/ktbx@v1.1.1", NodeKind::Package, None);
        package.package = Some(Package {
            module: "github.com/x/ktbx".into(),
            version: "v1.1.1".into(),
        });
        for n in [&mut image, &mut package] {
            (n.dir, n.branch, n.branch_reason, n.version) = (None, None, None, None);
        }
        let edge = |from: &str, to: &str| Edge {
            from: from.into(),
            to: to.into(),
        };
        let ws = Workspace {
            project: "app".into(),
            selector: String::new(),
            nodes: vec![project, lib, remote, image, package],
            edges: vec![
                edge("app", "lib"),
                edge("app", "remote"),
                edge("app", "host:5000/a/spark:k8s-3.4.1"),
                edge("lib", "github.com/x/ktbx@v1.1.1"),
            ],
        };
        let block = ImageBlock {
            registry: "registry.example.org".into(),
            name: "app".into(),
            tag: "v2.0.0-1-gabcdef0".into(),
            url: "registry.example.org/app:v2.0.0-1-gabcdef0".into(),
            build: true,
            promoted_url: "registry.example.org/app:v2.0.0-1-gabcdef0".into(),
            temporary_url: None,
            checked: false,
            digest: None,
            inputs: None,
            reason: "not checked".into(),
        };
        let configs = BTreeMap::from([
            (
                "app".to_string(),
                config(
                    r#"
[build]
command = "./build.sh"
[deploy]
command = "./deploy.sh"
[[dependencies]]
url = "https://example.org/x/lib.git"
deploy = "./deploy-lib-from-app.sh"
[[dependencies]]
url = "https://example.org/x/remote"
[[dependencies]]
image = "host:5000/a/spark:k8s-3.4.1"
"#,
                ),
            ),
            (
                "lib".to_string(),
                config(
                    r#"
[deploy]
command = "./own-deploy.sh"
[[dependencies]]
package = "github.com/x/ktbx@v1.1.1"
deploy = "ktbx install"
"#,
                ),
            ),
        ]);
        let images = WorkspaceImages {
            project: block,
            decision: None,
            required: Vec::new(),
        };
        (ws, images, configs)
    }

    #[test]
    fn workspace_becomes_a_plan_with_commands_and_image() {
        let (ws, images, configs) = fixture();
        let plan = Plan::new(graph_of(&ws, &images, &configs)).unwrap();
        assert_eq!(
            plan.waves,
            [
                vec![
                    "github.com/x/ktbx@v1.1.1",
                    "host:5000/a/spark:k8s-3.4.1",
                    "remote"
                ],
                vec!["lib"],
                vec!["app"]
            ]
        );
        let step = |name: &str| plan.components.iter().find(|s| s.name == name).unwrap();
        let app = step("app");
        assert_eq!(app.kind, Kind::Git);
        assert!(app.build);
        assert_eq!(
            app.image_url.as_deref(),
            Some("registry.example.org/app:v2.0.0-1-gabcdef0")
        );
        assert_eq!(app.build_reason.as_deref(), Some("registry not checked"));
        assert_eq!(app.build_command.as_deref(), Some("./build.sh"));
        assert_eq!(app.deploy_command.as_deref(), Some("./deploy.sh"));
        assert_eq!(app.reason.as_deref(), Some("checked out"));
        assert_eq!(app.dir.as_deref(), Some("/ci/app"));
        assert_eq!(app.path.as_deref(), Some("."));
        assert_eq!(step("lib").path.as_deref(), Some("../lib"));
        // The entry's `deploy` wins over the dependency's own `[deploy]`.
        assert_eq!(
            step("lib").deploy_command.as_deref(),
            Some("./deploy-lib-from-app.sh")
        );
        assert_eq!(step("lib").reason.as_deref(), Some("fallback to main"));
        assert!(!step("lib").build);
        // No checkout, no directory.
        assert_eq!(step("remote").dir, None);
        assert_eq!(step("remote").path, None);
        let spark = step("host:5000/a/spark:k8s-3.4.1");
        assert_eq!(
            (spark.kind, spark.version.as_deref()),
            (Kind::Image, Some("k8s-3.4.1"))
        );
        let ktbx = step("github.com/x/ktbx@v1.1.1");
        assert_eq!(ktbx.kind, Kind::Package);
        assert_eq!(ktbx.version.as_deref(), Some("v1.1.1"));
        assert_eq!(ktbx.deploy_command.as_deref(), Some("ktbx install"));
    }

    /// The decisions of the required images are shown, not made again: a
    /// `pull = true` git dependency is pulled (with the digest found) or
    /// missing, as is an image dependency; the project carries its digest.
    #[test]
    fn required_images_and_the_project_digest_come_from_the_decisions() {
        let (mut ws, mut images, configs) = fixture();
        ws.nodes[1].pull = true;
        images.project.digest = Some("sha256:pp".into());
        images.project.build = false;
        images.required = vec![
            RequiredImage {
                node: "lib".into(),
                image: "registry.example.org/lib:v1.0.0".into(),
                answer: Required::Present {
                    digest: "sha256:ll".into(),
                },
            },
            RequiredImage {
                node: "host:5000/a/spark:k8s-3.4.1".into(),
                image: "host:5000/a/spark:k8s-3.4.1".into(),
                answer: Required::Missing,
            },
        ];
        let plan = Plan::new(graph_of(&ws, &images, &configs)).unwrap();
        let step = |name: &str| plan.components.iter().find(|s| s.name == name).unwrap();
        assert_eq!(step("app").digest.as_deref(), Some("sha256:pp"));
        let lib = step("lib");
        assert_eq!(lib.action(), "pull");
        assert_eq!(lib.digest.as_deref(), Some("sha256:ll"));
        assert_eq!(
            lib.image_url.as_deref(),
            Some("registry.example.org/lib:v1.0.0")
        );
        let spark = step("host:5000/a/spark:k8s-3.4.1");
        assert_eq!((spark.action(), spark.missing), ("missing", true));
        assert_eq!(step("remote").action(), "skip");
        assert_eq!(step("github.com/x/ktbx@v1.1.1").action(), "install");
        assert_eq!(
            images.ensure_present().unwrap_err().to_string(),
            "1 required image(s) missing from the registry:\n  host:5000/a/spark:k8s-3.4.1"
        );
    }

    #[test]
    fn paths_relative_to_the_project() {
        let rel = |base: &str, path: &str| relative_to(Path::new(base), Path::new(path));
        assert_eq!(rel("/ci/app", "/ci/app"), PathBuf::from("."));
        assert_eq!(rel("/ci/app", "/ci/lib"), PathBuf::from("../lib"));
        assert_eq!(rel("/ci/app", "/ci/app/sub"), PathBuf::from("sub"));
        assert_eq!(rel("/ci/a/app", "/ci/b/lib"), PathBuf::from("../../b/lib"));
        assert_eq!(rel("", "/ci/lib"), PathBuf::from("/ci/lib"));
    }

    #[test]
    fn image_tags() {
        assert_eq!(image_tag("host:5000/a/b:tag"), Some("tag"));
        assert_eq!(image_tag("host:5000/a/b"), None);
        assert_eq!(image_tag("a/b@sha256:0123"), None);
        assert_eq!(image_tag("b:1.0@sha256:0123"), Some("1.0"));
    }
}
