//! Where a value of a scenario file was written, so that checks made after the files of an
//! `extends` chain are merged (does this segment exist?) still name the file and line that
//! defined the value.

use std::hash::{Hash, Hasher};
use std::ops::{Deref, Range};
use std::path::{Path, PathBuf};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A file and a 1-based line in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
}

/// A value with the place it was written. Compares, hashes and serialises as the bare
/// value: where a value came from never changes what a scenario means.
#[derive(Debug, Clone)]
pub struct Located<T> {
    pub value: T,
    /// Byte range in its file, as the TOML parser reported it.
    span: Option<Range<usize>>,
    /// Set by [`Located::locate`] once the file's text and path are known.
    origin: Option<Origin>,
}

impl<T> Located<T> {
    /// A value written by no file (a default, or built in code).
    pub fn new(value: T) -> Self {
        Located {
            value,
            span: None,
            origin: None,
        }
    }

    /// Turns the parser's byte span into a file and line; called right after the file
    /// holding the value is parsed, before the `extends` chain is merged.
    pub(crate) fn locate(&mut self, file: &Path, text: &str) {
        if let Some(span) = &self.span {
            self.origin = Some(Origin {
                file: file.to_path_buf(),
                line: line_of(text, span.start),
            });
        }
    }

    /// Where the value was written, if it came from a file.
    pub fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }
}

/// The 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl<T> From<T> for Located<T> {
    fn from(value: T) -> Self {
        Located::new(value)
    }
}

impl<T> Deref for Located<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: PartialEq> PartialEq for Located<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Located<T> {}

impl<T: Hash> Hash for Located<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.value.hash(state)
    }
}

impl<T: Serialize> Serialize for Located<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

/// Deserialises the bare value, with no origin: what reading a value back from a JSON
/// manifest does. Scenario files record where values were written through
/// [`spanned_vec`] instead.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Located::new)
    }
}

/// Deserialises a list, recording each value's span, for `#[serde(deserialize_with)]`.
/// Only the TOML deserialiser gives spans, so use it only on what is read from TOML files.
pub(crate) fn spanned_vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<Located<T>>, D::Error> {
    Ok(Vec::<toml::Spanned<T>>::deserialize(d)?
        .into_iter()
        .map(|s| {
            let span = s.span();
            Located {
                value: s.into_inner(),
                span: Some(span),
                origin: None,
            }
        })
        .collect())
}

/// True for the path segment a span wrapper adds when deserialised: not a field of the
/// file, so left out of the field names errors report.
pub(crate) fn is_span_wrapper(key: &str) -> bool {
    key.starts_with("$__serde_spanned_private")
}

/// Deserialises a value and checks it; the error, raised inside deserialisation, carries
/// the value's line and field (scenario and capacity tables alike).
pub(crate) fn checked<'de, D, T>(
    d: D,
    check: impl FnOnce(&T) -> std::result::Result<(), String>,
) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let v = T::deserialize(d)?;
    check(&v).map_err(D::Error::custom)?;
    Ok(v)
}
