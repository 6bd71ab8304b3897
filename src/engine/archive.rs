//! What an image archive holds, read before handing it to an engine: a
//! `docker save` / `skopeo copy docker-archive:` tarball (`manifest.json`
//! with `RepoTags`) or an OCI image layout in a tar (`oci-layout`,
//! `index.json` whose manifests carry the image name in an annotation).
//! Knowing the format and the names lets `image load` say what it loads and
//! tag the image when the archive does not carry the expected name.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use super::EngineError;

/// The layout of an image archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Format {
    /// `docker save` format (`manifest.json`); Docker 25+ writes an OCI layout beside it.
    DockerArchive,
    /// An OCI image layout (`oci-layout`, `index.json`) in a tar.
    OciArchive,
    /// gzip, zstd or xz: handed to the engine as is, not inspected.
    Compressed,
}

impl Format {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::DockerArchive => "docker-archive",
            Self::OciArchive => "oci-archive",
            Self::Compressed => "compressed archive",
        }
    }
}

/// The format of an archive and the image names it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ArchiveInfo {
    pub(crate) format: Format,
    /// Image names in the archive (`RepoTags`, or the OCI name annotations).
    pub(crate) names: Vec<String>,
}

#[derive(Deserialize)]
struct DockerManifestEntry {
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct OciIndex {
    #[serde(default)]
    manifests: Vec<OciDescriptor>,
}

#[derive(Deserialize)]
struct OciDescriptor {
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

/// Annotations that name the image of an OCI index entry: containerd's full
/// name first, then the layout's `ref.name` (which skopeo sets to the tag or name given).
const NAME_ANNOTATIONS: [&str; 2] = [
    "io.containerd.image.name",
    "org.opencontainers.image.ref.name",
];

/// Read the format and the names of the archive at `path`.
pub(crate) fn inspect(path: &Path) -> Result<ArchiveInfo, EngineError> {
    let read_err = |source| EngineError::ArchiveRead {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            EngineError::ArchiveMissing {
                path: path.to_path_buf(),
            }
        } else {
            read_err(source)
        }
    })?;
    if !meta.is_file() {
        return Err(EngineError::NotAnArchive {
            path: path.to_path_buf(),
        });
    }
    let mut file = File::open(path).map_err(read_err)?;
    let mut magic = [0u8; 6];
    let got = file.read(&mut magic).map_err(read_err)?;
    let magic = &magic[..got];
    if magic.starts_with(&[0x1f, 0x8b])
        || magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
        || magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0])
    {
        return Ok(ArchiveInfo {
            format: Format::Compressed,
            names: Vec::new(),
        });
    }
    let file = File::open(path).map_err(read_err)?;
    let mut tar = tar::Archive::new(file);
    let mut docker_manifest = None;
    let mut oci_layout = false;
    let mut oci_index = None;
    let not_archive = || EngineError::NotAnArchive {
        path: path.to_path_buf(),
    };
    for entry in tar.entries().map_err(|_| not_archive())? {
        let mut entry = entry.map_err(|_| not_archive())?;
        let name = entry
            .path()
            .map_err(|_| not_archive())?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_owned();
        // Only small metadata files are read into memory; layers are skipped.
        let small = entry.size() <= 16 * 1024 * 1024;
        match name.as_str() {
            "manifest.json" if small => {
                let mut text = String::new();
                entry.read_to_string(&mut text).map_err(read_err)?;
                docker_manifest = Some(text);
            }
            "index.json" if small => {
                let mut text = String::new();
                entry.read_to_string(&mut text).map_err(read_err)?;
                oci_index = Some(text);
            }
            "oci-layout" => oci_layout = true,
            _ => {}
        }
    }
    if let Some(text) = docker_manifest {
        let entries: Vec<DockerManifestEntry> =
            serde_json::from_str(&text).map_err(|_| not_archive())?;
        let names = entries
            .into_iter()
            .flat_map(|e| e.repo_tags.unwrap_or_default())
            .collect();
        return Ok(ArchiveInfo {
            format: Format::DockerArchive,
            names,
        });
    }
    if oci_layout {
        let index: OciIndex = oci_index
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
            .ok_or_else(not_archive)?;
        let names = index
            .manifests
            .iter()
            .filter_map(|m| {
                NAME_ANNOTATIONS
                    .iter()
                    .find_map(|key| m.annotations.get(*key).cloned())
            })
            .collect();
        return Ok(ArchiveInfo {
            format: Format::OciArchive,
            names,
        });
    }
    Err(not_archive())
}

/// Whether `names` (from an archive or an engine) include `url`, allowing for
/// the engines' habit of spelling Docker Hub images `docker.io/library/x:t`
/// and of leaving the tag `latest` implicit.
pub(crate) fn names_include(names: &[String], url: &str) -> bool {
    let want = normalize(url);
    names.iter().any(|n| normalize(n) == want)
}

fn normalize(name: &str) -> String {
    let mut name = name.trim().to_owned();
    let last = name.rsplit('/').next().unwrap_or("");
    if !last.contains(':') && !name.contains('@') {
        name.push_str(":latest");
    }
    let first = name.split('/').next().unwrap_or("");
    let has_host =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if !has_host {
        if name.contains('/') {
            name = format!("docker.io/{name}");
        } else {
            name = format!("docker.io/library/{name}");
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_with(files: &[(&str, &str)]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut builder = tar::Builder::new(file.reopen().unwrap());
        for (name, text) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder
                .append_data(&mut header, name, text.as_bytes())
                .unwrap();
        }
        builder.finish().unwrap();
        file
    }

    #[test]
    fn docker_archive_names_come_from_repo_tags() {
        let file = tar_with(&[
            ("blobs/sha256/aa", "x"),
            (
                "manifest.json",
                r#"[{"Config":"c","RepoTags":["reg.io/a/b:v1","reg.io/a/b:latest"],"Layers":[]}]"#,
            ),
            ("oci-layout", r#"{"imageLayoutVersion":"1.0.0"}"#),
            ("index.json", r#"{"manifests":[]}"#),
        ]);
        let info = inspect(file.path()).unwrap();
        assert_eq!(info.format, Format::DockerArchive);
        assert_eq!(info.names, ["reg.io/a/b:v1", "reg.io/a/b:latest"]);
    }

    #[test]
    fn oci_archive_names_come_from_annotations() {
        let file = tar_with(&[
            ("oci-layout", r#"{"imageLayoutVersion":"1.0.0"}"#),
            (
                "index.json",
                r#"{"schemaVersion":2,"manifests":[{"digest":"sha256:0","annotations":{"org.opencontainers.image.ref.name":"v1"}},{"digest":"sha256:1","annotations":{"io.containerd.image.name":"reg.io/x:2","org.opencontainers.image.ref.name":"2"}}]}"#,
            ),
        ]);
        let info = inspect(file.path()).unwrap();
        assert_eq!(info.format, Format::OciArchive);
        assert_eq!(info.names, ["v1", "reg.io/x:2"]);
    }

    #[test]
    fn other_files_are_refused_and_missing_is_named() {
        let file = tar_with(&[("README", "hello")]);
        assert!(matches!(
            inspect(file.path()),
            Err(EngineError::NotAnArchive { .. })
        ));
        let text = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(text.path(), "not a tar at all, just some text".repeat(40)).unwrap();
        assert!(matches!(
            inspect(text.path()),
            Err(EngineError::NotAnArchive { .. })
        ));
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("image.tar");
        let err = inspect(&missing).unwrap_err();
        assert!(matches!(err, EngineError::ArchiveMissing { .. }));
        assert!(err.to_string().contains("image.tar"), "{err}");
    }

    #[test]
    fn gzip_is_passed_through() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), [0x1f, 0x8b, 8, 0, 0, 0, 0, 0]).unwrap();
        assert_eq!(inspect(file.path()).unwrap().format, Format::Compressed);
    }

    #[test]
    fn names_compare_as_engines_spell_them() {
        let names = vec!["docker.io/library/alpine:latest".to_owned()];
        assert!(names_include(&names, "alpine"));
        assert!(names_include(&names, "docker.io/library/alpine:latest"));
        assert!(!names_include(&names, "alpine:3"));
        let names = vec!["127.0.0.1:5000/fink/broker:v1".to_owned()];
        assert!(names_include(&names, "127.0.0.1:5000/fink/broker:v1"));
        assert!(!names_include(&names, "127.0.0.1:5000/fink/broker"));
        assert!(names_include(
            &["docker.io/astro/x:1".to_owned()],
            "astro/x:1"
        ));
    }
}
