//! Shared helpers of the CLI test binaries (each uses some of them).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The flytekit oracle cases.
pub fn oracle_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/oracle")
}

/// The `imagespec` binary with the oracle's Python defaults and no log filter.
pub fn imagespec() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_imagespec"));
    c.env("IMAGESPEC_DEFAULT_PYTHON", "3.11")
        .env("IMAGESPEC_FLYTEKIT_REQUIREMENT", "flytekit==1.16.31")
        .env_remove("IMAGESPEC_LOG");
    c
}

/// Runs `cmd build --json EXTRA SPEC`, asserts that it succeeded, and returns
/// the report (`{ok, images}`) and what it printed on stderr.
pub fn build_report(mut cmd: Command, extra: &[&str], spec: &Path) -> (serde_json::Value, String) {
    let out = cmd
        .args(["build", "--json"])
        .args(extra)
        .arg(spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "build failed:\n{stderr}");
    (
        serde_json::from_slice(&out.stdout).expect("JSON on stdout"),
        stderr,
    )
}
