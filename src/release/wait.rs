//! `ciux tag --all --wait-images`: once a dependency's tag is pushed, its CI
//! builds the image `registry/<name>:<tag>`; dependents are tagged only when it
//! exists, so their CI finds it. The wait is bounded and polls with a growing
//! delay; a registry that cannot be asked is retried until the deadline and
//! its last error is reported.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::registry::{Client, Lookup, Reference, tag_of_version};

use super::ReleaseError;

/// The image a dependency's CI publishes for `tag`: `<registry>/<name>:<tag>`
/// from its own `.ciux.toml` (`project`, else the directory name, lower case);
/// `None` when it configures no registry (nothing to wait for).
pub fn dependency_image(
    dir: &Path,
    name: &str,
    tag: &str,
) -> Result<Option<(Reference, Vec<String>)>, ReleaseError> {
    let config = Config::load(dir)?;
    let Some(registry) = &config.registry else {
        return Ok(None);
    };
    let project = config
        .project
        .clone()
        .unwrap_or_else(|| name.to_owned())
        .to_lowercase();
    let text = format!(
        "{}/{project}:{}",
        registry.trim_end_matches('/'),
        tag_of_version(tag)
    );
    let reference = Reference::parse(&text).map_err(|source| ReleaseError::BadImage {
        name: name.to_owned(),
        reference: text,
        source: Box::new(source),
    })?;
    Ok(Some((reference, config.insecure_registries.clone())))
}

/// The delay before the next poll: from 250 ms, doubling, at most 10 s.
pub fn next_delay(previous: Option<Duration>) -> Duration {
    previous.map_or(Duration::from_millis(250), |d| {
        (d * 2).min(Duration::from_secs(10))
    })
}

/// Poll until `reference` exists (its digest) or `timeout` has passed.
/// `tick` is called before each poll with the time waited so far.
pub fn wait_for_image(
    client: &Client,
    reference: &Reference,
    timeout: Duration,
    mut tick: impl FnMut(Duration),
) -> Result<String, ReleaseError> {
    let start = Instant::now();
    let mut delay = None;
    loop {
        tick(start.elapsed());
        let last_error = match client.lookup(reference) {
            Ok(Lookup::Present { digest }) => return Ok(digest),
            Ok(Lookup::Missing) => None,
            Err(err) => Some(err.to_string()),
        };
        let next = next_delay(delay);
        if start.elapsed() + next > timeout {
            return Err(ReleaseError::ImageTimeout {
                reference: reference.to_string(),
                waited: start.elapsed().as_secs(),
                last_error: last_error
                    .map_or_else(String::new, |e| format!(" (last registry error: {e})")),
            });
        }
        std::thread::sleep(next);
        delay = Some(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_are_bounded() {
        let mut delay = None;
        let mut seen = Vec::new();
        for _ in 0..8 {
            let next = next_delay(delay);
            seen.push(next.as_millis());
            delay = Some(next);
        }
        assert_eq!(seen, [250, 500, 1000, 2000, 4000, 8000, 10000, 10000]);
    }
}
