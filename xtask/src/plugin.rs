//! The flytekit plugin's wheel (`python/flytekitplugins-imagespec`, built by
//! maturin with the `imagespec` binary inside) and the fresh virtualenv the
//! end-to-end test installs it into, with flytekit 1.16.31.
//!
//! - `target/maturin-venv`: maturin from PyPI, made once (idempotent).
//! - `target/wheels/`: the wheel, built each run (cargo reuses the debug
//!   build of the tests, so it costs seconds).
//! - `target/plugin-venv`: removed and made again each run, then one
//!   `pip install` of the wheel file (and flytekit 1.16.31), as a user would.

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

/// Builds the wheel into `target/wheels` and returns its path.
pub fn wheel(root: &Path) -> Result<PathBuf> {
    let maturin = maturin(root)?;
    let out = root.join("target/wheels");
    let _ = fs::remove_dir_all(&out);
    run_logged(
        Command::new(&maturin)
            .args(["build", "--out"])
            .arg(&out)
            .current_dir(root.join("python/flytekitplugins-imagespec")),
        "maturin build (python/flytekitplugins-imagespec)",
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

/// A fresh `target/plugin-venv` with the wheel and flytekit 1.16.31
/// installed by one `pip install`; returns its python.
pub fn fresh_venv(root: &Path) -> Result<PathBuf> {
    let wheel = wheel(root)?;
    let venv = root.join("target/plugin-venv");
    let _ = fs::remove_dir_all(&venv);
    run_logged(
        Command::new(base_python()).args(["-m", "venv"]).arg(&venv),
        "python3 -m venv target/plugin-venv",
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

/// `cargo xtask plugin`: builds the wheel and prints its path.
pub fn run(root: &Path) -> Result<()> {
    let wheel = wheel(root)?;
    #[allow(clippy::print_stdout)]
    {
        println!("{}", wheel.display());
    }
    Ok(())
}
