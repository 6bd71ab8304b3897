//! `ciux tag --all --wait-images`: once a `pull = true` dependency's tag is
//! pushed, its CI builds the image `registry/<name>:<tag>` that the project
//! requires; dependents are tagged only when it exists, so their CI finds it. The wait is bounded and polls with a growing
//! delay; a registry that cannot be asked is retried until the deadline and
//! its last error is reported.

use std::time::{Duration, Instant};

use crate::config::Config;
use crate::registry::{Client, Lookup, Reference};

use super::ReleaseError;

/// The image a `pull = true` dependency must have for its new `tag`, as
/// `ciux ignite` checks it: `<project registry>/<name>:<tag>`
/// ([`crate::image::dependency_image`]); `None` without a project registry.
pub(crate) fn dependency_image(
    config: &Config,
    name: &str,
    tag: &str,
) -> Result<Option<Reference>, ReleaseError> {
    let Some(text) = crate::image::dependency_image(config, name, tag) else {
        return Ok(None);
    };
    Reference::parse(&text)
        .map(Some)
        .map_err(|source| ReleaseError::BadImage {
            name: name.to_owned(),
            reference: text,
            source: Box::new(source),
        })
}

/// The delay before the next poll: from 250 ms, doubling, at most 10 s.
pub(crate) fn next_delay(previous: Option<Duration>) -> Duration {
    previous.map_or(Duration::from_millis(250), |d| {
        (d * 2).min(Duration::from_secs(10))
    })
}

/// Poll until `reference` exists (its digest) or `timeout` has passed.
/// `tick` is called before each poll with the time waited so far.
pub(crate) fn wait_for_image(
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
