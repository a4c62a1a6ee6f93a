//! What the command line prints, and how it ends: colours (`--color`,
//! `NO_COLOR`, on a real terminal through `script`), usage errors (64),
//! `--help` and `--version`, a closed stdout, errors printed once,
//! completions, and `build --dry-run` listing nested bases.

mod common;

use std::path::Path;
use std::process::Command;

use common::imagespec;

const ESC: &str = "\u{1b}[";

/// Whether `text` holds a colour (an SGR sequence such as `ESC[1;33m`);
/// a spinner's cursor movements are no colour.
fn coloured(text: &str) -> bool {
    text.split(ESC).skip(1).any(|rest| {
        let code: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == ';')
            .collect();
        rest[code.len()..].starts_with('m')
    })
}

/// A spec with a lint finding (`FLAG: yes`) and a registry nothing answers.
fn spec_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("spec.yaml"),
        "name: out\npython_version: \"3.12\"\npackages: [flytekit==1.16.31]\nregistry: localhost:9\nenv:\n  FLAG: yes\n",
    )
    .unwrap();
    dir
}

fn bin() -> String {
    env!("CARGO_BIN_EXE_imagespec").to_string()
}

/// Runs a shell line on a pseudo-terminal (util-linux `script`), so that
/// stderr is a terminal; what the terminal showed.
fn on_a_terminal(dir: &Path, line: &str) -> String {
    let out = Command::new("script")
        .args(["-qec", line, "/dev/null"])
        .current_dir(dir)
        .env("IMAGESPEC_DEFAULT_PYTHON", "3.11")
        .env("IMAGESPEC_FLYTEKIT_REQUIREMENT", "flytekit==1.16.31")
        .env("TERM", "xterm")
        .output()
        .expect("util-linux `script` runs (it gives the test a terminal)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn warnings_are_coloured_on_a_terminal_unless_no_color_or_never() {
    let dir = spec_dir();
    let plain = format!("{} tag spec.yaml", bin());
    let shown = on_a_terminal(dir.path(), &plain);
    assert!(
        shown.contains("warning") && coloured(&shown),
        "coloured on a terminal: {shown:?}"
    );
    let shown = on_a_terminal(dir.path(), &format!("NO_COLOR=1 {plain}"));
    assert!(shown.contains("warning"), "{shown:?}");
    assert!(!coloured(&shown), "NO_COLOR: no colour at all: {shown:?}");
    let shown = on_a_terminal(dir.path(), &format!("{plain} --color never"));
    assert!(!coloured(&shown), "--color never: {shown:?}");
    // Log lines (tracing) follow it too: -v prints INFO lines.
    let shown = on_a_terminal(dir.path(), &format!("NO_COLOR=1 {plain} -v"));
    assert!(
        shown.contains("INFO") || shown.contains("WARN") || shown.contains("warning"),
        "{shown:?}"
    );
    assert!(!coloured(&shown), "NO_COLOR covers log lines: {shown:?}");
    // --color always colours a pipe, NO_COLOR or not.
    let out = imagespec()
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args(["tag", "spec.yaml", "--color", "always"])
        .output()
        .unwrap();
    assert!(coloured(&String::from_utf8_lossy(&out.stderr)));
    // Into a pipe, by default: no colour and no spinner.
    let out = imagespec()
        .current_dir(dir.path())
        .args(["tag", "spec.yaml"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains(ESC));
}

#[test]
fn usage_errors_exit_64_and_help_and_version_exit_0() {
    for args in [
        &["tag"][..],
        &["tag", "--no-such-flag", "x.yaml"],
        &["no-such-command"],
        &["build", "--show", "dockerfile", "x.yaml"],
        &["completions", "tcsh"],
        &[],
    ] {
        let out = imagespec().args(args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(64),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{args:?}: no JSON was asked for");
    }
    // Asked for JSON: the error object.
    let out = imagespec()
        .args(["lint", "--list", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["error"]["kind"], "usage", "{doc}");
    for args in [
        &["--help"][..],
        &["-h"],
        &["tag", "--help"],
        &["--version"],
        &["-V"],
    ] {
        let out = imagespec().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
    }
    let help = imagespec().args(["build", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("Examples:") && help.contains("Exit codes:"),
        "{help}"
    );
    let help = imagespec().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for code in ["0 ", "1 ", "2 ", "3 ", "4 ", "5 ", "64 ", "130 "] {
        assert!(
            help.contains(&format!("\n  {code}")),
            "--help lists exit code {code}: {help}"
        );
    }
}

#[test]
fn version_lists_the_compiled_in_plugins() {
    let out = imagespec().arg("--version").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for line in ["builders: default, noop", "installers: ", "checkers: oci"] {
        assert!(text.contains(line), "{text}");
    }
    assert!(
        text.contains("uv (packages)") && text.contains("micromamba (python)"),
        "{text}"
    );
}

#[test]
fn no_command_offers_a_flag_it_ignores() {
    let help = |cmd: &str| {
        let out = imagespec().args([cmd, "--help"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(!help("tag").contains("--default-python"));
    assert!(!help("tag").contains("--buildkit"));
    let exists = help("exists");
    assert!(
        exists.contains("--docker ")
            && !exists.contains("--buildkit")
            && !exists.contains("--build-network"),
        "{exists}"
    );
    for cmd in ["plugins", "schema", "completions"] {
        let h = help(cmd);
        assert!(
            !h.contains("--no-cache") && !h.contains("--fix-flytekit-quirks"),
            "{cmd}: {h}"
        );
    }
}

#[test]
fn a_closed_stdout_ends_quietly() {
    // The reader is gone before imagespec writes: its writes fail with EPIPE.
    for cmd in ["completions bash", "schema", "plugins", "lint --list"] {
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "set -o pipefail; (sleep 0.3; exec {} {cmd}) | true",
                bin()
            ))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{cmd}");
        assert!(
            out.stderr.is_empty(),
            "{cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn completions_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef imagespec"),
        ("fish", "complete -c imagespec"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = imagespec().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(marker) && text.contains("explain"),
            "{shell}: {text}"
        );
    }
}

#[test]
fn a_failed_build_says_each_error_once_and_dry_run_lists_nested_bases() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("spec.yaml"),
        "name: child\npython_version: \"3.12\"\npackages: [flytekit==1.16.31]\nregistry: localhost:9\n\
         base_image:\n  name: base\n  python_version: \"3.12\"\n  registry: localhost:9\n  apt_packages: [git]\n",
    )
    .unwrap();
    let out = imagespec()
        .current_dir(dir.path())
        .args(["build", "--dry-run", "--buildkit", "builtin", "spec.yaml"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "the nested base and the spec: {stdout}");
    assert!(
        lines[0].starts_with("localhost:9/base:") && lines[0].contains("(nested base)"),
        "{stdout}"
    );
    assert!(lines[1].starts_with("localhost:9/child:"), "{stdout}");
    assert!(
        lines.iter().all(|l| l.contains("would build+push")),
        "{stdout}"
    );

    // A build that fails (no docker client at that path): each image's error once.
    let out = imagespec()
        .current_dir(dir.path())
        .args([
            "build",
            "--fast-fail",
            "--docker",
            "/nonexistent/docker",
            "--builder",
            "default",
            "spec.yaml",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    let mut unique = errors.clone();
    unique.sort();
    unique.dedup();
    assert!(!errors.is_empty(), "{stderr}");
    assert_eq!(
        errors.len(),
        unique.len(),
        "an error printed twice:\n{stderr}"
    );
}
