//! The plugins a build of the CLI registers are exactly those its cargo
//! features enable (a crate that nothing references would be dropped by the
//! linker together with its registration). CI runs this for the default and
//! the minimal feature set.

mod common;

#[test]
fn registry_contents_match_the_enabled_features() {
    let out = common::imagespec()
        .args(["plugins", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names = |key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                x.get("name")
                    .and_then(|n| n.as_str())
                    .or(x.as_str())
                    .unwrap()
                    .to_string()
            })
            .collect()
    };

    let mut builders = Vec::new();
    if cfg!(feature = "docker") {
        builders.push("default"); // priority 1, as in flytekit
    }
    if cfg!(feature = "noop") {
        builders.push("noop"); // priority 0
    }
    if cfg!(feature = "podman") {
        builders.push("podman"); // priority 0, after noop by name
    }
    assert_eq!(names("builders"), builders, "sorted by priority, then name");

    // One registry order for every kind: priority, then name. The shared
    // python-install crate comes with uv or poetry.
    let python_install = cfg!(feature = "uv") || cfg!(feature = "poetry");
    let mut installers: Vec<(&str, bool)> = vec![
        ("base-python", python_install),
        ("poetry-lock", cfg!(feature = "poetry")),
        ("uv-lock", cfg!(feature = "uv")),
        ("uv-tools", python_install),
        ("micromamba", cfg!(feature = "micromamba")),
        ("micromamba-tools", cfg!(feature = "micromamba")),
        ("uv", cfg!(feature = "uv")),
    ];
    installers.retain(|(_, on)| *on);
    let installers: Vec<&str> = installers.into_iter().map(|(n, _)| n).collect();
    assert_eq!(names("installers"), installers, "by priority, then name");

    let checkers: Vec<&str> = if cfg!(feature = "registry") {
        vec!["oci"]
    } else {
        vec![]
    };
    assert_eq!(names("checkers"), checkers);
}

#[test]
fn an_unknown_builder_lists_the_registered_ones() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(
        &spec,
        "name: x\nbuilder: envd\nbase_image: debian:bookworm-slim\n",
    )
    .unwrap();
    let out = common::imagespec()
        .args(["build", "--dry-run"])
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "an invalid spec: {stderr}");
    assert!(
        stderr.contains("image builder `envd` is not registered"),
        "{stderr}"
    );
    if cfg!(feature = "noop") {
        assert!(
            stderr.contains("registered builders:") && stderr.contains("noop"),
            "{stderr}"
        );
    }
}

#[cfg(feature = "noop")]
#[test]
fn the_noop_builder_answers_with_base_image_and_needs_a_string() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(
        &spec,
        "name: x\nbuilder: noop\nbase_image: ghcr.io/org/prebuilt:1.0\nregistry: ghcr.io/org\n",
    )
    .unwrap();
    let (report, _) = common::build_report(common::imagespec(), &[], &spec);
    assert_eq!(
        report["images"][0]["action"], "built",
        "noop never checks a registry"
    );
    assert_eq!(report["images"][0]["real_name"], "ghcr.io/org/prebuilt:1.0");

    // A nested noop base answers with its own base_image, which the child builds on.
    std::fs::write(
        &spec,
        "name: x\nbuilder: noop\nbase_image: {name: inner, builder: noop, base_image: \"b:1\"}\n",
    )
    .unwrap();
    let (report, _) = common::build_report(common::imagespec(), &[], &spec);
    let child = report["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["requested"] == true)
        .unwrap()
        .clone();
    assert_eq!(child["real_name"], "b:1", "{report}");

    // Without a base_image there is nothing to answer with.
    std::fs::write(&spec, "name: x\nbuilder: noop\n").unwrap();
    let out = common::imagespec()
        .args(["build"])
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an invalid spec for noop: {stderr}"
    );
    assert!(
        stderr.contains("base_image must be a string to use the noop image builder"),
        "{stderr}"
    );
}

/// Without a registry checker, a build cannot tell whether an image exists:
/// it fails naming the feature instead of skipping (or silently building) it.
#[cfg(all(feature = "docker", not(feature = "registry")))]
#[test]
fn without_the_registry_feature_a_registry_spec_is_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(&spec, "name: x\nregistry: localhost:5999\n").unwrap();
    let out = common::imagespec()
        .args(["build", "--dry-run", "--default-python", "3.11"])
        .args(["--flytekit-requirement", "flytekit"])
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("needs a registry checker"), "{stderr}");
    assert!(stderr.contains("`registry` feature"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("would skip"));
}

/// Without the poetry installer, a poetry.lock is not read as a
/// requirements list: the context fails naming the feature.
#[cfg(all(feature = "uv", not(feature = "poetry")))]
#[test]
fn without_the_poetry_feature_a_poetry_lock_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(
        &spec,
        "name: x\npython_version: '3.11'\nrequirements: poetry.lock\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("poetry.lock"), "# lock\n").unwrap();
    std::fs::write(dir.path().join("pyproject.toml"), "[project]\nname='x'\n").unwrap();
    let ctx = dir.path().join("ctx");
    let out = common::imagespec()
        .args(["context", "--default-python", "3.11"])
        .args(["--flytekit-requirement", "flytekit", "-o"])
        .arg(&ctx)
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("`poetry` feature"), "{stderr}");
    assert!(!ctx.exists(), "nothing is written");
}
