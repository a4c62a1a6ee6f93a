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
        // (flytekit reads paths anywhere: `error-copy-absolute` names /etc/hostname.)
        let out = imagespec()
            .current_dir(elsewhere.path())
            .args(["tag", "--json", "--allow-outside-paths"])
            .arg(case.join("spec.yaml"))
            .output()
            .unwrap();
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // flytekit names a spec whose build context it then refuses (cuda,
        // python_exec with conda, an absolute copy entry): so does `tag`.
        let named = result.get("image_name").is_some();
        // A refusal on purpose (the file says why), or one of flytekit's
        // own before naming: no name, exit 2.
        if (result.get("error").is_some() && !named)
            || case.join("expected/imagespec-refuses.txt").is_file()
        {
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
            .args(["tag", "--allow-outside-paths"])
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
    // flytekit names a cuda spec (only its default builder's
    // create_docker_context refuses it): `tag` names it and warns, `context`
    // refuses it.
    let cuda = dir.path().join("cuda.yaml");
    std::fs::write(&cuda, "name: x\ncuda: '12'\n").unwrap();
    let out = imagespec().arg("tag").arg(&cuda).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = imagespec()
        .args(["context", "-o"])
        .arg(dir.path().join("ctx"))
        .arg(&cuda)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// What only a build refuses (flytekit's `create_docker_context` errors)
/// does not stop `image_name()` in flytekit, so `tag` names such a spec, as
/// flytekit does, with a warning saying why it cannot be built; `context`
/// (and `build`) refuse it, naming the field.
#[test]
fn tag_names_what_only_a_build_refuses() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("uv.lock"), "lock").unwrap();
    let cases = [
        (
            "cuda",
            "name: x\ncuda: '12.4'\ncudnn: '8'\n",
            "cuda and cudnn do not need to be specified",
        ),
        (
            "lock-no-pyproject",
            "name: x\nrequirements: uv.lock\n",
            "a pyproject.toml file must be in the same directory as the lock file",
        ),
        (
            "lock-and-packages",
            "name: x\nrequirements: uv.lock\npackages: [six]\n",
            "Support for uv.lock files and packages is mutually exclusive",
        ),
        (
            "python-exec-conda",
            "name: x\nbase_image: b:1\npython_exec: /usr/bin/python3\nconda_packages: [ruff]\n",
            "conda_packages is not supported with python_exec",
        ),
        (
            "absolute-copy",
            "name: x\ncopy: [/nowhere/file1.txt, /nowhere]\n",
            "Absolute paths or paths with '..' are not allowed",
        ),
        (
            "nested-cuda",
            "name: x\nbase_image: {name: b, cuda: '11'}\n",
            "cuda and cudnn do not need to be specified",
        ),
    ];
    for (name, text, why) in cases {
        let spec = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&spec, text).unwrap();
        let out = imagespec()
            .args(["tag", "--json"])
            .arg(&spec)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{name}: {stderr}");
        assert!(
            stderr.contains(why),
            "{name}: the warning says why: {stderr}"
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            doc["image_name"].as_str().unwrap().starts_with("x:"),
            "{name}: {doc}"
        );
        assert!(
            doc["build_refused"][0].as_str().unwrap().contains(why),
            "{name}: {doc}"
        );
        let out = imagespec()
            .args(["context", "-o"])
            .arg(dir.path().join(format!("ctx-{name}")))
            .arg(&spec)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{name}: context refuses: {stderr}"
        );
        // (The diagnostic wraps long messages beside a margin.)
        let flat = stderr
            .replace('│', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(flat.contains(why), "{name}: {stderr}");
        assert!(
            !dir.path().join(format!("ctx-{name}")).exists(),
            "{name}: nothing half-written"
        );
    }
    // What no builder can use safely is refused by `tag` too.
    let spec = dir.path().join("control.yaml");
    std::fs::write(&spec, "name: x\ncommands: [\"echo a\\nRUN echo b\"]\n").unwrap();
    let out = imagespec().arg("tag").arg(&spec).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// flytekit takes relative paths from the current folder of its process;
/// a spec handed over in a temporary file (the flytekit plugin) is read with
/// `--base-dir` naming that folder, and gets the name it gets in place.
#[test]
fn base_dir_is_where_relative_paths_are_taken_from() {
    let project = tempfile::tempdir().unwrap();
    let p = project.path();
    std::fs::create_dir_all(p.join("data")).unwrap();
    std::fs::create_dir_all(p.join("src/pkg")).unwrap();
    std::fs::write(p.join("requirements.txt"), "six\n").unwrap();
    std::fs::write(p.join("data/a.txt"), "a\n").unwrap();
    std::fs::write(p.join("src/pkg/m.py"), "X = 1\n").unwrap();
    let text =
        "name: app\npython_version: '3.12'\nrequirements: requirements.txt\ncopy: [data/a.txt]\n\
                source_root: src\npip_secret_mounts: [[netrc, /root/.netrc]]\n";
    std::fs::write(p.join("spec.yaml"), text).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let handed = elsewhere.path().join("spec.yaml");
    std::fs::write(&handed, text).unwrap();
    let tag = |args: &[&std::ffi::OsStr], spec: &std::path::Path| {
        let out = imagespec()
            .arg("tag")
            .args(args)
            .arg(spec)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, in_place, stderr) = tag(&[], &p.join("spec.yaml"));
    assert_eq!(code, Some(0), "{stderr}");
    // Taken from the spec file's folder, the paths are not there.
    let (code, _, stderr) = tag(&[], &handed);
    assert_ne!(code, Some(0));
    assert!(stderr.contains("requirements"), "{stderr}");
    let (code, handed_over, stderr) = tag(&["--base-dir".as_ref(), p.as_os_str()], &handed);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(handed_over, in_place);
    // The context holds the files the relative paths name.
    let ctx = elsewhere.path().join("ctx");
    let out = imagespec()
        .args(["context", "--copy", "--base-dir"])
        .arg(p)
        .arg("-o")
        .arg(&ctx)
        .arg(&handed)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(ctx.join("data/a.txt")).unwrap(),
        "a\n"
    );
    // (source_root without a copy mode is LOADED_MODULES: nothing is loaded here.)
    assert!(!ctx.join("src/pkg/m.py").exists());
    // A base dir that is no folder is a usage error.
    let (code, _, _) = tag(
        &[
            "--base-dir".as_ref(),
            p.join("requirements.txt").as_os_str(),
        ],
        &handed,
    );
    assert_eq!(code, Some(64));
}

/// `--display-name`: messages name the spec as the caller says (where the
/// user wrote it), never the temporary file, and show no line of it.
#[test]
fn display_name_replaces_the_file_in_messages() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(&spec, "name: x\nenv: {FLAG: yes}\n").unwrap();
    let label = "wf.py:12: ImageSpec(name='x')";
    let out = imagespec()
        .args(["tag", "--display-name", label])
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("{label}: field `env.FLAG`")),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&dir.path().display().to_string()),
        "{stderr}"
    );
    assert!(stderr.contains("fixing it changes the tag"), "{stderr}");
    std::fs::write(&spec, "name: x\npackages: [six, 3]\n").unwrap();
    let out = imagespec()
        .args(["tag", "--display-name", label])
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(label) && stderr.contains("packages[1]"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&dir.path().display().to_string()),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&format!("{label}:3")),
        "no line of a file the user never saw: {stderr}"
    );
}

/// An error inside a nested base names the nested field path and the line
/// it is on, not the top-level field.
#[test]
fn errors_in_a_nested_base_name_the_nested_field_and_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(
        &spec,
        "name: top\nbuilder: noop\nbase_image:\n  name: middle\n  base_image:\n    name: bottom\n    builder: nope\n",
    )
    .unwrap();
    let out = imagespec()
        .args(["build", "--dry-run"])
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("base_image.base_image.builder"), "{stderr}");
    assert!(
        stderr.contains("spec.yaml:7"),
        "the nested builder's line: {stderr}"
    );
    std::fs::write(
        &spec,
        "name: top\nbase_image:\n  name: middle\n  copy: [\"a\\u0000b\"]\n",
    )
    .unwrap();
    let out = imagespec().arg("tag").arg(&spec).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("base_image.copy[0]"), "{stderr}");
    assert!(stderr.contains("spec.yaml:4"), "{stderr}");
}
