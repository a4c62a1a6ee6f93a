//! `cargo xtask`: the project's own automation.
//!
//! - `cargo xtask ci`: everything CI runs: formatting, the generated docs,
//!   lints, the e2e environment, every test suite (e2e included), then the
//!   environment down if `ci` brought it up.
//! - `cargo xtask test`: the suites that need no engine (with the live
//!   comparison against real flytekit, whose venv it makes first).
//! - `cargo xtask e2e up|down|test`: the end-to-end environment (idempotent).
//! - `cargo xtask bench`: timings of the release binary on generated inputs.
//! - `cargo xtask flytekit`: the venv with real flytekit for the differential test.
//! - `cargo xtask plugin`: the flytekit plugin's wheel (maturin).
//! - `cargo xtask docs [--check]`: the generated docs (CLI, schema, spec
//!   reference); `cargo xtask man`: the man pages.

mod bench;
mod daemon;
mod docs;
mod e2e;
mod flytekit;
mod plugin;
mod remote;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "xtask")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Formatting, clippy, the e2e environment and every test suite: what `.ci/run` runs.
    Ci,
    /// The test suites that need no Docker engine.
    Test,
    /// Time the release binary on generated inputs (prints a Markdown table).
    Bench,
    /// Make target/flytekit-venv with flytekit 1.16.31 (idempotent); prints its python.
    Flytekit,
    /// Build the flytekit plugin's release wheel (maturin) into target/wheels; prints its path.
    Plugin,
    /// Write the generated docs (docs/cli.md, docs/spec.schema.json, the field
    /// section of docs/spec-reference.md) and the man pages (target/man).
    Docs {
        /// Write nothing; fail when a committed copy is stale.
        #[arg(long)]
        check: bool,
    },
    /// Write the man pages into DIR (default: target/man).
    Man {
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// The end-to-end environment.
    E2e {
        #[command(subcommand)]
        action: E2eAction,
    },
}

#[derive(Debug, Subcommand)]
enum E2eAction {
    /// Install and start the engine and registry, make the base images (idempotent).
    Up,
    /// Stop what `up` started.
    Down,
    /// Bring the environment up and run the e2e suites.
    Test,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let root = root();
    match cli.command {
        Cmd::Ci => {
            cargo(&root, &["fmt", "--all", "--check"], &[])
                .context("run `cargo fmt --all` and commit the result")?;
            eprintln!("xtask: docs --check");
            docs::run(&root, true)?;
            machete(&root)?;
            cargo(
                &root,
                &[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--all-features",
                    "--",
                    "-D",
                    "warnings",
                ],
                &[],
            )?;
            // The minimal feature set: the core stands alone, and registers nothing.
            cargo(
                &root,
                &[
                    "test",
                    "-p",
                    "imagespec-cli",
                    "--no-default-features",
                    "--test",
                    "plugins",
                ],
                &[],
            )?;
            // Without the registry checker and the poetry installer: specs
            // that need them fail naming the feature.
            cargo(
                &root,
                &[
                    "test",
                    "-p",
                    "imagespec-cli",
                    "--no-default-features",
                    "--features",
                    "docker,noop,uv,micromamba",
                    "--test",
                    "plugins",
                ],
                &[],
            )?;
            // Left as found: an environment that was up stays up.
            let was_up = e2e::is_up(&root);
            if let Err(e) = e2e::up(&root) {
                if !was_up {
                    let _ = e2e::down(&root);
                }
                return Err(e);
            }
            let result = test(&root, true);
            if !was_up {
                e2e::down(&root)?;
            }
            result
        }
        Cmd::Test => test(&root, false),
        Cmd::Docs { check } => docs::run(&root, check),
        Cmd::Man { out } => docs::man(&out.unwrap_or_else(|| root.join("target/man"))),
        Cmd::Bench => bench::run(&root),
        Cmd::Flytekit => flytekit::run(&root),
        Cmd::Plugin => plugin::run(&root),
        Cmd::E2e { action } => match action {
            E2eAction::Up => e2e::up(&root),
            E2eAction::Down => e2e::down(&root),
            E2eAction::Test => {
                e2e::up(&root)?;
                e2e_suites(&root)
            }
        },
    }
}

/// The suites that need the e2e environment.
const E2E_TESTS: &[&str] = &[
    "test",
    // Every suite runs and reports, even after one fails: a CI log then
    // names all that failed, not only the first suite's tests.
    "--no-fail-fast",
    "-p",
    "imagespec-cli",
    "-p",
    "imagespec-tests",
    "--features",
    "imagespec-cli/e2e,imagespec-tests/e2e",
    "--test",
    "e2e_build",
    "--test",
    "e2e_source_push",
    "--test",
    "e2e_podman",
    "--test",
    "e2e_remote",
    "--test",
    "registry_checks",
    "--test",
    "e2e_explain",
    "--test",
    "e2e_quickstart",
    "--test",
    "e2e_flytekit_plugin",
    "--test",
    "e2e_flytekit_project",
    "--test",
    "e2e_interrupts",
    "--test",
    "registry_harness_selftest",
];

fn e2e_env(root: &Path) -> Result<Vec<(String, String)>> {
    let mut env = e2e::env_vars(root)?;
    // The image-parity test builds real flytekit's Dockerfile too.
    let python = flytekit::ensure_venv(root)?;
    env.push((
        "IMAGESPEC_FLYTEKIT_PYTHON".into(),
        python.display().to_string(),
    ));
    // The flytekit plugin's wheel, in a fresh venv with flytekit, inside a
    // project folder (target/e2e-project/.venv) as a Flyte project keeps it.
    let plugin_python = plugin::fresh_venv(root)?;
    env.push((
        "IMAGESPEC_PLUGIN_PYTHON".into(),
        plugin_python.display().to_string(),
    ));
    // The e2e suites fail, not skip, when this is set and the engine is missing.
    env.push(("IMAGESPEC_E2E".into(), "1".into()));
    Ok(env)
}

/// The live comparison with real flytekit, and the property tests checked
/// with BuildKit's own parser (both need the venv `cargo xtask flytekit` makes).
const FLYTEKIT_TESTS: &[&str] = &[
    "test",
    "-p",
    "imagespec-tests",
    "--features",
    "flytekit",
    "--test",
    "flytekit_differential",
    "--test",
    "properties",
    "--test",
    "flytekit_unit_tests",
    "--",
    "--nocapture",
];

/// Cases per property in CI: enough to find what the corpus of bad specs
/// holds, a few seconds on two cores.
const PROPTEST_CASES: &str = "3000";

/// Fails when a crate declares a dependency it does not use (cargo-machete,
/// installed from crates.io the first time).
fn machete(root: &Path) -> Result<()> {
    let run = || Command::new("cargo-machete").arg(root).status();
    if run().is_err() {
        cargo(
            root,
            &["install", "cargo-machete", "--locked", "--version", "0.9.2"],
            &[],
        )?;
    }
    eprintln!("xtask: cargo-machete {}", root.display());
    let status = run().context("cannot run cargo-machete")?;
    if !status.success() {
        bail!("cargo-machete found unused dependencies ({status}): remove the ones it names");
    }
    Ok(())
}

fn test(root: &Path, with_e2e: bool) -> Result<()> {
    cargo(root, &["test", "--workspace", "--all-targets"], &[])?;
    cargo(root, &["test", "--workspace", "--doc"], &[])?;
    let python = flytekit::ensure_venv(root)?;
    let python = python.display().to_string();
    // The binary the workspace's tests just built (flytekit's unit tests run
    // it through the plugin's hand-over), so that no second build is made.
    let bin = root.join("target/debug/imagespec").display().to_string();
    cargo(
        root,
        FLYTEKIT_TESTS,
        &[
            ("IMAGESPEC_FLYTEKIT_PYTHON", &python),
            ("IMAGESPEC_PROPTEST_CASES", PROPTEST_CASES),
            ("IMAGESPEC_BIN", &bin),
        ],
    )?;
    // The flytekit plugin's typed hand-over, with real flytekit.
    cargo(
        root,
        &[
            "test",
            "-p",
            "imagespec-cli",
            "--features",
            "flytekit",
            "--test",
            "flytekit_plugin_handover",
        ],
        &[("IMAGESPEC_FLYTEKIT_PYTHON", &python)],
    )?;
    if with_e2e {
        e2e_suites(root)?;
    }
    Ok(())
}

/// The e2e suites, in the environment `e2e::up` made; when one fails,
/// what that environment looked like is printed after them.
fn e2e_suites(root: &Path) -> Result<()> {
    let env = e2e_env(root)?;
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let result = cargo(root, E2E_TESTS, &env);
    if result.is_err() {
        e2e::report(root);
    }
    result
}

fn cargo(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("xtask: cargo {}", args.join(" "));
    let mut cmd = Command::new(&cargo);
    if args.first() == Some(&"test") {
        // A failing test's message (an e2e test's ends with what imagespec
        // said) and its location are what a CI log needs; a backtrace per
        // failure would push them out of the log's tail.
        cmd.env("RUST_BACKTRACE", "0");
    }
    let status = cmd
        .args(args)
        .current_dir(root)
        .envs(env.iter().copied())
        .status()
        .with_context(|| format!("cannot run {cargo}"))?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}
