//! Shared helpers of the CLI test binaries (each uses some of them).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// The environment `cargo xtask e2e up` describes in `target/e2e/env`.
pub struct E2e {
    pub docker: String,
    pub registry: String,
    pub python_image: String,
    pub uv_image: String,
}

pub fn e2e() -> E2e {
    let var = |k: &str| {
        std::env::var(k).unwrap_or_else(|_| {
            panic!(
                "{k} is not set: run these tests with `cargo xtask e2e test` (or `cargo xtask ci`)"
            )
        })
    };
    let env = E2e {
        docker: var("IMAGESPEC_DOCKER"),
        registry: var("IMAGESPEC_E2E_REGISTRY"),
        python_image: var("IMAGESPEC_E2E_PYTHON_IMAGE"),
        uv_image: var("IMAGESPEC_E2E_UV_IMAGE"),
    };
    let info = Command::new(&env.docker)
        .arg("info")
        .output()
        .expect("the docker client runs");
    assert!(
        info.status.success(),
        "no Docker engine answers ({}): {}",
        env.docker,
        String::from_utf8_lossy(&info.stderr)
    );
    env
}

impl E2e {
    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new(&self.docker)
            .args(args)
            .output()
            .expect("docker runs")
    }

    pub fn docker_ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(
            out.status.success(),
            "docker {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}
