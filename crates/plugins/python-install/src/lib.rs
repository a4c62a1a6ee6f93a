//! What the uv and poetry installers share, and the two installers every
//! flytekit layout has beside them:
//!
//! - `uv-tools` (toolbox): the uv helper stage (`builder_config.uv_image`),
//!   uv's variables in the image's environment, and uv for the spec's
//!   `commands`, as flytekit's template has them whatever installs the
//!   packages;
//! - `base-python` (Python): with `python_exec`, the packages go into a venv
//!   at `/root/.venv` made from the base image's Python, which is where the
//!   image's Python then lives;
//! - helpers: uv's cache and binary mounts, the install arguments from the
//!   spec's index settings, the venv's `ENV`, and lock files (`uv.lock`,
//!   `poetry.lock`) with their `pyproject.toml`.

use std::path::{Path, PathBuf};

use imagespec_core::{ImageSpec, Plugin, Result, SpecError, SpecRef};
use imagespec_inputs::Inputs;
use imagespec_plan::installer::{Installer, InstallerRegistration, Role};
use imagespec_plan::{bind_mount, env, FileContent, Mount, PlanBuilder, PythonRuntime, Step, Word};

/// flytekit's `DEFAULT_UV_IMAGE`.
pub const DEFAULT_UV_IMAGE: &str = "ghcr.io/astral-sh/uv:0.5.1";
/// `builder_config` key for the uv helper image.
pub const CONFIG_UV_IMAGE: &str = "uv_image";
/// Stage alias of the uv helper image.
pub const UV_STAGE: &str = "uv";
/// Where package installers put a venv (with `python_exec`, or from a lock file).
pub const VENV: &str = "/root/.venv";
/// The requirements file names flytekit installs with a lock-file step instead.
pub const LOCK_FILES: [&str; 2] = ["uv.lock", "poetry.lock"];

/// flytekit's uv cache mount.
pub fn uv_cache_mount() -> Mount {
    Mount::Cache {
        target: "/root/.cache/uv".into(),
        id: "uv".into(),
    }
}

/// flytekit's mount of the uv binary from the uv helper stage.
pub fn uv_binary_mount() -> Mount {
    Mount::From {
        from: UV_STAGE.into(),
        source: "/uv".into(),
        target: "/usr/bin/uv".into(),
    }
}

/// The install arguments common to every package installer, in flytekit's
/// order: `--index-url`, each `--extra-index-url`, then `pip_extra_args`.
///
/// An index URL with credentials is read from a build secret (see
/// [`PlanBuilder::index_url`]): the step must carry [`PlanBuilder::secret_mounts`].
pub fn pip_install_args(plan: &PlanBuilder<'_>) -> Vec<Word> {
    let spec = plan.spec();
    let mut w = Vec::new();
    if let Some(index) = spec.pip_index().filter(|s| !s.is_empty()) {
        w.push(Word::Shell("--index-url".into()));
        w.push(plan.index_url(index));
    }
    for url in spec.pip_extra_index_url() {
        w.push(Word::Shell("--extra-index-url".into()));
        w.push(plan.index_url(url));
    }
    if let Some(extra) = spec.pip_extra_args().filter(|s| !s.is_empty()) {
        // Several arguments by design, as in flytekit.
        w.push(Word::Shell(extra.into()));
    }
    w
}

/// `ENV PATH="<venv>/bin:$PATH" UV_PYTHON=<venv>/bin/python`, after a venv install.
pub fn venv_env() -> Step {
    Step::Env {
        vars: vec![
            env("PATH", &format!("{VENV}/bin:$PATH")),
            env("UV_PYTHON", &format!("{VENV}/bin/python")),
        ],
    }
}

/// Whether the base image already has the venv at [`VENV`]: it was built
/// (by imagespec, in this run or a nested one) from a spec with `python_exec`.
pub fn base_has_venv(inputs: &Inputs) -> bool {
    inputs
        .base
        .as_ref()
        .is_some_and(|b| b.built_from.iter().any(|s| s.python_exec().is_some()))
}

/// The lock file a spec's `requirements` names, if its file name is `lock_name`
/// (flytekit compares `os.path.basename`).
pub fn requirements_file_named<'a>(spec: &'a ImageSpec, lock_name: &str) -> Option<&'a str> {
    spec.requirements()
        .filter(|r| Path::new(r).file_name().is_some_and(|n| n == lock_name))
}

/// The `pyproject.toml` beside a lock file the spec names.
fn pyproject_of(lock: &str) -> PathBuf {
    Path::new(lock).with_file_name("pyproject.toml")
}

/// The side file a lock-file installer needs to know about: the
/// `pyproject.toml` beside the lock file.
pub fn lock_side_files(spec: SpecRef<'_>, lock_name: &str) -> Vec<PathBuf> {
    requirements_file_named(spec.spec, lock_name)
        .map(pyproject_of)
        .into_iter()
        .collect()
}

/// flytekit's checks for a lock-file installer: no `packages` beside the lock
/// file, and a `pyproject.toml` in the lock file's folder.
pub fn check_lock_file(
    spec: SpecRef<'_>,
    inputs: &Inputs,
    lock_name: &str,
) -> std::result::Result<(), SpecError> {
    let Some(req) = requirements_file_named(spec.spec, lock_name) else {
        return Ok(());
    };
    if spec.packages_raw().is_some() {
        return Err(SpecError::field(
            "packages",
            format!("Support for {lock_name} files and packages is mutually exclusive"),
        )
        .hint(format!(
            "add the packages to the project whose {lock_name} you give, or remove `packages`"
        )));
    }
    if !inputs.side_file(&pyproject_of(req)) {
        return Err(SpecError::field(
            "requirements",
            format!("To use {lock_name}, a pyproject.toml file must be in the same directory as the lock file"),
        )
        .hint(format!(
            "put the project's pyproject.toml next to `{}`",
            spec.resolve(req).display()
        )));
    }
    Ok(())
}

/// Copies the lock file the spec names and the `pyproject.toml` beside it
/// into the context, and returns their bind mounts, in flytekit's order.
pub fn add_lock_files(plan: &mut PlanBuilder<'_>, lock_name: &str) -> Vec<Mount> {
    let spec = plan.spec();
    let lock = requirements_file_named(spec.spec, lock_name).unwrap_or(lock_name);
    let (lock_path, pyproject) = (
        spec.resolve(lock),
        spec.resolve(&pyproject_of(lock).to_string_lossy()),
    );
    plan.add_file(lock_name, FileContent::Copy(lock_path));
    plan.add_file("pyproject.toml", FileContent::Copy(pyproject));
    vec![bind_mount(lock_name), bind_mount("pyproject.toml")]
}

/// The uv helper stage, uv's variables, and uv for `commands`.
#[derive(Debug, Clone, Copy)]
pub struct UvTools;

/// Registration priority of [`UvTools`]: its stage comes first, as in flytekit.
pub const UV_TOOLS_PRIORITY: i32 = 20;

impl Plugin for UvTools {
    fn name(&self) -> &'static str {
        "uv-tools"
    }
}

impl Installer for UvTools {
    fn role(&self) -> Role {
        Role::Toolbox
    }
    fn applies_to(&self, _spec: SpecRef<'_>) -> bool {
        true
    }
    fn validate(&self, spec: SpecRef<'_>, _inputs: &Inputs) -> std::result::Result<(), SpecError> {
        imagespec_core::spec::check_image_config(spec.spec, CONFIG_UV_IMAGE)
    }
    fn contribute(&self, spec: SpecRef<'_>, plan: &mut PlanBuilder<'_>) -> Result<()> {
        plan.add_stage(
            UV_STAGE,
            spec.builder_config_str(CONFIG_UV_IMAGE)
                .unwrap_or(DEFAULT_UV_IMAGE),
        );
        let python = plan.python().map(|p| p.exec.clone()).unwrap_or_default();
        plan.add_runtime_env([
            env("UV_PYTHON", &python),
            env("UV_COMPILE_BYTECODE", "1"),
            env("UV_LINK_MODE", "copy"),
        ]);
        plan.add_command_mounts([uv_cache_mount(), uv_binary_mount()]);
        Ok(())
    }
}

/// With `python_exec`: the image's Python is the venv the packages go into.
#[derive(Debug, Clone, Copy)]
pub struct BasePython;

/// Registration priority of [`BasePython`].
pub const BASE_PYTHON_PRIORITY: i32 = 20;

impl Plugin for BasePython {
    fn name(&self) -> &'static str {
        "base-python"
    }
}

impl Installer for BasePython {
    fn role(&self) -> Role {
        Role::Python
    }
    fn applies_to(&self, spec: SpecRef<'_>) -> bool {
        spec.python_exec().is_some()
    }
    /// flytekit's `prepare_python_executable`: conda has no place beside a
    /// base image's own Python.
    fn validate(&self, spec: SpecRef<'_>, _inputs: &Inputs) -> std::result::Result<(), SpecError> {
        for (field, set) in [
            ("conda_channels", !spec.conda_channels().is_empty()),
            ("conda_packages", !spec.conda_packages().is_empty()),
        ] {
            if set {
                return Err(SpecError::field(
                    field,
                    format!("{field} is not supported with python_exec"),
                )
                .hint(format!(
                    "remove {field}, or remove python_exec to get Python from conda"
                )));
            }
        }
        Ok(())
    }
    fn contribute(&self, _spec: SpecRef<'_>, plan: &mut PlanBuilder<'_>) -> Result<()> {
        plan.set_python(PythonRuntime {
            exec: format!("{VENV}/bin/python"),
            bin_dir: format!("{VENV}/bin"),
        });
        Ok(())
    }
}

imagespec_core::inventory::submit!(InstallerRegistration::new(&UvTools, UV_TOOLS_PRIORITY));
imagespec_core::inventory::submit!(InstallerRegistration::new(
    &BasePython,
    BASE_PYTHON_PRIORITY
));

/// Referenced by the installer crates (and binaries) so the linker keeps
/// this crate's registrations.
pub fn link() {}
