//! The details flytekit's tag hinges on that fixture folders cannot hold:
//! git work trees, absolute paths, files changing while a context is written.
//! Expected tags were recorded from flytekit 1.16.31 on the same layouts.

use std::path::Path;
use std::process::Command;

use imagespec_context::write_plan;
use imagespec_core::knobs::PythonDefaults;
use imagespec_core::spec::{load_file, load_str, load_str_with, LoadOptions, SpecFormat};
use imagespec_core::Error;
use imagespec_tests::{link_plugins, oracle_defaults};
use imagespec_tests::{write_context, SpecExt};

fn write(root: &Path, rel: &str, body: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

/// The layout flytekit's tags below were recorded on.
fn gitignore_layout(root: &Path) {
    write(
        root,
        "spec.yaml",
        "name: gi\npython_version: \"3.12\"\nsource_root: proj\nsource_copy_mode: all\n",
    );
    for (rel, body) in [
        ("proj/main.py", "a"),
        ("proj/pkg/mod.py", "b"),
        ("proj/build/out.txt", "c"),
        ("proj/logs/x.log", "d"),
        ("proj/nested/deep/keep.tmp", "e"),
        ("proj/nested/deep/drop.tmp", "f"),
        ("proj/notes.md", "g"),
        ("proj/.gitignore", "*.log\nbuild/\n*.tmp\n!keep.tmp\n"),
        ("proj/nested/.gitignore", "notes.md\n"),
    ] {
        write(root, rel, body);
    }
}

/// Makes `dir` a git work tree, so that its .gitignore files apply.
fn git_init(dir: &Path) {
    let status = Command::new("git")
        .args(["init", "-q", "."])
        .current_dir(dir)
        .status();
    assert!(status.expect("git is installed").success());
}

fn context_files(spec_path: &Path) -> Vec<String> {
    let spec = load_file(spec_path).unwrap();
    let out = tempfile::tempdir().unwrap();
    write_context(&spec, &oracle_defaults(), &out.path().join("ctx"))
        .unwrap()
        .files
}

/// The spec file with `source_root` made absolute.
fn absolute_root(dir: &Path, root: &str) -> std::path::PathBuf {
    let path = dir.join("spec.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        &format!("source_root: {root}\n"),
        &format!("source_root: {}\n", dir.join(root).display()),
    );
    let abs = dir.join("spec-abs.yaml");
    std::fs::write(&abs, text).unwrap();
    abs
}

// The tags below were recorded from flytekit 1.16.31 on the same layouts,
// `ImageSpec(**yaml.safe_load(f))` run from the layout's folder.

#[test]
fn gitignore_applies_inside_a_git_work_tree_to_an_absolute_root_only() {
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    gitignore_layout(dir.path());
    git_init(dir.path());
    let abs = absolute_root(dir.path(), "proj");
    assert_eq!(
        load_file(&abs).unwrap().identity().unwrap().tag,
        "Fz4WrKDVHLuT4Ho1r0F4pg"
    );
    assert_eq!(
        context_files(&abs),
        [
            "Dockerfile",
            "requirements_uv.txt",
            "src/.gitignore",
            "src/main.py",
            "src/nested/.gitignore",
            "src/nested/deep/keep.tmp",
            "src/notes.md",
            "src/pkg/mod.py",
        ]
    );
    // flytekit checks `proj/main.py` against git's list, which is relative
    // to the root (`main.py`): with a relative root nothing matches.
    let rel = dir.path().join("spec.yaml");
    assert_eq!(
        load_file(&rel).unwrap().identity().unwrap().tag,
        "B6fOn4aEEtj25BWJ1vUT_w"
    );
    assert_eq!(context_files(&rel).len(), 11);
}

#[test]
fn gitignore_is_not_applied_outside_a_git_work_tree() {
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    gitignore_layout(dir.path());
    for spec in [
        dir.path().join("spec.yaml"),
        absolute_root(dir.path(), "proj"),
    ] {
        assert_eq!(
            load_file(&spec).unwrap().identity().unwrap().tag,
            "B6fOn4aEEtj25BWJ1vUT_w"
        );
        assert_eq!(context_files(&spec).len(), 11);
    }
}

#[test]
fn absolute_paths_change_the_id_but_not_the_tag() {
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "proj/a.py", "print(1)\n");
    write(dir.path(), "reqs.txt", "numpy\n");
    let rel =
        "name: p\nsource_root: proj\nsource_copy_mode: all\nrequirements: reqs.txt\n".to_string();
    let abs = format!(
        "name: p\nsource_root: {}\nsource_copy_mode: all\nrequirements: {}\n",
        dir.path().join("proj").display(),
        dir.path().join("reqs.txt").display()
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let a = load_str(&rel, SpecFormat::Yaml, None, dir.path())
        .unwrap()
        .identity()
        .unwrap();
    // An absolute spec resolves the same files from any folder (outside
    // its project: allowed, as flytekit reads them).
    let allow = LoadOptions {
        allow_outside_paths: true,
        ..LoadOptions::default()
    };
    let b = load_str_with(&abs, SpecFormat::Yaml, None, elsewhere.path(), &allow)
        .unwrap()
        .identity()
        .unwrap();
    assert_eq!(a.tag, b.tag, "the tag hashes contents, not paths");
    assert_ne!(a.id, b.id, "the id hashes the spec as written");
    assert!(
        a.inputs.id_text.contains("'source_root': 'proj'"),
        "{}",
        a.inputs.id_text
    );
    assert!(b.inputs.id_text.contains(&format!(
        "'source_root': '{}'",
        dir.path().join("proj").display()
    )));
    assert!(a
        .inputs
        .tag_text
        .contains(a.inputs.source_digest.as_deref().unwrap()));
}

#[test]
fn a_source_change_while_writing_aborts_and_leaves_nothing() {
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "spec.yaml",
        "name: g\nsource_root: src\nsource_copy_mode: all\n",
    );
    write(dir.path(), "src/app.py", "v = 1\n");
    let spec = load_file(&dir.path().join("spec.yaml")).unwrap();
    let job = spec.job().unwrap();
    let plan = imagespec_plan::plan(
        &job,
        &imagespec_tests::plugins().installers,
        &oracle_defaults(),
    )
    .unwrap();
    write(dir.path(), "src/app.py", "v = 2\n");
    let out = dir.path().join("ctx");
    let err = write_plan(&job, &plan, &out).unwrap_err();
    assert!(matches!(err, Error::TagChanged { .. }), "{err}");
    assert!(err.to_string().contains("source_root"), "{err}");
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".imagespec"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary folders left behind: {leftovers:?}"
    );
}

#[test]
fn an_existing_output_folder_is_not_overwritten() {
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "spec.yaml", "name: g\n");
    write(dir.path(), "ctx/keep.txt", "mine");
    let spec = load_file(&dir.path().join("spec.yaml")).unwrap();
    let err = write_context(&spec, &oracle_defaults(), &dir.path().join("ctx")).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ctx/keep.txt")).unwrap(),
        "mine"
    );
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    write_context(&spec, &oracle_defaults(), &dir.path().join("empty")).unwrap();
    assert!(dir.path().join("empty/Dockerfile").is_file());
}

#[test]
fn missing_python_defaults_name_the_flags() {
    // No python3 to ask: the error says which flag to set.
    let err = PythonDefaults::resolve_with(None, Some("flytekit".into()), "/nonexistent/python3")
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("--default-python") && text.contains("IMAGESPEC_DEFAULT_PYTHON"),
        "{text}"
    );
    assert!(!text.contains("--flytekit-requirement"), "{text}");
    let ok = PythonDefaults::resolve_with(
        Some("3.10".into()),
        Some("flytekit".into()),
        "/nonexistent/python3",
    )
    .unwrap();
    assert_eq!(ok.default_python, "3.10");
    // Without a flytekit to ask, the requirement is the flytekit imagespec reproduces.
    let ok =
        PythonDefaults::resolve_with(Some("3.10".into()), None, "/nonexistent/python3").unwrap();
    assert_eq!(ok.flytekit_requirement, "flytekit==1.16.31");
}

#[test]
fn an_all_ignored_source_root_still_gets_its_src_folder() {
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "spec.yaml",
        "name: e\nsource_root: src\nsource_copy_mode: all\n",
    );
    write(dir.path(), "src/.dockerignore", "*\n");
    write(dir.path(), "src/a.py", "x");
    // Relative root: `*` matches the path's first folder (`src`), so even
    // .dockerignore itself is left out; absolute: it is never excluded.
    for (spec, tag, files) in [
        (
            dir.path().join("spec.yaml"),
            "M959AUuQ8_kZTCDv5iZxOw",
            &["Dockerfile", "requirements_uv.txt"][..],
        ),
        (
            absolute_root(dir.path(), "src"),
            "48ick1FKH7XVkmjr2Vcs6g",
            &["Dockerfile", "requirements_uv.txt", "src/.dockerignore"][..],
        ),
    ] {
        let spec = load_file(&spec).unwrap();
        assert_eq!(spec.identity().unwrap().tag, tag);
        let out = tempfile::tempdir().unwrap();
        let ctx = out.path().join("ctx");
        let written = write_context(&spec, &oracle_defaults(), &ctx).unwrap();
        assert!(ctx.join("src").is_dir(), "COPY ./src needs the folder");
        assert_eq!(written.files, files);
    }
}

#[test]
fn a_source_root_inside_a_git_ignored_folder() {
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "spec.yaml",
        "name: ir\npython_version: \"3.12\"\nsource_root: out/src\nsource_copy_mode: all\n",
    );
    write(dir.path(), "out/src/a.py", "a");
    write(dir.path(), ".gitignore", "out/\n");
    git_init(dir.path());
    // Absolute root: `git ls-files -io` lists every file, so nothing is copied.
    let abs = absolute_root(dir.path(), "out/src");
    assert_eq!(
        load_file(&abs).unwrap().identity().unwrap().tag,
        "Lxqee3SgRCFe_lYIOgOZGw"
    );
    assert_eq!(context_files(&abs), ["Dockerfile", "requirements_uv.txt"]);
    // Relative root: git's list never matches the prefixed path.
    let rel = dir.path().join("spec.yaml");
    assert_eq!(
        load_file(&rel).unwrap().identity().unwrap().tag,
        "jv0XhUW4ZmoTjISQ6GS_0g"
    );
    assert_eq!(
        context_files(&rel),
        ["Dockerfile", "requirements_uv.txt", "src/a.py"]
    );
}
