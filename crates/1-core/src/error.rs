//! The one error type of imagespec-core.

use std::fmt;
use std::path::PathBuf;

/// Where in a spec a problem sits: the file, the field path and, for YAML, the line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpecLocation {
    /// The spec file, when the spec came from one.
    pub file: Option<PathBuf>,
    /// The field, as a dotted path: `env.GREETING`, `base_image.packages[2]`.
    pub field: String,
    /// 1-based line in the file, when known.
    pub line: Option<usize>,
}

impl fmt::Display for SpecLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{}:{line}: ", file.display())?,
            (Some(file), None) => write!(f, "{}: ", file.display())?,
            (None, Some(line)) => write!(f, "line {line}: ")?,
            (None, None) => {}
        }
        if self.field.is_empty() {
            Ok(())
        } else {
            write!(f, "field `{}`", self.field)
        }
    }
}

/// An invalid spec: what is wrong, where, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub location: SpecLocation,
    pub message: String,
    /// What the user can do about it, when that is known.
    pub hint: Option<String>,
    /// What the error carries for whoever prints it.
    pub carried: Box<Carried>,
}

/// What a [`SpecError`] carries besides its message, as data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Carried {
    /// Secrets of the spec that failed, for whoever prints the error (and
    /// the line of the file it shows): a spec refused while loading never
    /// reaches the caller, so its secrets come with the error.
    pub masked: crate::redact::Secrets,
    /// The plugin the spec asks for and this program lacks (a builder's
    /// name), for a caller that knows where it would come from.
    pub missing: Option<(PluginKind, String)>,
}

impl SpecError {
    /// A problem with `field` (no file or line yet; the loader adds those).
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        SpecError {
            location: SpecLocation {
                field: field.into(),
                ..SpecLocation::default()
            },
            message: message.into(),
            hint: None,
            carried: Default::default(),
        }
    }

    /// Says that the spec asks for a plugin of `kind` named `name` that this
    /// program lacks.
    pub fn missing_plugin(mut self, kind: PluginKind, name: &str) -> Self {
        self.carried.missing = Some((kind, name.to_string()));
        self
    }

    /// Carries `secrets` to whoever prints this error.
    pub fn masking(mut self, secrets: &crate::redact::Secrets) -> Self {
        self.carried.masked.extend(secrets);
        self
    }

    /// Adds advice on what to do.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Sets the file, unless one is set already.
    pub fn in_file(mut self, file: &std::path::Path) -> Self {
        if self.location.file.is_none() {
            self.location.file = Some(file.to_path_buf());
        }
        self
    }

    /// Sets the line, unless one is set already.
    pub fn at_line(mut self, line: Option<usize>) -> Self {
        if self.location.line.is_none() {
            self.location.line = line.filter(|l| *l > 0);
        }
        self
    }

    /// Prefixes the field path, for errors inside a nested spec.
    pub fn nested_in(mut self, parent: &str) -> Self {
        self.location.field = if self.location.field.is_empty() {
            parent.to_string()
        } else {
            format!("{parent}.{}", self.location.field)
        };
        self
    }
}

impl fmt::Display for SpecError {
    /// Control characters in the field, message or hint (values from a
    /// spec) are escaped, so that nothing a spec holds reaches a terminal raw.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::text::printable;
        let loc = self.location.to_string();
        let (loc, message) = (printable(&loc), printable(&self.message));
        if loc.is_empty() {
            write!(f, "{message}")?;
        } else if self.location.field.is_empty() {
            write!(f, "{loc}{message}")?;
        } else {
            write!(f, "{loc}: {message}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {}", printable(hint))?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecError {}

/// A value that cannot be written into a Dockerfile safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot write {what} `{}` into the Dockerfile: {why}", value.escape_debug())]
pub struct RenderError {
    /// What the value is (e.g. `an ENV value`).
    pub what: &'static str,
    /// The value.
    pub value: String,
    /// Why not.
    pub why: &'static str,
}

/// Errors of imagespec-core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The spec is invalid (exit code 2 in the CLI).
    #[error(transparent)]
    Spec(#[from] SpecError),

    /// A file could not be read or written.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A tool imagespec runs (python3, git) failed or is missing.
    #[error("{0}")]
    Environment(String),

    /// The build context changed while it was being written.
    #[error("Hash-based image tag changed from `{before}` to `{after}` while the build context was written ({what}): image tag changed, indicating the content has been modified. Aborting, because the tag would not match what is built; try again once the files stop changing")]
    TagChanged {
        before: String,
        after: String,
        what: String,
    },

    /// A value cannot be written into a Dockerfile safely.
    #[error(transparent)]
    Render(#[from] RenderError),

    /// The spec needs a kind of plugin this program was built without.
    #[error("{needed_for} needs {kind}, and this imagespec has none built in")]
    MissingPlugin {
        /// What is missing.
        kind: PluginKind,
        /// What needs it, e.g. "checking whether `x:1` exists".
        needed_for: String,
        /// What the plugin was to handle, when that tells plugins apart: the
        /// requirements file's name (`poetry.lock`) for a packages installer.
        asked: Option<String>,
    },

    /// A builder plugin's own error (its crate's error type).
    #[error(transparent)]
    Builder(Box<dyn std::error::Error + Send + Sync>),

    /// Any other failure, already phrased for the user.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Wraps an I/O error with what was being done and to which path.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// True when the user's spec is at fault (the CLI exits with 2): an
    /// invalid spec, or a value no Dockerfile can hold.
    pub fn is_invalid_spec(&self) -> bool {
        matches!(self, Error::Spec(_) | Error::Render(_))
    }
}

/// The kinds of plugin a spec can need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginKind {
    /// A registry checker (`ExistenceChecker`).
    Checker,
    /// An installer that provides Python (an `Installer` of the plan crate).
    PythonInstaller,
    /// An installer of Python packages.
    PackagesInstaller,
    /// An image builder (`ImageBuilder`).
    Builder,
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginKind::Checker => write!(f, "a registry checker"),
            PluginKind::PythonInstaller => write!(f, "an installer that provides Python"),
            PluginKind::PackagesInstaller => write!(f, "an installer for its packages"),
            PluginKind::Builder => write!(f, "an image builder"),
        }
    }
}

/// Result with imagespec-core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
