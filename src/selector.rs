//! Kubernetes-style label selectors: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
//! `a notin (x)`, `a`, `!a`, comma = AND.
//!
//! Parsed into a typed [`Selector`] whose [`Display`](std::fmt::Display) is the
//! canonical form Kubernetes prints (requirements sorted by key, `in` values
//! sorted): the reference tool derives env file names from that form, so
//! `itest=true` must keep giving `ciux_itest_true.sh`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::config::ConfigError;

/// One requirement on a label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Requirement {
    /// `key=value` (or `key==value` when `double`).
    Equals {
        key: String,
        value: String,
        double: bool,
    },
    /// `key!=value`: also true when the label is absent.
    NotEquals { key: String, value: String },
    /// `key in (v1,v2)`.
    In { key: String, values: Vec<String> },
    /// `key notin (v1,v2)`: also true when the label is absent.
    NotIn { key: String, values: Vec<String> },
    /// `key`: the label exists.
    Exists { key: String },
    /// `!key`: the label does not exist.
    DoesNotExist { key: String },
}

/// A conjunction of requirements; the empty selector selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub(crate) struct Selector {
    requirements: Vec<Requirement>,
}

impl Requirement {
    fn key(&self) -> &str {
        match self {
            Self::Equals { key, .. }
            | Self::NotEquals { key, .. }
            | Self::In { key, .. }
            | Self::NotIn { key, .. }
            | Self::Exists { key }
            | Self::DoesNotExist { key } => key,
        }
    }

    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let found = labels.get(self.key());
        match self {
            Self::Equals { value, .. } => found == Some(value),
            Self::NotEquals { value, .. } => found != Some(value),
            Self::In { values, .. } => found.is_some_and(|v| values.contains(v)),
            Self::NotIn { values, .. } => !found.is_some_and(|v| values.contains(v)),
            Self::Exists { .. } => found.is_some(),
            Self::DoesNotExist { .. } => found.is_none(),
        }
    }
}

impl Selector {
    /// Parse a selector; the error gives the 0-based byte position of the problem.
    pub(crate) fn parse(text: &str) -> Result<Self, ConfigError> {
        let mut parser = Parser { text, pos: 0 };
        let mut requirements = Vec::new();
        parser.skip_spaces();
        if parser.at_end() {
            return Ok(Self::default());
        }
        loop {
            requirements.push(parser.requirement()?);
            parser.skip_spaces();
            if parser.at_end() {
                break;
            }
            parser.expect(",")?;
        }
        requirements.sort_by(|a, b| a.key().cmp(b.key()));
        Ok(Self { requirements })
    }

    /// Whether the selector selects everything.
    pub(crate) fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether every requirement holds for `labels`.
    pub(crate) fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// The suffix of the env file name: `""` for the empty selector, else `_`
    /// followed by the canonical form with `=` → `_` and `,` → `-` (as the
    /// reference tool does), and any other character outside `[A-Za-z0-9._-]`
    /// → `_` so the name needs no quoting anywhere.
    pub(crate) fn file_suffix(&self) -> String {
        if self.is_empty() {
            return String::new();
        }
        let canonical = self.to_string();
        let mapped: String = canonical
            .chars()
            .map(|c| match c {
                '=' => '_',
                ',' => '-',
                c if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') => c,
                _ => '_',
            })
            .collect();
        format!("_{mapped}")
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Equals { key, value, double } => {
                write!(f, "{key}{}{value}", if *double { "==" } else { "=" })
            }
            Self::NotEquals { key, value } => write!(f, "{key}!={value}"),
            Self::In { key, values } => write!(f, "{key} in ({})", values.join(",")),
            Self::NotIn { key, values } => write!(f, "{key} notin ({})", values.join(",")),
            Self::Exists { key } => write!(f, "{key}"),
            Self::DoesNotExist { key } => write!(f, "!{key}"),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

/// Characters of label keys and values: Kubernetes allows `[A-Za-z0-9._-]`,
/// plus `/` in keys for the prefix.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/')
}

impl Parser<'_> {
    fn error(&self, position: usize, message: impl Into<String>) -> ConfigError {
        ConfigError::Selector {
            selector: self.text.to_owned(),
            position,
            message: message.into(),
        }
    }

    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn skip_spaces(&mut self) {
        let trimmed = self.rest().trim_start_matches([' ', '\t']);
        self.pos = self.text.len() - trimmed.len();
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &str) -> Result<(), ConfigError> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("expected `{token}`")))
        }
    }

    fn unexpected(&self, wanted: &str) -> ConfigError {
        match self.rest().chars().next() {
            None => self.error(self.pos, format!("{wanted}, found the end")),
            Some(c) => self.error(self.pos, format!("{wanted}, found {c:?}")),
        }
    }

    fn token(&mut self) -> &str {
        let start = self.pos;
        let len = self
            .rest()
            .find(|c| !is_token_char(c))
            .unwrap_or(self.rest().len());
        self.pos += len;
        &self.text[start..self.pos]
    }

    fn key(&mut self) -> Result<String, ConfigError> {
        self.skip_spaces();
        let key = self.token().to_owned();
        if key.is_empty() {
            return Err(self.unexpected("expected a label key"));
        }
        Ok(key)
    }

    fn value(&mut self) -> String {
        self.skip_spaces();
        let start = self.pos;
        let len = self
            .rest()
            .find(|c| !is_token_char(c) || c == '/')
            .unwrap_or(self.rest().len());
        self.pos += len;
        self.text[start..self.pos].to_owned()
    }

    fn requirement(&mut self) -> Result<Requirement, ConfigError> {
        self.skip_spaces();
        if self.eat("!") {
            let key = self.key()?;
            return Ok(Requirement::DoesNotExist { key });
        }
        let key = self.key()?;
        self.skip_spaces();
        if self.eat("==") {
            let value = self.value();
            return Ok(Requirement::Equals {
                key,
                value,
                double: true,
            });
        }
        if self.eat("=") {
            let value = self.value();
            return Ok(Requirement::Equals {
                key,
                value,
                double: false,
            });
        }
        if self.eat("!=") {
            let value = self.value();
            return Ok(Requirement::NotEquals { key, value });
        }
        if self.at_end() || self.rest().starts_with(',') {
            return Ok(Requirement::Exists { key });
        }
        let word_at = self.pos;
        let word = self.token().to_owned();
        let negated = match word.as_str() {
            "in" => false,
            "notin" => true,
            _ => {
                self.pos = word_at;
                return Err(
                    self.unexpected("expected `=`, `==`, `!=`, `in`, `notin`, `,` or the end")
                );
            }
        };
        let values = self.values()?;
        Ok(if negated {
            Requirement::NotIn { key, values }
        } else {
            Requirement::In { key, values }
        })
    }

    /// `(v1, v2, ...)`: at least one value; returned sorted and without duplicates.
    fn values(&mut self) -> Result<Vec<String>, ConfigError> {
        self.skip_spaces();
        self.expect("(")?;
        let mut values = Vec::new();
        loop {
            let value = self.value();
            self.skip_spaces();
            values.push(value);
            if self.eat(")") {
                break;
            }
            if !self.eat(",") {
                return Err(self.unexpected("expected `,` or `)`"));
            }
        }
        if values.len() == 1 && values[0].is_empty() {
            return Err(self.error(self.pos - 1, "expected at least one value in `( )`"));
        }
        values.sort();
        values.dedup();
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn sel(text: &str) -> Selector {
        Selector::parse(text).unwrap()
    }

    #[test]
    fn every_operator_matches_as_kubernetes_does() {
        let l = labels(&[("itest", "true"), ("build", "science")]);
        for (text, expected) in [
            ("", true),
            ("itest=true", true),
            ("itest==true", true),
            ("itest=false", false),
            ("itest!=false", true),
            ("absent!=x", true),
            ("build in (noscience, science)", true),
            ("build in (noscience)", false),
            ("build notin (science)", false),
            ("absent notin (x)", true),
            ("absent in (x)", false),
            ("itest", true),
            ("absent", false),
            ("!absent", true),
            ("!itest", false),
            ("itest=true,build=science", true),
            ("itest=true, build=noscience", false),
            ("  itest  =  true  ", true),
            ("missing=", false),
        ] {
            assert_eq!(sel(text).matches(&l), expected, "{text}");
        }
    }

    #[test]
    fn canonical_form_and_file_suffix() {
        assert_eq!(sel("itest=true").file_suffix(), "_itest_true");
        assert_eq!(sel("").file_suffix(), "");
        assert_eq!(
            sel("itest=true,build=science").to_string(),
            "build=science,itest=true"
        );
        assert_eq!(
            sel("itest=true,build=science").file_suffix(),
            "_build_science-itest_true"
        );
        assert_eq!(sel("b in (y, x, y)").to_string(), "b in (x,y)");
        assert_eq!(sel("b in (y, x)").file_suffix(), "_b_in__x-y_");
        assert_eq!(sel("!a,a!=b,k==v").to_string(), "!a,a!=b,k==v");
        assert_eq!(
            sel("example.org/tier=x").file_suffix(),
            "_example.org_tier_x"
        );
    }

    #[test]
    fn errors_give_the_position() {
        for (text, position) in [
            ("a in (x", 7),
            ("a in x", 5),
            ("a=b,", 4),
            (",a", 0),
            ("a b", 2),
            ("a in ()", 6),
            ("a=$(touch x)", 2),
            ("!", 1),
            ("a=b;c", 3),
        ] {
            match Selector::parse(text) {
                Err(ConfigError::Selector {
                    position: p,
                    selector,
                    ..
                }) => {
                    assert_eq!((p, selector.as_str()), (position, text), "{text}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        let message = Selector::parse("a in (x").unwrap_err().to_string();
        assert_eq!(
            message,
            "invalid selector `a in (x` at position 7: expected `,` or `)`, found the end"
        );
    }

    fn token() -> impl Strategy<Value = String> {
        "[a-z0-9][a-z0-9._-]{0,6}"
    }

    fn values() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::btree_set(token(), 1..4).prop_map(|s| s.into_iter().collect())
    }

    fn requirement() -> impl Strategy<Value = Requirement> {
        prop_oneof![
            (token(), token(), any::<bool>())
                .prop_map(|(key, value, double)| Requirement::Equals { key, value, double }),
            (token(), token()).prop_map(|(key, value)| Requirement::NotEquals { key, value }),
            (token(), values()).prop_map(|(key, values)| Requirement::In { key, values }),
            (token(), values()).prop_map(|(key, values)| Requirement::NotIn { key, values }),
            token().prop_map(|key| Requirement::Exists { key }),
            token().prop_map(|key| Requirement::DoesNotExist { key }),
        ]
    }

    proptest! {
        /// Printing then parsing gives back the same selector.
        #[test]
        fn display_round_trips(mut requirements in proptest::collection::vec(requirement(), 0..5)) {
            requirements.sort_by(|a, b| a.key().cmp(b.key()));
            let selector = Selector { requirements };
            let reparsed = Selector::parse(&selector.to_string()).unwrap();
            prop_assert_eq!(reparsed, selector);
        }

        /// Any input either parses or gives an error inside the input, and never panics;
        /// what parses prints back to something that parses to the same value.
        #[test]
        fn parser_is_total(text in "[a-z=!(), in]{0,20}|\\PC{0,12}") {
            match Selector::parse(&text) {
                Ok(selector) => prop_assert_eq!(Selector::parse(&selector.to_string()).unwrap(), selector),
                Err(ConfigError::Selector { position, .. }) => prop_assert!(position <= text.len()),
                Err(other) => prop_assert!(false, "unexpected error {other}"),
            }
        }

        /// File suffixes never need quoting.
        #[test]
        fn file_suffix_is_plain(requirements in proptest::collection::vec(requirement(), 0..5)) {
            let suffix = Selector { requirements }.file_suffix();
            prop_assert!(suffix.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)));
        }
    }
}
