//! The uv installers: `uv pip install` from requirements and packages (into a
//! venv when the spec sets `python_exec`), and `uv sync` from a `uv.lock`.

use std::path::PathBuf;

use imagespec_core::{Plugin, Result, SpecError, SpecRef};
use imagespec_inputs::Inputs;
use imagespec_plan::installer::{Installer, InstallerRegistration, Role};
use imagespec_plan::{bind_mount, sh, FileContent, PlanBuilder, Slot, Step, Word};
use imagespec_python_install::{
    add_lock_files, base_has_venv, check_lock_file, lock_side_files, pip_install_args,
    requirements_file_named, uv_binary_mount, uv_cache_mount, venv_env, LOCK_FILES, VENV,
};

/// Registration priority of [`UvInstaller`]: the fallback for every spec.
pub const UV_PRIORITY: i32 = 0;
/// Registration priority of [`UvLockInstaller`]: wins when `requirements` is a `uv.lock`.
pub const UV_LOCK_PRIORITY: i32 = 20;
/// The requirements file uv installs from.
pub const REQUIREMENTS_FILE: &str = "requirements_uv.txt";

/// `uv pip install --requirement requirements_uv.txt`.
#[derive(Debug, Clone, Copy)]
pub struct UvInstaller;

/// flytekit's `_is_flytekit`: the requirement's leading `[\w-]+` is `flytekit`.
pub fn is_flytekit(requirement: &str) -> bool {
    let name: String = requirement
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    name == "flytekit"
}

/// The lines of `requirements_uv.txt`: the requirements file's lines (each
/// stripped), the packages, then the flytekit requirement unless one is listed.
pub fn requirements_lines(
    spec: SpecRef<'_>,
    inputs: &Inputs,
    flytekit_requirement: &str,
) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    if let Some(req) = &inputs.requirements {
        let text = String::from_utf8(req.bytes.clone()).map_err(|_| {
            SpecError::field(
                "requirements",
                format!("`{}` is not valid UTF-8", req.path.display()),
            )
            .hint("save the requirements file as UTF-8")
        })?;
        // Python reads text with universal newlines; readlines() keeps the line
        // ends and strip() removes them and any surrounding white space.
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        lines.extend(text.split_inclusive('\n').map(|l| l.trim().to_string()));
    }
    lines.extend(spec.packages().iter().cloned());
    if !lines.iter().any(|l| is_flytekit(l)) {
        lines.push(flytekit_requirement.to_string());
    }
    Ok(lines)
}

impl Plugin for UvInstaller {
    fn name(&self) -> &'static str {
        "uv"
    }
}

impl Installer for UvInstaller {
    fn role(&self) -> Role {
        Role::Packages
    }
    /// Every spec but those whose `requirements` is a lock file: flytekit
    /// hands `uv.lock` and `poetry.lock` (by base name) to their own steps, so
    /// this installer must not read them as a requirements list.
    fn applies_to(&self, spec: SpecRef<'_>) -> bool {
        LOCK_FILES
            .iter()
            .all(|lock| requirements_file_named(spec.spec, lock).is_none())
    }
    /// The requirements file becomes lines of `requirements_uv.txt`: one
    /// holding a line separator other than `\n` (which Python's readlines
    /// keeps, and other readers split at) is refused.
    fn validate(&self, _spec: SpecRef<'_>, inputs: &Inputs) -> std::result::Result<(), SpecError> {
        let Some(req) = &inputs.requirements else {
            return Ok(());
        };
        let text = String::from_utf8_lossy(&req.bytes);
        for (n, line) in text.lines().enumerate() {
            if let Some(c) = line
                .chars()
                .find(|c| matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}' | '\u{0b}' | '\u{0c}'))
            {
                return Err(SpecError::field(
                    "requirements",
                    format!(
                        "line {} of `{}` holds the line separator {c:?}",
                        n + 1,
                        req.path.display()
                    ),
                )
                .hint("remove it: requirements_uv.txt would be read as two lines there"));
            }
        }
        Ok(())
    }
    fn contribute(&self, spec: SpecRef<'_>, plan: &mut PlanBuilder<'_>) -> Result<()> {
        let lines = requirements_lines(spec, plan.inputs(), &plan.defaults().flytekit_requirement)?;
        plan.add_file(REQUIREMENTS_FILE, FileContent::Text(lines.join("\n")));
        let mut mounts = vec![
            uv_cache_mount(),
            uv_binary_mount(),
            bind_mount(REQUIREMENTS_FILE),
        ];
        mounts.extend(plan.secret_mounts());
        let mut args = pip_install_args(plan);
        args.extend([sh("--requirement"), sh(REQUIREMENTS_FILE)]);
        let steps = match spec.python_exec() {
            // PEP 668 base images refuse system installs: make a venv that
            // still sees the base image's packages.
            Some(python) => {
                // A base built by imagespec with python_exec already has the
                // venv, with its packages: keep it (flytekit makes it again,
                // which newer uv refuses and older uv does by dropping them).
                let keep = base_has_venv(plan.inputs());
                let mut script = vec![if keep {
                    sh(&format!("( [ -x {VENV}/bin/python ] || uv venv --python"))
                } else {
                    sh("uv venv --python")
                }];
                script.push(Word::Arg(python.to_string()));
                script.push(sh(&format!(
                    "--system-site-packages {VENV}{} && uv pip install --python {VENV}/bin/python",
                    if keep { " )" } else { "" }
                )));
                script.extend(args);
                // A kept venv is the base's layer: `chown -R` would copy all
                // of it into this one; only what this step added needs it.
                script.push(sh(&if keep {
                    format!(
                        "&& {{ find {VENV} ! -user flytekit -exec chown -h flytekit {{}} + \
                         || chown -R flytekit {VENV}; }}"
                    )
                } else {
                    format!("&& chown -R flytekit {VENV}")
                }));
                vec![
                    Step::Workdir {
                        path: "/root".into(),
                    },
                    Step::Run { mounts, script },
                    Step::Workdir { path: "/".into() },
                ]
            }
            None => {
                let mut script = vec![sh("uv pip install")];
                script.extend(args);
                vec![Step::Run { mounts, script }]
            }
        };
        plan.add_steps(Slot::Packages, steps);
        Ok(())
    }
}

/// `uv sync --locked --no-dev --no-install-project` from a `uv.lock`.
#[derive(Debug, Clone, Copy)]
pub struct UvLockInstaller;

impl Plugin for UvLockInstaller {
    fn name(&self) -> &'static str {
        "uv-lock"
    }
}

impl Installer for UvLockInstaller {
    fn role(&self) -> Role {
        Role::Packages
    }
    fn applies_to(&self, spec: SpecRef<'_>) -> bool {
        requirements_file_named(spec.spec, "uv.lock").is_some()
    }
    fn side_files(&self, spec: SpecRef<'_>) -> Vec<PathBuf> {
        lock_side_files(spec, "uv.lock")
    }
    fn validate(&self, spec: SpecRef<'_>, inputs: &Inputs) -> std::result::Result<(), SpecError> {
        check_lock_file(spec, inputs, "uv.lock")
    }
    fn contribute(&self, spec: SpecRef<'_>, plan: &mut PlanBuilder<'_>) -> Result<()> {
        plan.warn("uv.lock support is experimental");
        let mut mounts = vec![uv_cache_mount(), uv_binary_mount()];
        mounts.extend(add_lock_files(plan, "uv.lock"));
        mounts.extend(plan.secret_mounts());
        let mut script = vec![sh("uv sync")];
        if let Some(python) = spec.python_exec() {
            // flytekit points UV_PYTHON at the venv uv sync has yet to make,
            // and uv fails ("No interpreter found"); name the base Python.
            script.extend([sh("--python"), Word::Arg(python.to_string())]);
        }
        script.extend(pip_install_args(plan));
        script.push(sh(&format!(
            "--locked --no-dev --no-install-project && chown -R flytekit {VENV}"
        )));
        plan.add_steps(
            Slot::Packages,
            [
                Step::Workdir {
                    path: "/root".into(),
                },
                Step::Run { mounts, script },
                Step::Workdir { path: "/".into() },
                Step::Comment {
                    text: "Update PATH and UV_PYTHON to point to the venv created by uv sync"
                        .into(),
                },
                venv_env(),
            ],
        );
        Ok(())
    }
}

imagespec_core::inventory::submit!(InstallerRegistration::new(&UvInstaller, UV_PRIORITY));
imagespec_core::inventory::submit!(InstallerRegistration::new(
    &UvLockInstaller,
    UV_LOCK_PRIORITY
));

/// Referenced by binaries so the linker keeps this crate's registrations
/// (and those of the shared crate).
pub fn link() {
    imagespec_python_install::link();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flytekit_names_match_as_flytekit_matches_them() {
        assert!(is_flytekit("flytekit"));
        assert!(is_flytekit("flytekit==1.16.31"));
        assert!(is_flytekit("flytekit~=1.12"));
        assert!(is_flytekit("flytekit[extra]"));
        assert!(!is_flytekit("flytekitplugins-pod"));
        assert!(!is_flytekit("flytekit-plugins"));
        assert!(!is_flytekit(" flytekit"));
        assert!(!is_flytekit("Flytekit"));
    }
}
