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
pub(crate) fn layout_dir(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

/// `(tag, digest)` of every tagged manifest; `None` when the layout does not exist.
pub(crate) fn tags(layout: &Path) -> Result<Option<Vec<(String, String)>>, RegistryError> {
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
pub(crate) fn lookup(layout: &Path, tag: &str) -> Result<Lookup, RegistryError> {
    Ok(tags(layout)?
        .unwrap_or_default()
        .into_iter()
        .find(|(t, _)| t == tag)
        .map_or(Lookup::Missing, |(_, digest)| Lookup::Present { digest }))
}

/// Give the manifest tagged `from` the tag `to` as well (promotion in a
/// layout): one more `index.json` entry, written atomically. Returns the
/// digest, or `None` when `from` is absent.
pub(crate) fn retag(layout: &Path, from: &str, to: &str) -> Result<Option<String>, RegistryError> {
    let path = layout.join("index.json");
    let io = |source: std::io::Error| RegistryError::Layout {
        path: path.clone(),
        source,
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let invalid =
        |e: serde_json::Error| io(std::io::Error::new(std::io::ErrorKind::InvalidData, e));
    let mut index: serde_json::Value = serde_json::from_str(&text).map_err(invalid)?;
    let Some(manifests) = index["manifests"].as_array_mut() else {
        return Ok(None);
    };
    let tagged =
        |d: &serde_json::Value, tag: &str| d["annotations"][REF_NAME].as_str() == Some(tag);
    let Some(mut copy) = manifests.iter().find(|d| tagged(d, from)).cloned() else {
        return Ok(None);
    };
    manifests.retain(|d| !tagged(d, to));
    copy["annotations"][REF_NAME] = serde_json::Value::from(to);
    let digest = copy["digest"].as_str().unwrap_or_default().to_owned();
    manifests.push(copy);
    let text = serde_json::to_string(&index).map_err(invalid)?;
    crate::fsutil::write_atomic(&path, text.as_bytes()).map_err(io)?;
    Ok(Some(digest))
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
        assert_eq!(
            retag(tmp.path(), "v1.0.0", "v2").unwrap().as_deref(),
            Some("sha256:ab")
        );
        assert_eq!(
            lookup(tmp.path(), "v2").unwrap(),
            Lookup::Present {
                digest: "sha256:ab".into()
            }
        );
        assert_eq!(retag(tmp.path(), "v9", "v3").unwrap(), None);
    }
}
