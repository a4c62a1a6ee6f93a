//! The flytekit plugin's wheel (`python/flytekitplugins-imagespec`, built by
//! maturin with the `imagespec` binary inside) and the fresh virtualenv the
//! end-to-end tests install it into, with flytekit 1.16.31.
//!
//! - `target/maturin-venv`: maturin from PyPI, made once (idempotent).
//! - `target/wheels/`: the release wheel users install (`cargo xtask plugin`).
//! - `target/wheels-dev/`: the wheel the tests install, built each run in the
//!   dev profile (cargo reuses the debug build of the tests, so it costs
//!   seconds).
//! - `target/e2e-project/.venv`: the virtualenv of a Flyte project, inside
//!   the project folder as real projects keep theirs. The whole folder is
//!   removed and the venv made again each run, then one `pip install` of the
//!   wheel file (and flytekit 1.16.31), as a user would. The e2e tests run
//!   flytekit with its python (`IMAGESPEC_PLUGIN_PYTHON`);
//!   `e2e_flytekit_project` copies a project
//!   (`tests/fixtures/projects/flyte-app`) into the folder beside the venv
//!   and runs `pyflyte` there.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::flytekit::{run_logged, BASE_PYTHON_ENV, FLYTEKIT_VERSION};

const MATURIN: &str = "maturin>=1.7,<2";

fn base_python() -> String {
    std::env::var(BASE_PYTHON_ENV).unwrap_or_else(|_| "python3".into())
}

/// `target/maturin-venv/bin/maturin`, made when missing.
fn maturin(root: &Path) -> Result<PathBuf> {
    let venv = root.join("target/maturin-venv");
    let bin = venv.join("bin/maturin");
    let works = Command::new(&bin)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if works {
        return Ok(bin);
    }
    let _ = fs::remove_dir_all(&venv);
    run_logged(
        Command::new(base_python()).args(["-m", "venv"]).arg(&venv),
        "python3 -m venv target/maturin-venv",
    )?;
    run_logged(
        Command::new(venv.join("bin/pip")).args(["install", "-q", MATURIN]),
        &format!("pip install {MATURIN}"),
    )?;
    Ok(bin)
}

/// How the wheel's binary is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// What users install (`cargo xtask plugin`).
    Release,
    /// For the tests: reuses the debug build the test run made, in seconds.
    Dev,
}

/// Builds the wheel into `target/wheels` (`target/wheels-dev` for the dev
/// profile) and returns its path.
pub fn wheel(root: &Path, profile: Profile) -> Result<PathBuf> {
    let maturin = maturin(root)?;
    let (out, flag, what) = match profile {
        Profile::Release => (
            root.join("target/wheels"),
            "--release",
            "maturin build --release",
        ),
        Profile::Dev => (
            root.join("target/wheels-dev"),
            "--profile=dev",
            "maturin build --profile=dev",
        ),
    };
    let _ = fs::remove_dir_all(&out);
    run_logged(
        Command::new(&maturin)
            .args(["build", flag, "--out"])
            .arg(&out)
            .current_dir(root.join("python/flytekitplugins-imagespec")),
        &format!("{what} (python/flytekitplugins-imagespec)"),
    )?;
    let wheels: Vec<PathBuf> = fs::read_dir(&out)
        .with_context(|| format!("cannot read {}", out.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "whl"))
        .collect();
    match wheels.as_slice() {
        [one] => Ok(one.clone()),
        other => bail!("expected one wheel in {}, found {other:?}", out.display()),
    }
}

/// The project folder of the plugin's end-to-end tests, under the workspace
/// root; its virtualenv is `.venv` inside it.
pub const E2E_PROJECT: &str = "target/e2e-project";

/// A fresh `target/e2e-project` holding only `.venv`, with the wheel and
/// flytekit 1.16.31 installed by one `pip install`; returns its python.
pub fn fresh_venv(root: &Path) -> Result<PathBuf> {
    let wheel = wheel(root, Profile::Dev)?;
    let project = root.join(E2E_PROJECT);
    remove_dir(&project)?;
    // Where this venv lived before it moved into the project.
    remove_dir(&root.join("target/plugin-venv"))?;
    fs::create_dir_all(&project).with_context(|| format!("cannot create {}", project.display()))?;
    let venv = project.join(".venv");
    run_logged(
        Command::new(base_python()).args(["-m", "venv"]).arg(&venv),
        &format!("python3 -m venv {E2E_PROJECT}/.venv"),
    )?;
    run_logged(
        Command::new(venv.join("bin/pip"))
            .args(["install", "-q"])
            .arg(&wheel)
            .arg(format!("flytekit=={FLYTEKIT_VERSION}")),
        &format!(
            "pip install {} flytekit=={FLYTEKIT_VERSION}",
            wheel.display()
        ),
    )?;
    Ok(venv.join("bin/python"))
}

/// Removes a folder of ours and what it holds; a missing one is fine.
fn remove_dir(dir: &Path) -> Result<()> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", dir.display()))
        }
        _ => Ok(()),
    }
}

/// `cargo xtask plugin`: builds the release wheel and prints its path.
pub fn run(root: &Path) -> Result<()> {
    let wheel = wheel(root, Profile::Release)?;
    #[allow(clippy::print_stdout)]
    {
        println!("{}", wheel.display());
    }
    Ok(())
}
