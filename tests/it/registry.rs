//! The registry client against what the real registry cannot be made to do
//! (paginated tag lists, 429/503, the anonymous bearer-token flow: a tiny fake
//! speaking the protocol), and dependency image checks against the real one.

use std::path::Path;

use crate::common::ciux;
use crate::common::fake::FakeRegistry;
use crate::common::registry::Registry;
use crate::image::{check_env, parse_env, project, run};

#[test]
fn tag_listing_follows_pages_and_retries_unavailable() {
    let tmp = tempfile::tempdir().unwrap();
    let mut tags: Vec<String> = (0..25).map(|i| format!("v0.0.{i}")).collect();
    tags.push("v1.0.0".into());
    let fake = FakeRegistry::start("astro/demo", tags, 10, 2, 503);
    let repo = project(tmp.path(), &format!("{}/astro", fake.addr), "");
    let env = check_env(&repo.dir, &[]);
    assert_eq!(env["CIUX_BUILD"], "false", "the tag is on the third page");
    let requests = fake.requests();
    let lists = requests.iter().filter(|r| r.contains("/tags/list")).count();
    assert_eq!(
        lists,
        2 + 3,
        "two 503 answers retried, then three pages: {requests:?}"
    );
    assert_eq!(
        requests.last().unwrap(),
        "HEAD /v2/astro/demo/manifests/v1.0.0"
    );
}

#[test]
fn too_many_requests_exhausts_retries_with_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let fake = FakeRegistry::start("astro/demo", vec![], 10, 100, 429);
    let repo = project(tmp.path(), &format!("{}/astro", fake.addr), "");
    let out = run(&repo.dir, &["get", "image", "--check"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("HTTP 429"), "{stderr}");
    assert_eq!(fake.requests().len(), 4, "four attempts in all");
}

#[test]
fn anonymous_bearer_token_flow_and_no_token_in_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let token = "tok-SECRET-123";
    let fake = FakeRegistry::start_bearer("astro/demo", vec!["v1.0.0".into()], token);
    let repo = project(tmp.path(), &format!("{}/astro", fake.addr), "");
    let mut cmd = ciux(&repo.dir);
    cmd.env("DOCKER_CONFIG", repo.dir.join("none"))
        .env("CIUX_LOG", "trace")
        .args(["get", "image", "--check", "--env"]);
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        parse_env(&String::from_utf8(out.stdout).unwrap())["CIUX_BUILD"],
        "false"
    );
    assert!(!stderr.contains(token), "the token leaked: {stderr}");
    let requests = fake.requests();
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.starts_with("GET /token"))
            .count(),
        1,
        "one token for both requests: {requests:?}"
    );
}

#[test]
fn missing_dependency_images_are_listed() {
    let registry = Registry::start();
    let text = format!(
        "registry = \"{0}/astro\"\n[[dependencies]]\nurl = \"https://example.org/astro/Alerts.git\"\npull = true\n\
         [[dependencies]]\nurl = \"https://example.org/astro/other\"\n\
         [[dependencies]]\nimage = \"{0}/astro/spark:3.4\"\n[[dependencies]]\nimage = \"{0}/astro/kafka:1\"\n",
        registry.addr
    );
    let config = ciux::config::Config::from_toml_str(&text, Path::new(".ciux.toml")).unwrap();
    let images: Vec<String> = config
        .dependencies
        .iter()
        .filter_map(|d| ciux::image::required_image(&config, d, Some("v2.0.0+b1")))
        .collect();
    assert_eq!(
        images,
        [
            format!("{}/astro/alerts:v2.0.0_b1", registry.addr),
            format!("{}/astro/spark:3.4", registry.addr),
            format!("{}/astro/kafka:1", registry.addr),
        ]
    );
    registry.push("astro/spark", "3.4", None);
    let client = ciux::registry::Client::from_env(&[]);
    let missing = ciux::image::missing_images(&images, &client).unwrap();
    assert_eq!(missing, [images[0].clone(), images[2].clone()]);
}
