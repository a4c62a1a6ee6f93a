//! The two values flytekit takes from the Python process that runs it.
//!
//! - the Python version used when a spec sets none (flytekit: its own interpreter's);
//! - the flytekit requirement added to `requirements_uv.txt` (flytekit: its own version).
//!
//! imagespec takes them from flags or environment variables, else from
//! `python3` on PATH (and `flytekit==1.16.31`, the flytekit imagespec
//! reproduces, when that Python has no flytekit).

use std::process::Command;
use std::sync::{Arc, OnceLock};

use crate::error::{Error, Result};

/// Environment variable for the default Python version.
pub const ENV_DEFAULT_PYTHON: &str = "IMAGESPEC_DEFAULT_PYTHON";
/// Environment variable for the flytekit requirement.
pub const ENV_FLYTEKIT_REQUIREMENT: &str = "IMAGESPEC_FLYTEKIT_REQUIREMENT";
/// The flytekit whose behaviour imagespec reproduces.
pub const FLYTEKIT_VERSION: &str = "1.16.31";

/// Values flytekit would take from its own Python process.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PythonDefaults {
    /// `major.minor`, e.g. `3.11`.
    pub default_python: String,
    /// e.g. `flytekit==1.16.31`, or `flytekit`.
    pub flytekit_requirement: String,
}

/// [`PythonDefaults`] asked of `python3` only when first needed: a run that
/// renders no build context (a source push, a skipped image) never starts
/// an interpreter (about 0.1 s), and a missing `python3` is an error only
/// for a run that needs its answers.
#[derive(Debug, Clone)]
pub struct Defaults {
    given: (Option<String>, Option<String>),
    value: Arc<OnceLock<std::result::Result<PythonDefaults, String>>>,
}

impl Defaults {
    /// The given values; `python3` on PATH answers for a missing one.
    pub fn new(default_python: Option<String>, flytekit_requirement: Option<String>) -> Self {
        Defaults {
            given: (default_python, flytekit_requirement),
            value: Arc::new(OnceLock::new()),
        }
    }

    /// The values, asking `python3` the first time one is missing.
    pub fn get(&self) -> Result<&PythonDefaults> {
        let value = self.value.get_or_init(|| {
            let (python, flytekit) = self.given.clone();
            PythonDefaults::resolve(python, flytekit).map_err(|e| match e {
                Error::Environment(why) => why,
                other => other.to_string(),
            })
        });
        value
            .as_ref()
            .map_err(|why| Error::Environment(why.clone()))
    }
}

impl From<PythonDefaults> for Defaults {
    fn from(known: PythonDefaults) -> Self {
        Defaults {
            given: (
                Some(known.default_python.clone()),
                Some(known.flytekit_requirement.clone()),
            ),
            value: Arc::new(OnceLock::from(Ok(known))),
        }
    }
}

impl PythonDefaults {
    /// Uses the given values; asks `python3` on PATH for whichever is missing.
    pub fn resolve(
        default_python: Option<String>,
        flytekit_requirement: Option<String>,
    ) -> Result<Self> {
        Self::resolve_with(default_python, flytekit_requirement, "python3")
    }

    /// [`PythonDefaults::resolve`], asking the given Python interpreter.
    pub fn resolve_with(
        default_python: Option<String>,
        flytekit_requirement: Option<String>,
        python: &str,
    ) -> Result<Self> {
        if let (Some(p), Some(f)) = (&default_python, &flytekit_requirement) {
            return Ok(PythonDefaults {
                default_python: p.clone(),
                flytekit_requirement: f.clone(),
            });
        }
        let probe = match probe_python(python) {
            Ok(probe) => probe,
            // Only the requirement is missing: the flytekit imagespec reproduces.
            Err(_) if default_python.is_some() => {
                (String::new(), format!("flytekit=={FLYTEKIT_VERSION}"))
            }
            Err(why) => {
                return Err(Error::Environment(format!(
                    "cannot ask python3 for the values flytekit takes from its Python ({why}); set \
                     --default-python (or {ENV_DEFAULT_PYTHON}), e.g. 3.11"
                )))
            }
        };
        Ok(PythonDefaults {
            default_python: default_python.unwrap_or(probe.0),
            flytekit_requirement: flytekit_requirement.unwrap_or(probe.1),
        })
    }
}

/// Asks `python3` for its `major.minor` and installed flytekit version.
fn probe_python(python: &str) -> std::result::Result<(String, String), String> {
    const SCRIPT: &str = "import sys\n\
        print('%d.%d' % sys.version_info[:2])\n\
        try:\n    from importlib.metadata import version; v = version('flytekit')\n\
        except Exception:\n    v = ''\n\
        print(v)\n";
    let out = Command::new(python)
        .args(["-c", SCRIPT])
        .output()
        .map_err(|e| format!("`{python}` could not be run: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`{python}` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let py = lines.next().unwrap_or_default().trim().to_string();
    if py.is_empty() {
        return Err("python3 printed no version".into());
    }
    let fk = lines.next().unwrap_or_default().trim();
    // flytekit's get_flytekit_for_pypi: its own version, unpinned for a dev
    // version. Without a flytekit in python3, the one imagespec reproduces.
    let req = if fk.is_empty() {
        format!("flytekit=={FLYTEKIT_VERSION}")
    } else if fk.contains("dev") {
        "flytekit".to_string()
    } else {
        format!("flytekit=={fk}")
    };
    Ok((py, req))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_values_need_no_python_and_known_ones_are_kept() {
        let given = Defaults::new(Some("3.10".into()), Some("flytekit==1.0".into()));
        assert_eq!(given.get().unwrap().default_python, "3.10");
        let known = Defaults::from(PythonDefaults {
            default_python: "3.9".into(),
            flytekit_requirement: "flytekit".into(),
        });
        let copy = known.clone();
        assert_eq!(copy.get().unwrap().flytekit_requirement, "flytekit");
    }
}
