//! An OCI image layout directory as an offline registry (`oci:<dir>`).
//!
//! `skopeo copy ... oci:<dir>/<name>:<tag>` writes `<dir>/<name>/index.json`
//! whose manifests carry the tag in the `org.opencontainers.image.ref.name`
//! annotation. A registry `oci:<dir>` holds image `<name>` in `<dir>/<name>`, so
//! `--check` works with no server at all.

use std::path::{Path, PathBuf};

use super::{Lookup, RegistryError};

/// The annotation holding a manifest's tag in `index.json`.
const REF_NAME: &str = "org.opencontainers.image.ref.name";

#[derive(serde::Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

#[derive(serde::Deserialize)]
struct Descriptor {
    digest: String,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

/// The layout directory of image `name` in registry directory `dir`.
pub fn layout_dir(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

/// `(tag, digest)` of every tagged manifest; `None` when the layout does not exist.
pub fn tags(layout: &Path) -> Result<Option<Vec<(String, String)>>, RegistryError> {
    let path = layout.join("index.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(RegistryError::Layout { path, source }),
    };
    let index: Index = serde_json::from_str(&text).map_err(|e| RegistryError::Layout {
        path: path.clone(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })?;
    Ok(Some(
        index
            .manifests
            .into_iter()
            .filter_map(|d| Some((d.annotations.get(REF_NAME)?.clone(), d.digest)))
            .collect(),
    ))
}

/// Whether the layout holds `tag`.
pub fn lookup(layout: &Path, tag: &str) -> Result<Lookup, RegistryError> {
    Ok(tags(layout)?
        .unwrap_or_default()
        .into_iter()
        .find(|(t, _)| t == tag)
        .map_or(Lookup::Missing, |(_, digest)| Lookup::Present { digest }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ref_names() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(tags(tmp.path()).unwrap(), None);
        std::fs::write(
            tmp.path().join("index.json"),
            r#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:ab","size":1,"annotations":{"org.opencontainers.image.ref.name":"v1.0.0"}}]}"#,
        )
        .unwrap();
        assert_eq!(
            lookup(tmp.path(), "v1.0.0").unwrap(),
            Lookup::Present {
                digest: "sha256:ab".into()
            }
        );
        assert_eq!(lookup(tmp.path(), "v2").unwrap(), Lookup::Missing);
    }
}
