//! `imagespec context` through the real binary.

use std::path::PathBuf;
use std::process::Command;

mod common;
use common::{imagespec, oracle_dir};

fn fixture(case: &str) -> PathBuf {
    oracle_dir().join(case).join("spec.yaml")
}

#[test]
fn writes_a_context_and_reports_it_as_json() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("ctx");
    let res = imagespec()
        .args(["context", "--json", "-o"])
        .arg(&dir)
        .arg(fixture("copy"))
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&res.stdout).unwrap();
    assert_eq!(json["image_name"], "copies:AS8tuvonIDqeg0KHM2n_bw");
    assert_eq!(
        json["files"],
        serde_json::json!([
            "Dockerfile",
            "assets/logo.txt",
            "assets/sub/more.txt",
            "files/config.json",
            "requirements_uv.txt"
        ])
    );
    assert!(dir.join("assets/sub/more.txt").is_file());
    assert_eq!(
        std::fs::read_to_string(dir.join("requirements_uv.txt")).unwrap(),
        "flytekit==1.16.31"
    );
}

#[test]
fn an_invalid_spec_exits_2_and_writes_nothing() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("ctx");
    let res = imagespec()
        .args(["context", "-o"])
        .arg(&dir)
        .arg(fixture("error-lock-and-packages"))
        .output()
        .unwrap();
    assert_eq!(
        res.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert!(!dir.exists());
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        0,
        "no temporary folder left"
    );
}

#[test]
fn missing_python_defaults_fail_with_the_flag_to_set() {
    let out = tempfile::tempdir().unwrap();
    let res = Command::new(env!("CARGO_BIN_EXE_imagespec"))
        .env_remove("IMAGESPEC_DEFAULT_PYTHON")
        .env_remove("IMAGESPEC_FLYTEKIT_REQUIREMENT")
        .env("PATH", "/nonexistent")
        .args(["context", "-o"])
        .arg(out.path().join("ctx"))
        .arg(fixture("minimal"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(1), "{stderr}");
    // The flytekit requirement has a default (the flytekit imagespec
    // reproduces); the Python version has none.
    assert!(stderr.contains("--default-python"), "{stderr}");
    assert!(!out.path().join("ctx").exists());
}

#[test]
fn source_files_are_hard_linked_unless_copy_is_asked_for() {
    use std::os::unix::fs::MetadataExt as _;
    let ino = |p: &std::path::Path| std::fs::metadata(p).unwrap().ino();
    let src = oracle_dir().join("copy/assets/logo.txt");
    // In the workspace's target folder: on the fixture's file system, where
    // a hard link is possible (across file systems the fallback is a copy).
    let out = tempfile::tempdir_in(oracle_dir().join("../../../target")).unwrap();
    for (flag, linked) in [(None, true), (Some("--copy"), false)] {
        let dir = out.path().join(format!("ctx{}", flag.unwrap_or("")));
        let mut cmd = imagespec();
        cmd.args(["context", "-o"]).arg(&dir);
        if let Some(flag) = flag {
            cmd.arg(flag);
        }
        let res = cmd.arg(fixture("copy")).output().unwrap();
        assert!(
            res.status.success(),
            "{}",
            String::from_utf8_lossy(&res.stderr)
        );
        let got = dir.join("assets/logo.txt");
        assert_eq!(std::fs::read(&got).unwrap(), std::fs::read(&src).unwrap());
        assert_eq!(ino(&got) == ino(&src), linked, "{flag:?}");
    }
}

#[test]
fn a_copy_entry_named_dockerfile_is_refused_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), "FROM elsewhere\n").unwrap();
    std::fs::write(
        dir.path().join("spec.yaml"),
        "name: dft\npython_version: \"3.11\"\ncopy: [Dockerfile]\n",
    )
    .unwrap();
    let out = dir.path().join("ctx");
    let res = imagespec()
        .args(["context", "-o"])
        .arg(&out)
        .arg(dir.path().join("spec.yaml"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{err}");
    assert!(
        err.contains("copy") && err.contains("`Dockerfile`"),
        "{err}"
    );
    assert!(!out.exists(), "nothing is left behind");
}
