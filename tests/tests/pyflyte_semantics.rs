//! What pyflyte really makes of a spec, where fixture folders cannot show it:
//! loaded modules from the caller, absolute paths, `--fix-flytekit-quirks`,
//! Python's truth values, typed dumps. Every expected tag was recorded from
//! flytekit 1.16.31 on the same layout (`ImageSpec(**yaml.safe_load(f))`, or
//! the Python call named in the test), run from the layout's folder.

use std::path::Path;

use imagespec_core::spec::{load_str_with, LoadOptions, SpecFormat};
use imagespec_tests::write_context;
use imagespec_tests::{link_plugins, oracle_defaults, SpecExt};

fn write(root: &Path, rel: &str, body: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

fn load(yaml: &str, dir: &Path, options: &LoadOptions) -> imagespec_core::Loaded {
    load_str_with(yaml, SpecFormat::Yaml, None, dir, options).unwrap()
}

fn context_files(spec: &imagespec_core::Loaded) -> Vec<String> {
    let out = tempfile::tempdir().unwrap();
    write_context(spec, &oracle_defaults(), &out.path().join("ctx"))
        .unwrap()
        .files
}

/// `proj/` with a package and modules; `top` and `pkg.mod` are imported.
fn modules_layout(root: &Path) -> Vec<String> {
    write(root, "proj/top.py", "A = 1\n");
    write(root, "proj/pkg/__init__.py", "");
    write(root, "proj/pkg/mod.py", "B = 2\n");
    write(root, "proj/other.py", "C = 3\n");
    let p = |rel: &str| root.join(rel).display().to_string();
    vec![
        p("proj/top.py"),
        p("proj/pkg/mod.py"),
        p("proj/pkg/__init__.py"),
        // Loaded from elsewhere: not under source_root.
        "/usr/lib/python3.11/json/__init__.py".to_string(),
    ]
}

/// flytekit: `ImageSpec(name="lm", python_version="3.12", source_root=...)`
/// with `top` and `pkg.mod` imported from `proj/`.
const LOADED_TAG: &str = "qu_b7xeINfv_fXteMw4yDw";
/// The same spec with nothing loaded from under source_root (the digest of no files).
const NOTHING_LOADED_TAG: &str = "ZFNpSsoHkRhEJ1QpxCWaEw";

#[test]
fn loaded_modules_without_a_list_copy_nothing_as_pyflyte() {
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    modules_layout(dir.path());
    let spec = load(
        "name: lm\npython_version: \"3.12\"\nsource_root: proj\n",
        dir.path(),
        &LoadOptions::default(),
    );
    assert_eq!(spec.identity().unwrap().tag, NOTHING_LOADED_TAG);
    let out = tempfile::tempdir().unwrap();
    let written = write_context(&spec, &oracle_defaults(), &out.path().join("ctx")).unwrap();
    assert_eq!(written.files, ["Dockerfile", "requirements_uv.txt"]);
    assert!(out.path().join("ctx/src").is_dir(), "src/ is made, empty");
}

#[test]
fn loaded_modules_from_the_caller_under_an_absolute_root() {
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    let modules = modules_layout(dir.path());
    let options = LoadOptions {
        loaded_modules: Some(modules),
        ..LoadOptions::default()
    };
    let root = dir.path().join("proj").display().to_string();
    let spec = load(
        &format!("name: lm\npython_version: \"3.12\"\nsource_root: {root}\n"),
        dir.path(),
        &options,
    );
    assert_eq!(spec.identity().unwrap().tag, LOADED_TAG);
    assert_eq!(
        context_files(&spec),
        [
            "Dockerfile",
            "requirements_uv.txt",
            "src/pkg/__init__.py",
            "src/pkg/mod.py",
            "src/top.py"
        ]
    );
    // os.path.commonpath gives `/x/proj`, which is not `/x/proj/`: nothing.
    let spec = load(
        &format!("name: lm\npython_version: \"3.12\"\nsource_root: {root}/\n"),
        dir.path(),
        &options,
    );
    assert_eq!(spec.identity().unwrap().tag, NOTHING_LOADED_TAG);
    // A relative root cannot be compared with absolute module paths: nothing.
    let spec = load(
        "name: lm\npython_version: \"3.12\"\nsource_root: proj\n",
        dir.path(),
        &options,
    );
    assert_eq!(spec.identity().unwrap().tag, NOTHING_LOADED_TAG);
    // --fix-flytekit-quirks compares with the resolved root instead.
    let fixed = LoadOptions {
        fix_flytekit_quirks: true,
        ..options
    };
    let spec = load(
        "name: lm\npython_version: \"3.12\"\nsource_root: proj\n",
        dir.path(),
        &fixed,
    );
    assert_eq!(spec.identity().unwrap().tag, LOADED_TAG);
}

/// `src/` with a `.dockerignore` that excludes `docs/`.
fn ignore_layout(root: &Path) {
    write(root, "src/a.py", "a");
    write(root, "src/docs/x.md", "d");
    write(root, "src/keep/y.py", "y");
    write(root, "src/.dockerignore", "docs/\n");
}

#[test]
fn fix_flytekit_quirks_means_what_the_spec_says() {
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    ignore_layout(dir.path());
    let fix = LoadOptions {
        fix_flytekit_quirks: true,
        ..LoadOptions::default()
    };
    let plain = LoadOptions::default();
    let all = "name: fx\npython_version: \"3.12\"\nsource_root: src\nsource_copy_mode: all\n";
    // As pyflyte: the string is hashed, and `docs/` does not match `src/docs/x.md`.
    let spec = load(all, dir.path(), &plain);
    assert_eq!(spec.identity().unwrap().tag, "pVqkQBRk3Vg77YOx3yyh9g");
    assert!(context_files(&spec).contains(&"src/docs/x.md".to_string()));
    // Fixed: `all` is CopyFileDetection.ALL and `docs/` applies, which is
    // flytekit's tag for ImageSpec(source_root=<absolute>, source_copy_mode=ALL).
    let spec = load(all, dir.path(), &fix);
    assert_eq!(spec.identity().unwrap().tag, "wWKwRV4qk3klPBi9s7zgmQ");
    assert_eq!(
        context_files(&spec),
        [
            "Dockerfile",
            "requirements_uv.txt",
            "src/.dockerignore",
            "src/a.py",
            "src/keep/y.py"
        ]
    );
    // `no_copy` copies everything as pyflyte reads it, nothing when fixed
    // (flytekit: ImageSpec(..., source_copy_mode=CopyFileDetection.NO_COPY)).
    let no_copy =
        "name: fx\npython_version: \"3.12\"\nsource_root: src\nsource_copy_mode: no_copy\n";
    assert!(context_files(&load(no_copy, dir.path(), &plain)).len() > 2);
    let spec = load(no_copy, dir.path(), &fix);
    assert_eq!(spec.identity().unwrap().tag, "6eZe5qVnuxi8VemYKwG_kA");
    assert_eq!(context_files(&spec), ["Dockerfile", "requirements_uv.txt"]);
}

#[test]
fn copy_modes_follow_pythons_truth_and_equality() {
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    ignore_layout(dir.path());
    let plain = LoadOptions::default();
    // `self.source_copy_mode or LOADED_MODULES`: an empty string becomes the member.
    let spec = load(
        "name: fx\npython_version: '3.12'\nsource_root: src\nsource_copy_mode: ''\n",
        dir.path(),
        &plain,
    );
    assert_eq!(spec.identity().unwrap().tag, "d2_lCPjzBZcKYCJtA3QDEQ");
    // Any other value is no member: every file, the value hashed as it is.
    let spec = load(
        "name: fx\npython_version: '3.12'\nsource_root: src\nsource_copy_mode: 7\n",
        dir.path(),
        &plain,
    );
    assert_eq!(spec.identity().unwrap().tag, "p1gvUNzPBwdF9FSFXUA5jA");
    // Without a source_root a false mode stays, and the tag raises.
    let spec = load(
        "name: fx\npython_version: '3.12'\nsource_copy_mode: false\n",
        dir.path(),
        &plain,
    );
    let err = spec.identity().unwrap_err().to_string();
    assert!(
        err.contains("Field source_root for image spec fx must be set when copy is set"),
        "{err}"
    );
}

#[test]
fn a_typed_dump_keeps_its_types_and_refuses_other_python_tags() {
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "src/app.py", "x");
    let typed = "!!python/object:flytekit.image_spec.image_spec.ImageSpec\n\
        name: Typed\nplatform: null\nsource_root: src\nsource_copy_mode: null\n\
        pip_secret_mounts:\n- !!python/tuple [a, /b]\n_is_force_push: true\n";
    let spec = load(
        &typed.replace("name: Typed", "name: typed"),
        dir.path(),
        &LoadOptions::default(),
    );
    // Restored without __post_init__: no default platform, no implied mode.
    assert!(spec.origin.typed && spec.origin.force_push);
    assert_eq!(spec.source_copy_mode(), None);
    let identity = spec.identity().unwrap();
    assert_eq!(
        identity.inputs.id_text,
        "{'name': 'typed', 'source_root': 'src'}"
    );
    assert_eq!(spec.pip_secret_mounts()[0].dst, "/b");
    // A dumped name is not lower-cased: docker refuses it, so imagespec does.
    let err = load_str_with(
        typed,
        SpecFormat::Yaml,
        None,
        dir.path(),
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.location.field, "name");
    // Nothing is instantiated from any other tag.
    let err = load_str_with(
        "!!python/object/apply:os.system [echo hi]",
        SpecFormat::Yaml,
        None,
        dir.path(),
        &LoadOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("is not accepted"), "{err}");
    // A recorded tag that the content no longer gives is refused.
    let stale = format!("{}tag: abc\n", typed.replace("name: Typed", "name: typed"));
    let spec = load(&stale, dir.path(), &LoadOptions::default());
    let err = spec.identity().unwrap_err().to_string();
    assert!(err.contains("records the tag `abc`"), "{err}");
}
