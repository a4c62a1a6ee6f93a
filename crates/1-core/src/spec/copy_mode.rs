//! flytekit's `CopyFileDetection`: which source files go into the image.

use imagespec_pycompat::PyValue;

/// A member of flytekit's `CopyFileDetection` enum: which source files go into the image.
///
/// A spec holds `source_copy_mode` as the Python value it was given (see
/// `ImageSpec::source_copy_mode_raw`): plain YAML gives a string, and
/// flytekit compares it with the enum, which no string equals. So a string
/// (any value but a member) copies every file; only the typed form
/// (`!!python/object/apply:flytekit.constants.CopyFileDetection`), or the
/// `LOADED_MODULES` that a `source_root` without a mode implies, is a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CopyMode {
    /// flytekit: the Python modules the running process imported from under
    /// source_root. pyflyte reads a spec file before it imports the user's
    /// workflow, so this is normally nothing; a caller that knows the loaded
    /// modules passes them (`ReadOptions::loaded_modules`).
    LoadedModules,
    /// Every file under source_root that no ignore file excludes.
    All,
    /// Nothing.
    NoCopy,
}

impl CopyMode {
    /// The spellings `--fix-flytekit-quirks` reads as members.
    pub const NAMES: [&'static str; 3] = ["all", "no_copy", "loaded_modules"];

    /// Parses `all` / `no_copy` / `loaded_modules` (any case; flytekit's member
    /// names `ALL`, `NO_COPY`, `LOADED_MODULES`, `CopyFileDetection.X`, and the
    /// CLI spellings `none` and `auto` too).
    pub fn parse(s: &str) -> Option<CopyMode> {
        let s = s.trim();
        let s = s.strip_prefix("CopyFileDetection.").unwrap_or(s);
        match s.to_ascii_lowercase().as_str() {
            "all" => Some(CopyMode::All),
            "no_copy" | "none" => Some(CopyMode::NoCopy),
            "loaded_modules" | "auto" => Some(CopyMode::LoadedModules),
            _ => None,
        }
    }

    /// The member with this value (`CopyFileDetection(value)`).
    pub fn from_value(value: i64) -> Option<CopyMode> {
        match value {
            1 => Some(CopyMode::LoadedModules),
            2 => Some(CopyMode::All),
            3 => Some(CopyMode::NoCopy),
            _ => None,
        }
    }

    /// The member a Python value is, if it is one.
    pub fn from_py(value: &PyValue) -> Option<CopyMode> {
        match value {
            PyValue::Enum {
                class: "CopyFileDetection",
                value,
                ..
            } => CopyMode::from_value(*value),
            _ => None,
        }
    }

    /// The enum member as flytekit's hash sees it.
    pub fn to_py(self) -> PyValue {
        let (member, value) = match self {
            CopyMode::LoadedModules => ("LOADED_MODULES", 1),
            CopyMode::All => ("ALL", 2),
            CopyMode::NoCopy => ("NO_COPY", 3),
        };
        PyValue::Enum {
            class: "CopyFileDetection",
            member,
            value,
        }
    }
}
