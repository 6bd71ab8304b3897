//! Build inputs beyond the source: the `CIUX_IMAGE_INPUTS` fingerprint and the
//! `io.ciux.inputs` label an image carries.

use git2::Oid;

use super::ImageError;
use super::deps::check_images;
use crate::config::{Config, DependencyKind};
use crate::git::Window;
use crate::image::INPUTS_LABEL;
use crate::registry::{Client, Lookup, Reference, RegistryError};

/// The digests of the image dependencies marked `build_input`. A reference
/// pinned by digest (`image@sha256:...`) names its digest: no request.
pub(crate) fn build_input_digests(
    config: &Config,
    client: &Client,
) -> Result<Vec<(String, String)>, ImageError> {
    let images: Vec<String> = config
        .dependencies
        .iter()
        .filter(|d| d.build_input)
        .filter_map(|d| match &d.kind {
            DependencyKind::Image { image } => Some(image.clone()),
            _ => None,
        })
        .collect();
    let pinned = |image: &str| Reference::parse(image).ok().and_then(|r| r.digest);
    let asked: Vec<String> = images
        .iter()
        .filter(|i| pinned(i).is_none())
        .cloned()
        .collect();
    let mut answers = asked.iter().zip(check_images(&asked, client));
    let mut out = Vec::new();
    for image in &images {
        if let Some(digest) = pinned(image) {
            out.push((image.clone(), digest));
            continue;
        }
        let Some((image, answer)) = answers.next() else {
            break;
        };
        match answer {
            Ok(Lookup::Present { digest }) => out.push((image.clone(), digest)),
            Ok(Lookup::Missing) => out.push((image.clone(), "missing".into())),
            Err(source) => {
                return Err(ImageError::Registry {
                    image: image.clone(),
                    source: source.into(),
                });
            }
        }
    }
    Ok(out)
}

/// The inputs fingerprint: a hash of each source path's tree id at HEAD and of
/// each build-input image's digest. Equal fingerprints mean equal build inputs.
pub(crate) fn fingerprint(window: &Window, inputs: &[(String, String)]) -> String {
    let mut text = String::new();
    for (path, id) in &window.entries {
        let id = id.map_or_else(|| "-".to_owned(), |i| i.to_string());
        text.push_str(&format!("source {path} {id}\n"));
    }
    for (image, digest) in inputs {
        text.push_str(&format!("input {image} {digest}\n"));
    }
    Oid::hash_object(git2::ObjectType::Blob, text.as_bytes())
        .map_or_else(|_| text.clone(), |o| o.to_string())
}

/// `Some(label)` when the image's `io.ciux.inputs` label differs from `expected`;
/// `None` when it matches or nothing is expected.
pub(crate) fn inputs_label(
    client: &Client,
    image: &Reference,
    expected: Option<&str>,
) -> Result<Option<Option<String>>, RegistryError> {
    let Some(expected) = expected else {
        return Ok(None);
    };
    let label = read_label(client, image)?;
    Ok((label.as_deref() != Some(expected)).then_some(label))
}

/// The `io.ciux.inputs` label of an image: OCI manifest annotation, else config label.
fn read_label(client: &Client, image: &Reference) -> Result<Option<String>, RegistryError> {
    let Some(mut manifest) = client.manifest(image)? else {
        return Ok(None);
    };
    let mut json: serde_json::Value = serde_json::from_slice(&manifest.bytes).unwrap_or_default();
    if json.get("manifests").is_some() {
        // An index: read the first platform's manifest.
        let Some(digest) = json["manifests"][0]["digest"].as_str().map(str::to_owned) else {
            return Ok(None);
        };
        let child = Reference {
            digest: Some(digest),
            ..image.clone()
        };
        let Some(m) = client.manifest(&child)? else {
            return Ok(None);
        };
        manifest = m;
        json = serde_json::from_slice(&manifest.bytes).unwrap_or_default();
    }
    if let Some(label) = json["annotations"][INPUTS_LABEL].as_str() {
        return Ok(Some(label.to_owned()));
    }
    let Some(config) = json["config"]["digest"].as_str() else {
        return Ok(None);
    };
    let Some(blob) = client.blob(image, config)? else {
        return Ok(None);
    };
    let config: serde_json::Value = serde_json::from_slice(&blob).unwrap_or_default();
    Ok(config["config"]["Labels"][INPUTS_LABEL]
        .as_str()
        .map(str::to_owned))
}
