//! The registry client against what the real registry cannot be made to do
//! (paginated tag lists, 429/503, the anonymous bearer-token flow: a tiny fake
//! speaking the protocol), and dependency image checks against the real one.

use crate::common::ciux;
use crate::common::fake::FakeRegistry;
use crate::common::registry::Registry;
use crate::image::{check_env, parse_env, project, run};

#[test]
fn tag_listing_follows_pages_and_retries_unavailable() {
    let tmp = tempfile::tempdir().unwrap();
    let mut tags: Vec<String> = (0..250).map(|i| format!("v0.0.{i}")).collect();
    tags.push("v1.0.0".into());
    let fake = FakeRegistry::start("astro/demo", tags, 100, 2, 503);
    let repo = project(tmp.path(), &format!("{}/astro", fake.addr), "");
    let env = check_env(&repo.dir, &[]);
    assert_eq!(env["CIUX_BUILD"], "false", "the tag is on the third page");
    let requests = fake.requests();
    let lists = requests.iter().filter(|r| r.contains("/tags/list")).count();
    assert_eq!(
        lists,
        1 + 3,
        "the probe and the first listing get 503, the listing is retried, then three pages: {requests:?}"
    );
    assert_eq!(requests[0], "GET /v2/", "{requests:?}");
    assert_eq!(
        requests.iter().filter(|r| *r == "GET /v2/").count(),
        1,
        "one probe: {requests:?}"
    );
    assert_eq!(
        requests.last().unwrap(),
        "GET /v2/astro/demo/manifests/v1.0.0",
        "one manifest request gives the digest"
    );
    assert_eq!(
        requests.len(),
        1 + 1 + 3 + 1,
        "probe, refused listing, three pages, manifest: {requests:?}"
    );
}

#[test]
fn an_exactly_full_sorted_page_is_followed_once_more() {
    // What `Link` would spare: the last page is exactly full, so nothing in
    // the answer says it is the last. One request more, then an empty page.
    let tmp = tempfile::tempdir().unwrap();
    let tags: Vec<String> = (0..200).map(|i| format!("v0.0.{i:03}")).collect();
    let fake = FakeRegistry::start("astro/demo", tags, 100, 0, 200);
    let repo = project(tmp.path(), &format!("{}/astro", fake.addr), "");
    assert_eq!(check_env(&repo.dir, &[])["CIUX_BUILD"], "true");
    let requests = fake.requests();
    let lists = requests.iter().filter(|r| r.contains("/tags/list")).count();
    assert_eq!(lists, 3, "{requests:?}");
}

#[test]
fn an_unpaged_listing_of_many_tags_is_one_request() {
    // Debian's distribution 2.8 ignores `n` and `last` and answers every tag
    // in storage order: the order says it does not page.
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let repo = project(tmp.path(), &format!("{}/astro", registry.addr), "");
    registry.push("astro/demo", "v1.0.0", None);
    for i in 0..150 {
        registry.retag("astro/demo", "v1.0.0", &format!("v0.{i}.0"));
    }
    let before = registry.requests("/v2/astro/demo/tags/list");
    let env = check_env(&repo.dir, &[]);
    assert_eq!(env["CIUX_BUILD"], "false");
    assert_eq!(
        registry.requests("/v2/astro/demo/tags/list") - before,
        1,
        "151 tags in one answer: {}",
        registry.log_text()
    );
}

#[test]
fn too_many_requests_is_retried_within_the_backoff_cap() {
    // The fake answers `429` with `Retry-After: 30` to the probe and the two
    // first listings. oci-client hides that header (docs/image.md), so the
    // capped backoff is the bound: the answer comes within seconds, not 30 s.
    let tmp = tempfile::tempdir().unwrap();
    let fake = FakeRegistry::start("astro/demo", vec!["v1.0.0".into()], 1000, 3, 429);
    let repo = project(tmp.path(), &format!("{}/astro", fake.addr), "");
    let started = std::time::Instant::now();
    let env = check_env(&repo.dir, &[]);
    let waited = started.elapsed();
    assert_eq!(env["CIUX_BUILD"], "false", "the answer after the refusals");
    assert!(
        waited >= std::time::Duration::from_millis(300),
        "two backoff waits, at least 100 + 200 ms: {waited:?}"
    );
    assert!(
        waited < std::time::Duration::from_secs(10),
        "bounded by the backoff cap, not Retry-After: {waited:?}"
    );
    let requests = fake.requests();
    assert_eq!(
        requests.iter().filter(|r| r.contains("/tags/list")).count(),
        3,
        "one request per attempt: {requests:?}"
    );
    assert_eq!(
        requests.len(),
        5,
        "probe, three listings, one manifest: {requests:?}"
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
    let requests = fake.requests();
    assert_eq!(
        requests.iter().filter(|r| r.contains("/tags/list")).count(),
        4,
        "four attempts in all: {requests:?}"
    );
    assert_eq!(requests.len(), 5, "and one probe: {requests:?}");
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

/// The images dependencies must have, through `plan` (the decisions `ignite`
/// makes): a `pull = true` git dependency's `registry/<name>:<version>` (name
/// lower-cased, `+` → `_`), image dependencies as written; a git dependency
/// without `pull` needs none.
#[test]
fn missing_dependency_images_are_listed() {
    let registry = Registry::start();
    let stack = crate::common::stack::Stack::new();
    let alerts = stack.remote("Alerts", "main", &[], None);
    let other = stack.remote("other", "main", &[], None);
    stack.advance("Alerts", "main");
    let src = stack.remotes.join("Alerts-src");
    crate::common::git::git(&src, &["tag", "-a", "v2.0.0+b1", "-m", "v2.0.0+b1"]);
    crate::common::git::git(
        &src,
        &[
            "push",
            "-q",
            "--tags",
            stack.remotes.join("Alerts.git").to_str().unwrap(),
        ],
    );
    let addr = &registry.addr;
    let extra = format!(
        "\n[[dependencies]]\nurl = \"{alerts}\"\nclone = true\npull = true\n\
         [[dependencies]]\nurl = \"{other}\"\nclone = true\n\
         [[dependencies]]\nimage = \"{addr}/astro/spark:3.4\"\n[[dependencies]]\nimage = \"{addr}/astro/kafka:1\"\n"
    );
    let repo = project(&stack.ws, &format!("{addr}/astro"), &extra);
    registry.push("astro/spark", "3.4", None);
    let paths = [
        ("astro/alerts/manifests/v2.0.0_b1", "no repository"),
        ("astro/spark/manifests/3.4", "present"),
        ("astro/kafka/manifests/1", "absent"),
    ];
    let before: Vec<usize> = paths.iter().map(|(p, _)| registry.requests(p)).collect();
    let out = run(&repo.dir, &["plan", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut pulled: Vec<(String, bool)> = plan["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["pull"] == true)
        .map(|c| {
            (
                c["image_url"].as_str().unwrap().to_owned(),
                c["missing"].as_bool().unwrap(),
            )
        })
        .collect();
    pulled.sort();
    assert_eq!(
        pulled,
        [
            (format!("{addr}/astro/alerts:v2.0.0_b1"), true),
            (format!("{addr}/astro/kafka:1"), true),
            (format!("{addr}/astro/spark:3.4"), false),
        ]
    );
    assert!(stderr.contains("2 required image(s) missing"), "{stderr}");
    for ((path, what), before) in paths.into_iter().zip(before) {
        assert_eq!(
            registry.requests(path) - before,
            1,
            "{what}: one request, whatever the answer: {}",
            registry.log_text()
        );
    }
}

#[test]
fn refused_listing_falls_back_to_a_few_manifest_heads() {
    let tmp = tempfile::tempdir().unwrap();
    let mut repo = project(tmp.path(), "127.0.0.1:9/astro", "");
    for i in 0..12 {
        repo.commit(&format!("docs {i}"), &[("docs/a.md", &i.to_string())]);
    }
    // The image was built from the second commit of the 13-commit window: one
    // of the four oldest, which are asked along with the four newest.
    let built = crate::common::git::git_describe_semver(&repo.dir, "HEAD~11", false);
    let fake = FakeRegistry::start_unlisted("astro/demo", vec![built.clone()]);
    let config = repo.dir.join(".ciux.toml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("127.0.0.1:9", &fake.addr);
    std::fs::write(&config, text).unwrap(); // outside the source paths: not a source change
    let env = check_env(&repo.dir, &[]);
    assert_eq!(env["CIUX_BUILD"], "false");
    assert_eq!(
        env["CIUX_IMAGE_URL"],
        format!("{}/astro/demo:{built}", fake.addr)
    );
    let lookups = fake
        .requests()
        .iter()
        .filter(|r| r.contains("/manifests/"))
        .count();
    assert_eq!(
        lookups,
        8,
        "four newest and four oldest of the 13-commit window: {:?}",
        fake.requests()
    );
}

#[test]
fn each_required_image_keeps_its_own_answer_when_building_on_errors() {
    let registry = Registry::start();
    registry.push("astro/present", "1", None);
    let tmp = tempfile::tempdir().unwrap();
    let addr = &registry.addr;
    let extra = format!(
        "\n[[dependencies]]\nimage = \"{addr}/astro/present:1\"\n\
         [[dependencies]]\nimage = \"{addr}/astro/absent:1\"\n\
         [[dependencies]]\nimage = \"127.0.0.1:9/astro/unreachable:1\"\n"
    );
    let repo = project(tmp.path(), &format!("{addr}/astro"), &extra);
    let out = run(&repo.dir, &["ignite", "--on-registry-error=build"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("1 required image(s) missing"), "{stderr}");
    assert!(
        stderr.contains(&format!("{addr}/astro/absent:1")),
        "{stderr}"
    );
    assert!(
        stderr.contains("cannot check image 127.0.0.1:9/astro/unreachable:1"),
        "the unreachable one is a warning: {stderr}"
    );
    // Without the option, the registry that could not be asked is an error,
    // reported with every image found missing: all of them, not the first.
    let out = run(&repo.dir, &["ignite"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("1 required image(s) could not be checked, 1 required image(s) missing"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("missing: {addr}/astro/absent:1")),
        "{stderr}"
    );
    assert!(
        stderr.contains("cannot check image 127.0.0.1:9/astro/unreachable:1"),
        "{stderr}"
    );
}

#[test]
fn promote_dry_run_that_could_not_look_fails() {
    let mut registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let repo = project(tmp.path(), &format!("{}/astro", registry.addr), "");
    registry.stop();
    let out = run(
        &repo.dir,
        &["promote", "--dry-run", "--on-registry-error=build"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing would be promoted");
    assert!(
        stderr.contains("the registry could not be asked"),
        "{stderr}"
    );
}

#[test]
fn image_references_are_checked_at_configuration_time() {
    let tmp = tempfile::tempdir().unwrap();
    for (n, (line, key)) in [
        ("registry = \"reg/x:tag\"", "registry"),
        ("registry = \"127.0.0.1:9/Astro\"", "registry"),
        (
            "[[dependencies]]\nimage = \"UPPER/Case:t@g!\"",
            "dependencies[0].image",
        ),
        (
            "[[dependencies]]\nimage = \"127.0.0.1:9/Astro/x:1\"",
            "dependencies[0].image",
        ),
        ("[registry_ca]\n\"https://x\" = \"ca.pem\"", "registry_ca"),
        ("[registry_timeouts]\nread = 0", "registry_timeouts.read"),
    ]
    .into_iter()
    .enumerate()
    {
        let dir = tmp.path().join(format!("p{n}"));
        let repo = crate::common::git::Repo::init(&dir);
        std::fs::write(
            repo.dir.join(".ciux.toml"),
            format!("project = \"demo\"\n{line}\n"),
        )
        .unwrap();
        let out = run(&repo.dir, &["get", "image"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{line}: {stderr}");
        assert!(
            stderr.contains(".ciux.toml:2:") || stderr.contains(".ciux.toml:3:"),
            "{line}: {stderr}"
        );
        assert!(stderr.contains(&format!(": {key}: ")), "{line}: {stderr}");
    }
    let out = run(tmp.path(), &["get", "image", "-t", "tmp/x:1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tmp-registry"));
}

#[test]
fn a_directory_name_that_is_no_image_name_says_to_set_project() {
    let tmp = tempfile::tempdir().unwrap();
    let mut repo = crate::common::git::Repo::init(&tmp.path().join("My Project"));
    repo.commit(
        "initial",
        &[
            (".ciux.toml", "registry = \"127.0.0.1:9/astro\"\n"),
            ("a", "1"),
        ],
    );
    let out = run(&repo.dir, &["get", "image"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("set `project = "), "{stderr}");
}
