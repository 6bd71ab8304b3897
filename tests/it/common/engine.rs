//! A stand-in container engine and kind for the `ciux image` tests.
//!
//! No container engine can run on the test machines (no daemon, no rootless
//! podman), so `docker`/`podman`/`kind` here are shell scripts that record
//! every argument list in `calls`, refuse arguments a real engine would refuse
//! (exit 125, as docker does for bad usage), read the REAL image archives
//! (written by skopeo from an OCI layout) with `tar`, and keep the image list
//! in a text file so that `load`, `tag`, `images`, `rmi` and `image prune`
//! answer as the engine would.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const ENGINE: &str = r#"#!/bin/sh
PATH=/usr/bin:/bin
state="$(dirname "$0")/state"
mkdir -p "$state"
images="$state/images"
touch "$images"
printf '%s\n' "$*" >> "$state/calls"
[ -n "$STANDIN_FAIL" ] && { echo "Cannot connect to the engine daemon" >&2; exit 1; }
row() { awk -F '\t' -v r="$1" '$2":"$3 == r || $1 == r' "$images" | head -n 1; }
case "$1" in
load)
  [ "$2" = "--input" ] && [ $# -eq 3 ] || { echo "usage: load --input FILE" >&2; exit 125; }
  tar -tf "$3" >/dev/null 2>&1 || { echo "open $3: not a tar archive" >&2; exit 1; }
  now=$(date -u '+%Y-%m-%d %H:%M:%S +0000 UTC')
  if tar -xOf "$3" manifest.json >/dev/null 2>&1; then
    name=$(tar -xOf "$3" manifest.json | grep -o '"RepoTags":\["[^"]*"' | sed 's/.*\["//; s/"$//')
    id=$(tar -xOf "$3" manifest.json | grep -o '"Config":"[^"]*"' | sed 's/.*:"//; s/"$//; s/^sha256://')
  else
    name=$(tar -xOf "$3" index.json | grep -o '"io.containerd.image.name":"[^"]*"' | sed 's/.*:"//; s/"$//')
    id=$(tar -xOf "$3" index.json | grep -o '"digest":"sha256:[0-9a-f]*"' | head -n 1 | sed 's/.*sha256://; s/"$//')
  fi
  [ -n "$id" ] || { echo "no image in archive" >&2; exit 1; }
  id=$(printf %.12s "$id")
  if [ -n "$name" ]; then
    printf '%s\t%s\t%s\t%s\n' "$id" "${name%:*}" "${name##*:}" "$now" >> "$images"
    echo "Loaded image: $name"
  else
    printf '%s\t<none>\t<none>\t%s\n' "$id" "$now" >> "$images"
    echo "Loaded image ID: sha256:$id"
  fi ;;
image)
  case "$2" in
  inspect)
    [ "$3" = "--format" ] && [ "$4" = "{{.Id}}" ] && [ $# -eq 5 ] || { echo "bad inspect" >&2; exit 125; }
    r=$(row "$5"); [ -n "$r" ] || { echo "Error: No such image: $5" >&2; exit 1; }
    echo "sha256:$(printf '%s' "$r" | cut -f 1)" ;;
  prune)
    [ "$3" = "-f" ] && [ $# -eq 3 ] || { echo "bad prune" >&2; exit 125; }
    awk -F '\t' '$2 == "<none>" { print "Deleted: sha256:" $1 }' "$images"
    awk -F '\t' '$2 != "<none>"' "$images" > "$images.new"; mv "$images.new" "$images"
    echo "Total reclaimed space: 0B" ;;
  *) echo "unexpected: $*" >&2; exit 125 ;;
  esac ;;
tag)
  [ $# -eq 3 ] || { echo "bad tag" >&2; exit 125; }
  id=$(row "${2#sha256:}" | cut -f 1); [ -n "$id" ] || { echo "No such image: $2" >&2; exit 1; }
  created=$(row "${2#sha256:}" | cut -f 4)
  awk -F '\t' -v id="$id" '!($1 == id && $2 == "<none>")' "$images" > "$images.new"; mv "$images.new" "$images"
  printf '%s\t%s\t%s\t%s\n' "$id" "${3%:*}" "${3##*:}" "$created" >> "$images" ;;
images)
  [ "$2" = "--format" ] && [ "$3" = '{{.ID}}	{{.Repository}}	{{.Tag}}	{{.CreatedAt}}' ] && [ $# -eq 3 ] \
    || { echo "unknown images format: $*" >&2; exit 125; }
  cat "$images" ;;
rmi)
  [ $# -eq 2 ] || { echo "bad rmi" >&2; exit 125; }
  [ -n "$(row "$2")" ] || { echo "Error: No such image: $2" >&2; exit 1; }
  awk -F '\t' -v r="$2" '$2":"$3 != r' "$images" > "$images.new"; mv "$images.new" "$images"
  echo "Untagged: $2" ;;
*) echo "unexpected: $*" >&2; exit 125 ;;
esac
"#;

const KIND: &str = r#"#!/bin/sh
PATH=/usr/bin:/bin
state="$(dirname "$0")/state"
mkdir -p "$state"
printf '%s provider=%s\n' "$*" "$KIND_EXPERIMENTAL_PROVIDER" >> "$state/kind-calls"
[ "$1" = load ] && [ "$4" = --name ] && [ -n "$5" ] && [ $# -eq 5 ] || { echo "bad kind usage: $*" >&2; exit 2; }
case "$2" in
image-archive) tar -tf "$3" >/dev/null 2>&1 || { echo "not an archive: $3" >&2; exit 1; } ;;
docker-image) awk -F '\t' -v r="$3" '$2":"$3 == r' "$state/images" | grep -q . || { echo "image $3 not present locally" >&2; exit 1; } ;;
*) echo "bad kind usage: $*" >&2; exit 2 ;;
esac
echo "Image: \"$3\" with ID \"sha256:x\" not yet present on node \"$5-control-plane\", loading..."
"#;

/// A directory holding a stand-in engine named `name` (and `kind`).
pub struct StandIn {
    pub dir: tempfile::TempDir,
    pub name: String,
}

impl StandIn {
    pub fn new(name: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        for (file, text) in [(name, ENGINE), ("kind", KIND)] {
            let path = dir.path().join(file);
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("state")).unwrap();
        Self {
            dir,
            name: name.to_owned(),
        }
    }

    pub fn program(&self) -> PathBuf {
        self.dir.path().join(&self.name)
    }

    /// The argument lists the engine was called with, one per line.
    pub fn calls(&self) -> Vec<String> {
        read_lines(&self.dir.path().join("state/calls"))
    }

    pub fn kind_calls(&self) -> Vec<String> {
        read_lines(&self.dir.path().join("state/kind-calls"))
    }

    /// The image list: `id repository tag created` rows.
    pub fn images(&self) -> Vec<String> {
        read_lines(&self.dir.path().join("state/images"))
    }

    /// Add an image created `age_seconds` ago.
    pub fn add_image(&self, id: &str, repository: &str, tag: &str, age_seconds: u64) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let out = Command::new("date")
            .arg("-u")
            .arg("-d")
            .arg(format!("@{}", now - age_seconds))
            .arg("+%Y-%m-%d %H:%M:%S +0000 UTC")
            .output()
            .unwrap();
        let created = String::from_utf8(out.stdout).unwrap();
        let line = format!("{id}\t{repository}\t{tag}\t{}\n", created.trim());
        let path = self.dir.path().join("state/images");
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(&line);
        std::fs::write(path, text).unwrap();
    }
}

fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A real image archive: the tiny OCI layout of the registry fixtures, copied
/// by skopeo to `transport` (`docker-archive` or `oci-archive`) named `name`.
pub fn archive(dir: &Path, transport: &str, name: &str) -> PathBuf {
    let layout = dir.join("layout");
    if !layout.exists() {
        super::registry::write_layout(&layout, "v1", None);
    }
    let file = dir.join(format!("{transport}.tar"));
    let _ = std::fs::remove_file(&file);
    let out = Command::new("skopeo")
        .args(["copy", "-q"])
        .arg(format!("oci:{}:v1", layout.display()))
        .arg(format!("{transport}:{}:{name}", file.display()))
        .output()
        .expect("skopeo is installed (.ci/setup/10-registry.sh)");
    assert!(
        out.status.success(),
        "skopeo copy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    file
}
