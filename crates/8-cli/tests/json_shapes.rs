//! The JSON documents `--json` prints, one per command, in their common
//! envelope (`schema_version`, `command`, `ok`, then the command's fields;
//! an `error` object on failure), as snapshots. `docs/json.md` describes
//! them; a change of shape changes these snapshots and must bump
//! `schema_version` where it breaks a reader.

mod common;

use std::path::Path;
use std::process::Output;

use common::imagespec;
use serde_json::Value;

/// A spec folder with a source tree and a requirements file, its registry
/// on a loopback port where nothing listens (so checks say "unknown").
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir(p.join("src")).unwrap();
    std::fs::write(p.join("src/app.py"), "print('hi')\n").unwrap();
    std::fs::write(p.join("requirements.txt"), "six==1.16.0\n").unwrap();
    std::fs::write(
        p.join("spec.yaml"),
        "name: shapes\npython_version: \"3.12\"\nregistry: localhost:9\nsource_root: src\n\
         source_copy_mode: all\nrequirements: requirements.txt\npackages: [flytekit==1.16.31]\n\
         env:\n  FLAG: yes\n",
    )
    .unwrap();
    dir
}

/// Runs the binary in `dir` and parses stdout; temp paths become `[DIR]`
/// and times 0, so the snapshot holds only the shape and stable values.
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let out: Output = imagespec()
        .current_dir(dir)
        .env("IMAGESPEC_CACHE_DIR", dir.join(".cache"))
        .env("IMAGESPEC_FAST_FAIL", "0")
        .env_remove("FLYTE_IMG_FAST_FAIL")
        .env_remove("NO_COLOR")
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace(&dir.display().to_string(), "[DIR]");
    let mut doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "{args:?}: stdout is no JSON ({e}):\n{text}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    zero_times(&mut doc);
    (out.status.code(), doc)
}

fn zero_times(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if k == "time" {
                    *v = Value::from(0.0);
                } else {
                    zero_times(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(zero_times),
        _ => {}
    }
}

fn envelope_ok(doc: &Value, command: &str, ok: bool) {
    assert_eq!(doc["schema_version"], 1, "{doc}");
    assert_eq!(doc["command"], command, "{doc}");
    assert_eq!(doc["ok"], ok, "{doc}");
}

#[test]
fn tag() {
    let dir = project();
    let (code, doc) = run(dir.path(), &["tag", "--json", "spec.yaml"]);
    assert_eq!(code, Some(0));
    envelope_ok(&doc, "tag", true);
    insta::assert_json_snapshot!(doc);
}

#[test]
fn context() {
    let dir = project();
    let (code, doc) = run(dir.path(), &["context", "--json", "-o", "ctx", "spec.yaml"]);
    assert_eq!(code, Some(0));
    envelope_ok(&doc, "context", true);
    insta::assert_json_snapshot!(doc);
}

#[test]
fn build_dry_run_with_dockerfile_and_command() {
    let dir = project();
    let (code, doc) = run(
        dir.path(),
        &[
            "build",
            "--json",
            "--dry-run",
            "--show",
            "dockerfile,command",
            "--buildkit",
            "builtin",
            "--docker",
            "docker",
            // Docker's commands, whichever builder this machine has.
            "--builder",
            "default",
            "spec.yaml",
        ],
    );
    assert_eq!(code, Some(0), "{doc}");
    envelope_ok(&doc, "build", true);
    insta::assert_json_snapshot!(doc);
}

#[test]
fn build_context_only_keeps_the_build_shape() {
    let dir = project();
    let (code, doc) = run(
        dir.path(),
        &[
            "build",
            "--json",
            "--context-only",
            "--keep-context",
            "kept",
            "spec.yaml",
        ],
    );
    assert_eq!(code, Some(0), "{doc}");
    envelope_ok(&doc, "build", true);
    insta::assert_json_snapshot!(doc);
}

#[test]
fn exists_unknown() {
    let dir = project();
    let (code, doc) = run(dir.path(), &["exists", "--json", "spec.yaml"]);
    assert_eq!(code, Some(4), "{doc}");
    envelope_ok(&doc, "exists", false);
    let images = doc["images"].as_array().unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["status"], "unknown");
    // The reason is the OS's words for the refused connection: its shape only.
    let mut doc = doc.clone();
    doc["images"][0]["reason"] = Value::from("[reason]");
    insta::assert_json_snapshot!(doc);
}

#[test]
fn plugins() {
    let dir = project();
    let (code, doc) = run(dir.path(), &["plugins", "--json"]);
    assert_eq!(code, Some(0));
    envelope_ok(&doc, "plugins", true);
    insta::assert_json_snapshot!(doc);
}

#[test]
fn lint_with_findings() {
    let dir = project();
    let (code, doc) = run(dir.path(), &["lint", "--json", "spec.yaml"]);
    assert_eq!(code, Some(5), "{doc}");
    envelope_ok(&doc, "lint", false);
    insta::assert_json_snapshot!(doc);
}

#[test]
fn error_object_for_an_invalid_spec() {
    let dir = project();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "name: x\npackages: [six, [1]]\n",
    )
    .unwrap();
    let (code, doc) = run(dir.path(), &["tag", "--json", "bad.yaml"]);
    assert_eq!(code, Some(2), "{doc}");
    envelope_ok(&doc, "tag", false);
    insta::assert_json_snapshot!(doc);
}

#[test]
fn error_object_for_a_usage_error() {
    let dir = project();
    let (code, doc) = run(
        dir.path(),
        &["tag", "--json", "--no-such-flag", "spec.yaml"],
    );
    assert_eq!(code, Some(64), "{doc}");
    envelope_ok(&doc, "tag", false);
    insta::assert_json_snapshot!(doc);
}

#[test]
fn error_object_for_a_strict_lint_failure() {
    let dir = project();
    let (code, doc) = run(dir.path(), &["tag", "--json", "--strict", "spec.yaml"]);
    assert_eq!(code, Some(5), "{doc}");
    envelope_ok(&doc, "tag", false);
    insta::assert_json_snapshot!(doc);
}
