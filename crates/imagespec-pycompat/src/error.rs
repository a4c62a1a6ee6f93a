//! The one error type of this crate.

/// A position in YAML text, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
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
    #[error("line {}, column {}: {message}", mark.line, mark.column)]
    Yaml {
        /// Where the offending node or token starts.
        mark: Mark,
        /// What went wrong, worded after PyYAML's (or Python's) message.
        message: String,
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
        }
    }

    pub(crate) fn yaml_unsupported(mark: Mark, message: impl Into<String>) -> Self {
        Error::YamlUnsupported {
            mark,
            message: message.into(),
        }
    }
}
