//! `ciux image cleanup`: remove the local images matching a pattern that are
//! older than an age, then the dangling ones, as self-hosted runners need to
//! keep their disks from filling up. The listing is parsed and the choice made
//! here from plain data; only [`cleanup`] runs the engine.

use serde::Serialize;

use super::{Engine, EngineError};

/// The `--format` template given to `images`: docker and podman both know these fields.
pub(crate) const LIST_FORMAT: &str = "{{.ID}}\t{{.Repository}}\t{{.Tag}}\t{{.CreatedAt}}";

/// One row of the engine's image list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ImageRow {
    pub(crate) id: String,
    pub(crate) repository: String,
    pub(crate) tag: String,
    /// Creation time, seconds since the Unix epoch.
    pub(crate) created: i64,
}

impl ImageRow {
    /// Untagged and unnamed: what `image prune` removes.
    pub(crate) fn dangling(&self) -> bool {
        self.repository == "<none>"
    }

    /// `repository:tag` (or `repository@id` for an untagged one).
    pub(crate) fn name(&self) -> String {
        if self.tag == "<none>" {
            format!("{}@{}", self.repository, self.id)
        } else {
            format!("{}:{}", self.repository, self.tag)
        }
    }
}

/// `--max-age`: a whole number and one unit, m (minutes), h, d, w; in seconds.
pub(crate) fn parse_age(text: &str) -> Result<u64, EngineError> {
    let bad = |reason| EngineError::BadAge {
        value: text.to_owned(),
        reason,
    };
    let text_trim = text.trim();
    let unit = text_trim.chars().last().ok_or_else(|| bad("empty"))?;
    let number = &text_trim[..text_trim.len() - unit.len_utf8()];
    let scale: u64 = match unit {
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return Err(bad("unknown unit")),
    };
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad("not a whole number"));
    }
    let value: u64 = number.parse().map_err(|_| bad("number too large"))?;
    value
        .checked_mul(scale)
        .ok_or_else(|| bad("number too large"))
}

/// An age in the largest unit that fits: `3d`, `5h`, `12m`, `40s`.
pub(crate) fn format_age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        s if s >= 86_400 => format!("{}d", s / 86_400),
        s if s >= 3600 => format!("{}h", s / 3600),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Parse `YYYY-MM-DD HH:MM:SS[.frac] ±HHMM [ZONE]` (docker's and podman's
/// `CreatedAt`) into seconds since the epoch.
pub(crate) fn parse_created(text: &str) -> Option<i64> {
    let mut fields = text.split_whitespace();
    let date = fields.next()?;
    let time = fields.next()?;
    let offset = fields.next().unwrap_or("+0000");
    let mut d = date.split('-');
    let (y, mo, da): (i64, i64, i64) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    let time = time.split('.').next()?;
    let mut t = time.split(':');
    let (h, mi, se): (i64, i64, i64) = (
        t.next()?.parse().ok()?,
        t.next()?.parse().ok()?,
        t.next()?.parse().ok()?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&da) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let (sign, digits) = match offset.as_bytes().first()? {
        b'+' => (1, &offset[1..]),
        b'-' => (-1, &offset[1..]),
        _ => return None,
    };
    let digits = digits.replace(':', "");
    if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let off =
        sign * (digits[..2].parse::<i64>().ok()? * 3600 + digits[2..].parse::<i64>().ok()? * 60);
    Some(days_from_civil(y, mo, da) * 86_400 + h * 3600 + mi * 60 + se - off)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parse the output of `images --format LIST_FORMAT`.
pub(crate) fn parse_listing(text: &str, command: &str) -> Result<Vec<ImageRow>, EngineError> {
    let mut rows = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let bad = || EngineError::BadListing {
            command: command.to_owned(),
            line: line.to_owned(),
        };
        let mut parts = line.split('\t');
        let (Some(id), Some(repository), Some(tag), Some(created)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        rows.push(ImageRow {
            id: id.trim().to_owned(),
            repository: repository.trim().to_owned(),
            tag: tag.trim().to_owned(),
            created: parse_created(created).ok_or_else(bad)?,
        });
    }
    Ok(rows)
}

/// One image and its age, in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Aged {
    pub(crate) name: String,
    pub(crate) id: String,
    pub(crate) age_seconds: i64,
}

/// Which images go and which stay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Selection {
    /// Matching and older than the age.
    pub(crate) remove: Vec<Aged>,
    /// Matching and younger.
    pub(crate) keep: Vec<Aged>,
    /// Dangling images (`image prune` removes them).
    pub(crate) dangling: Vec<Aged>,
}

/// Choose among `rows`: an image matches when `pattern` is a substring of its
/// `repository:tag` (the reference tool's rule); it goes when older than `max_age`.
pub(crate) fn select(rows: &[ImageRow], pattern: &str, max_age: u64, now: i64) -> Selection {
    let mut selection = Selection::default();
    let limit = i64::try_from(max_age).unwrap_or(i64::MAX);
    for row in rows {
        let aged = Aged {
            name: row.name(),
            id: row.id.clone(),
            age_seconds: now - row.created,
        };
        if row.dangling() {
            selection.dangling.push(aged);
        } else if row.name().contains(pattern) {
            if aged.age_seconds > limit {
                selection.remove.push(aged);
            } else {
                selection.keep.push(aged);
            }
        }
    }
    selection
}

/// List, choose, and (unless `dry_run`) remove. Removal is by name, so an
/// image that also carries a tag outside the pattern keeps that tag.
pub(crate) fn cleanup(
    engine: &Engine,
    pattern: &str,
    max_age: u64,
    dry_run: bool,
    now: i64,
) -> Result<Selection, EngineError> {
    let args = ["images", "--format", LIST_FORMAT];
    let listing = engine.run(&args)?;
    let command = super::display_command(&engine.name, &args);
    let rows = parse_listing(&listing.stdout, &command)?;
    let selection = select(&rows, pattern, max_age, now);
    if !dry_run {
        for image in &selection.remove {
            engine.run(&["rmi", image.name.as_str()])?;
        }
        engine.run(&["image", "prune", "-f"])?;
    }
    Ok(selection)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_in_every_unit() {
        assert_eq!(parse_age("30m").unwrap(), 1800);
        assert_eq!(parse_age("2h").unwrap(), 7200);
        assert_eq!(parse_age("5d").unwrap(), 432_000);
        assert_eq!(parse_age("1w").unwrap(), 604_800);
        assert_eq!(parse_age("0d").unwrap(), 0);
        for bad in ["", "d", "5", "5y", "-1d", "1.5d", "99999999999999999999w"] {
            let err = parse_age(bad).unwrap_err();
            assert!(err.is_usage(), "{bad}: {err}");
        }
    }

    #[test]
    fn created_times_of_docker_and_podman() {
        // `date -u -d '2024-01-02 14:04:05' +%s` = 1704204245
        assert_eq!(
            parse_created("2024-01-02 15:04:05 +0100 CET"),
            Some(1_704_204_245)
        );
        assert_eq!(
            parse_created("2024-01-02 14:04:05.123456789 +0000 UTC"),
            Some(1_704_204_245)
        );
        assert_eq!(parse_created("1970-01-01 00:00:00 +0000 UTC"), Some(0));
        assert_eq!(
            parse_created("2000-02-29 12:00:00 -0530"),
            Some(951_825_600 + 5 * 3600 + 1800)
        );
        assert_eq!(parse_created("2 days ago"), None);
        assert_eq!(parse_created("2024-13-02 00:00:00 +0000"), None);
    }

    #[test]
    fn selection_by_pattern_and_age() {
        let now = 1_000_000;
        let row = |repo: &str, tag: &str, age: i64| ImageRow {
            id: format!("id-{repo}-{tag}"),
            repository: repo.into(),
            tag: tag.into(),
            created: now - age,
        };
        let rows = [
            row("reg.io/fink-broker", "old", 6 * 86_400),
            row("reg.io/fink-broker", "new", 3600),
            row("reg.io/other", "old", 30 * 86_400),
            row("<none>", "<none>", 9 * 86_400),
        ];
        let s = select(&rows, "fink-broker", 5 * 86_400, now);
        let names = |v: &[Aged]| v.iter().map(|a| a.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&s.remove), ["reg.io/fink-broker:old"]);
        assert_eq!(names(&s.keep), ["reg.io/fink-broker:new"]);
        assert_eq!(s.dangling.len(), 1);
        assert_eq!(format_age(s.remove[0].age_seconds), "6d");
        assert_eq!(format_age(3600), "1h");
    }

    #[test]
    fn listing_lines_are_checked() {
        let rows = parse_listing(
            "abc\treg.io/a\tv1\t2024-01-02 15:04:05 +0100 CET\n\n",
            "docker images",
        )
        .unwrap();
        assert_eq!(rows[0].name(), "reg.io/a:v1");
        let err = parse_listing("abc reg.io/a v1\n", "docker images").unwrap_err();
        assert!(err.to_string().contains("docker images"), "{err}");
    }
}
