//! The one error type of this crate.

/// A position in YAML text, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

/// Where a YAML syntax error sits: the innermost collection that was open
/// when it happened, and the mapping keys leading to it from the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Within {
    /// `a mapping` or `a list`.
    pub what: &'static str,
    /// Where that collection started.
    pub start: Mark,
    /// The keys from the document's root down to the error (`env`, `A`).
    pub keys: Vec<String>,
}

impl std::fmt::Display for Within {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "while parsing {} that starts at line {}, column {}",
            self.what, self.start.line, self.start.column
        )?;
        if !self.keys.is_empty() {
            write!(f, ", under `{}`", self.keys.join("."))?;
        }
        Ok(())
    }
}

/// Everything that can fail here: loading YAML, formatting a template,
/// compiling a shell pattern, or a `posixpath` function that raises.
///
/// The `*Unsupported` variants are refusals: Python would give an answer, but
/// this crate declines to emulate it (see the crate docs for the list). The
/// others are failures Python has as well, worded as Python words them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// PyYAML fails on this document too: a syntax error, a value its
    /// constructors reject, an unknown tag.
    #[error("line {}, column {}: {message}{}", mark.line, mark.column, within.as_ref().map(|w| format!(" ({w})")).unwrap_or_default())]
    Yaml {
        /// Where the offending node or token starts.
        mark: Mark,
        /// What went wrong, worded after PyYAML's (or Python's) message.
        message: String,
        /// For a syntax error inside a collection: the innermost one that was
        /// open, and the keys leading to it (PyYAML's "while parsing" mark).
        within: Option<Within>,
    },

    /// PyYAML would load this document, but the loader refuses a construct
    /// that no caller needs rather than emulate it (`!!binary`, `!!omap`, a
    /// NaN key, a recursive alias, ...).
    #[error("line {}, column {}: {message}", mark.line, mark.column)]
    YamlUnsupported {
        /// Where the refused node starts.
        mark: Mark,
        /// What is refused and why.
        message: String,
    },

    /// `template.format(name=value)` raises this Python exception.
    #[error("cannot format `{template}`: {exception}: {message}")]
    Format {
        /// The template as given.
        template: String,
        /// The Python exception's class: `ValueError`, `KeyError`, `IndexError`, `TypeError`.
        exception: &'static str,
        /// `str()` of the exception, as CPython 3.11 words it.
        message: String,
    },

    /// Python could format this template, but [`crate::format::format`]
    /// refuses it: an attribute lookup (`{x.upper}`, whose text Python takes
    /// from the `str` object), or a width too large to be meant.
    #[error("cannot format `{template}`: {message}")]
    FormatUnsupported {
        /// The template as given.
        template: String,
        /// What is refused.
        message: String,
    },

    /// Python's `re` rejects the regular expression a shell pattern
    /// translates to (`bad character range z-a`), or the translator raises.
    #[error("invalid pattern `{pattern}`: {message}")]
    Pattern {
        /// The pattern as given.
        pattern: String,
        /// Python's message, e.g. `bad character range z-a`.
        message: String,
    },

    /// A `posixpath` function raises `ValueError`.
    #[error("{function}: {message}")]
    Path {
        /// `relpath` or `commonpath`.
        function: &'static str,
        /// Python's message, e.g. `Can't mix absolute and relative paths`.
        message: String,
    },
}

impl Error {
    /// The position in the YAML text, for the two YAML variants.
    pub fn mark(&self) -> Option<Mark> {
        match self {
            Error::Yaml { mark, .. } | Error::YamlUnsupported { mark, .. } => Some(*mark),
            _ => None,
        }
    }

    /// The message without the position or the template: what went wrong.
    pub fn message(&self) -> &str {
        match self {
            Error::Yaml { message, .. }
            | Error::YamlUnsupported { message, .. }
            | Error::Format { message, .. }
            | Error::FormatUnsupported { message, .. }
            | Error::Pattern { message, .. }
            | Error::Path { message, .. } => message,
        }
    }

    /// True for a refusal: Python would have given an answer.
    pub fn is_unsupported(&self) -> bool {
        matches!(
            self,
            Error::YamlUnsupported { .. } | Error::FormatUnsupported { .. }
        )
    }

    pub(crate) fn yaml(mark: Mark, message: impl Into<String>) -> Self {
        Error::Yaml {
            mark,
            message: message.into(),
            within: None,
        }
    }

    /// A syntax error's context, when it has one.
    pub fn within(&self) -> Option<&Within> {
        match self {
            Error::Yaml { within, .. } => within.as_ref(),
            _ => None,
        }
    }

    /// Notes, on a syntax error, the collection it happened in (the innermost
    /// wins) and, going outwards, the key it sat under.
    pub(crate) fn inside(mut self, what: &'static str, start: Mark, key: Option<&str>) -> Self {
        if let Error::Yaml { within, .. } = &mut self {
            let w = within.get_or_insert_with(|| Within {
                what,
                start,
                keys: Vec::new(),
            });
            if let Some(k) = key {
                w.keys.insert(0, k.to_string());
            }
        }
        self
    }

    pub(crate) fn yaml_unsupported(mark: Mark, message: impl Into<String>) -> Self {
        Error::YamlUnsupported {
            mark,
            message: message.into(),
        }
    }
}
