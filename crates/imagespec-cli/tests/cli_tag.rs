//! `imagespec tag` against the flytekit oracle cases, through the real binary.

mod common;
use common::{imagespec, oracle_dir};

#[test]
fn tag_json_matches_flytekit_and_errors_exit_2() {
    let elsewhere = tempfile::tempdir().unwrap();
    let fixtures = oracle_dir().join("..");
    let mut cases: Vec<_> = ["oracle", "hash-cases"]
        .iter()
        .flat_map(|d| std::fs::read_dir(fixtures.join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("spec.yaml").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 25);
    for case in cases {
        let result: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(case.join("expected/result.json")).unwrap(),
        )
        .unwrap();
        // Run from another folder: paths resolve against the spec file, not the working directory.
        let out = imagespec()
            .current_dir(elsewhere.path())
            .args(["tag", "--json"])
            .arg(case.join("spec.yaml"))
            .output()
            .unwrap();
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // A refusal on purpose (the file says why): no name, exit 2.
        if result.get("error").is_some() || case.join("expected/imagespec-refuses.txt").is_file() {
            assert_eq!(
                out.status.code(),
                Some(2),
                "{name}: expected exit 2, stderr: {stderr}"
            );
            // With --json, stdout holds the error object, and nothing else.
            let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{name}: stdout is no JSON error object: {e}"));
            assert_eq!(doc["ok"], false, "{name}: {doc}");
            assert_eq!(doc["error"]["exit_code"], 2, "{name}: {doc}");
            assert!(
                doc.get("image_name").is_none(),
                "{name}: no name on an error"
            );
            assert!(
                stderr.contains("spec.yaml"),
                "{name}: the error names the file: {stderr}"
            );
            continue;
        }
        assert!(out.status.success(), "{name}: {stderr}");
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for key in ["id", "tag", "image_name"] {
            assert_eq!(got[key], result[key], "{name}: {key}");
        }
        let plain = imagespec()
            .args(["tag"])
            .arg(case.join("spec.yaml"))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&plain.stdout).trim(),
            result["image_name"].as_str().unwrap(),
            "{name}: plain output is the image name alone"
        );
    }
}

#[test]
fn spec_errors_name_file_field_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(
        &spec,
        "name: x\npython_version: \"3.12\"\npackages:\n  - numpy\n  - 3\n",
    )
    .unwrap();
    let out = imagespec().args(["tag"]).arg(&spec).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("spec.yaml:5"), "{stderr}");
    assert!(stderr.contains("packages[1]"), "{stderr}");

    std::fs::write(&spec, "name: x\npackage: [numpy]\n").unwrap();
    let out = imagespec().args(["tag"]).arg(&spec).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("spec.yaml:2") && stderr.contains("did you mean `packages`"),
        "{stderr}"
    );

    // flytekit names a spec whose env value is a list (str() writes `[1]`)...
    std::fs::write(&spec, "name: x\nenv: {A: [1]}\n").unwrap();
    let out = imagespec().args(["tag"]).arg(&spec).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    // ... and PyYAML refuses a list as a key.
    std::fs::write(&spec, "name: x\nenv: {? [a] : 1}\n").unwrap();
    let out = imagespec().args(["tag"]).arg(&spec).output().unwrap();
    assert_eq!(out.status.code(), Some(2));

    std::fs::write(&spec, "name: [x\n").unwrap();
    let out = imagespec().args(["tag"]).arg(&spec).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("invalid YAML"), "{stderr}");

    let out = imagespec()
        .args(["tag"])
        .arg(dir.path().join("missing.yaml"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a missing file is not an invalid spec"
    );
}

#[test]
fn json_specs_load_like_yaml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "name: demo\npython_version: \"3.12\"\npackages: [numpy]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("a.json"),
        r#"{"name": "demo", "python_version": "3.12", "packages": ["numpy"]}"#,
    )
    .unwrap();
    let y = imagespec()
        .args(["tag"])
        .arg(dir.path().join("a.yaml"))
        .output()
        .unwrap();
    let j = imagespec()
        .args(["tag"])
        .arg(dir.path().join("a.json"))
        .output()
        .unwrap();
    assert!(y.status.success() && j.status.success());
    assert_eq!(y.stdout, j.stdout);
}

/// flytekit's engine builds a nested base first and hands the child the name
/// the base's builder answered with: a noop base answers with its own
/// base_image, which is what the child hashes and builds on.
#[test]
fn tag_applies_the_real_name_of_a_noop_base() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("nested.yaml");
    std::fs::write(
        &nested,
        "name: child\npython_version: '3.12'\nbase_image: {name: inner, builder: noop, base_image: 'ghcr.io/o/b:1', cuda: '12'}\n",
    )
    .unwrap();
    let direct = dir.path().join("direct.yaml");
    std::fs::write(
        &direct,
        "name: child\npython_version: '3.12'\nbase_image: 'ghcr.io/o/b:1'\n",
    )
    .unwrap();
    let tag = |spec: &std::path::Path| {
        let out = imagespec().arg("tag").arg(spec).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // (cuda is refused by the default builder only: the noop base may carry it.)
    assert_eq!(tag(&nested), tag(&direct));
    // A noop spec itself stands for its base_image.
    let noop = dir.path().join("noop.yaml");
    std::fs::write(
        &noop,
        "name: x\nbuilder: noop\nbase_image: 'ghcr.io/o/b:1'\ncuda: '12'\n",
    )
    .unwrap();
    assert_eq!(tag(&noop), "ghcr.io/o/b:1");
    // The default builder refuses cuda, as flytekit's create_docker_context does.
    let cuda = dir.path().join("cuda.yaml");
    std::fs::write(&cuda, "name: x\ncuda: '12'\n").unwrap();
    let out = imagespec().arg("tag").arg(&cuda).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
