//! The poetry installer: `poetry install --no-root` from a `poetry.lock`.

use std::path::PathBuf;

use imagespec_core::{Plugin, Result, SpecError, SpecRef};
use imagespec_inputs::Inputs;
use imagespec_plan::installer::{Installer, InstallerRegistration, Role};
use imagespec_plan::{sh, EnvVar, Mount, PlanBuilder, Slot, Step, Word};
use imagespec_python_install::{
    add_lock_files, check_lock_file, lock_side_files, pip_install_args, requirements_file_named,
    uv_binary_mount, uv_cache_mount, venv_env, VENV,
};

/// Where poetry itself is installed when the spec sets `python_exec`.
pub const POETRY_VENV: &str = "/opt/poetry";

/// Registration priority: wins over the uv fallback when `requirements` is a `poetry.lock`.
pub const POETRY_LOCK_PRIORITY: i32 = 20;

/// `poetry install --no-root` from a `poetry.lock`.
#[derive(Debug, Clone, Copy)]
pub struct PoetryLockInstaller;

impl Plugin for PoetryLockInstaller {
    fn name(&self) -> &'static str {
        "poetry-lock"
    }
}

impl Installer for PoetryLockInstaller {
    fn role(&self) -> Role {
        Role::Packages
    }
    fn applies_to(&self, spec: SpecRef<'_>) -> bool {
        requirements_file_named(spec.spec, "poetry.lock").is_some()
    }
    fn side_files(&self, spec: SpecRef<'_>) -> Vec<PathBuf> {
        lock_side_files(spec, "poetry.lock")
    }
    fn validate(&self, spec: SpecRef<'_>, inputs: &Inputs) -> std::result::Result<(), SpecError> {
        check_lock_file(spec, inputs, "poetry.lock")
    }
    fn contribute(&self, spec: SpecRef<'_>, plan: &mut PlanBuilder<'_>) -> Result<()> {
        let mut mounts = vec![Mount::Cache {
            target: "/tmp/poetry_cache".into(),
            id: "poetry".into(),
        }];
        mounts.extend(add_lock_files(plan, "poetry.lock"));
        mounts.extend(plan.secret_mounts());
        // flytekit installs poetry with `uv pip install poetry` into UV_PYTHON,
        // which under `python_exec` is the venv poetry has yet to make, and
        // fails. There, poetry gets a venv of its own from the base Python.
        let (install_poetry, poetry) = match spec.python_exec() {
            None => (vec![sh("uv pip install poetry")], "poetry".to_string()),
            Some(python) => (
                vec![
                    sh("uv venv --python"),
                    Word::Arg(python.to_string()),
                    sh(&format!(
                        "{POETRY_VENV} && uv pip install --python {POETRY_VENV}/bin/python poetry"
                    )),
                ],
                format!("{POETRY_VENV}/bin/poetry"),
            ),
        };
        let mut script = vec![sh(&format!("{poetry} install"))];
        script.extend(pip_install_args(plan));
        script.push(sh(&format!("--no-root && chown -R flytekit {VENV}")));
        plan.add_steps(
            Slot::Packages,
            [
                Step::Run {
                    mounts: vec![uv_cache_mount(), uv_binary_mount()],
                    script: install_poetry,
                },
                Step::Env {
                    vars: vec![
                        EnvVar {
                            name: "POETRY_CACHE_DIR".into(),
                            value: "/tmp/poetry_cache".into(),
                        },
                        EnvVar {
                            name: "POETRY_VIRTUALENVS_IN_PROJECT".into(),
                            value: "true".into(),
                        },
                    ],
                },
                Step::Comment {
                    text: "poetry install does not work running in /, so we move to /root to create the venv".into(),
                },
                Step::Workdir { path: "/root".into() },
                Step::Run { mounts, script },
                Step::Workdir { path: "/".into() },
                Step::Comment {
                    text: "Update PATH and UV_PYTHON to point to venv".into(),
                },
                venv_env(),
            ],
        );
        Ok(())
    }
}

imagespec_core::inventory::submit!(InstallerRegistration::new(
    &PoetryLockInstaller,
    POETRY_LOCK_PRIORITY
));

/// Referenced by binaries so the linker keeps this crate's registrations
/// (and those of the shared crate).
pub fn link() {
    imagespec_python_install::link();
}
