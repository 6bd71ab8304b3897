//! `ciux get revision` against `git describe --always --abbrev=7 --dirty`.

use crate::common::{ciux, recipe};

#[test]
fn revision_matches_git_describe_on_recipes() {
    for name in ["merge-heavy", "no-tags"] {
        let tmp = tempfile::tempdir().unwrap();
        let repo = recipe::build(name, &tmp.path().join(name));
        let out = ciux(&repo.dir).args(["get", "revision"]).output().unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            format!("{}\n", repo.git_describe()),
            "{name}"
        );
    }
}
