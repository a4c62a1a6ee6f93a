//! End to end with real flytekit: the wheel `cargo xtask` built
//! (`python/flytekitplugins-imagespec`, with this project's binary inside),
//! installed with flytekit 1.16.31 into a fresh venv by one `pip install`
//! (`IMAGESPEC_PLUGIN_PYTHON` is its python), builds through
//! `ImageBuildEngine.build` and `Image.look_up_image_info`; flytekit's own
//! default builder then finds the image; the image runs. The steps are in
//! `tests/flytekit/plugin_e2e.py`. Built only with the `e2e` feature;
//! without the environment it fails, it never skips.

use std::path::Path;
use std::process::Command;

#[test]
fn flytekit_builds_through_the_plugin_and_finds_the_image_itself() {
    let var = |k: &str| {
        std::env::var(k).unwrap_or_else(|_| {
            panic!("{k} is not set: run with `cargo xtask e2e test` (or `cargo xtask ci`)")
        })
    };
    let python = var("IMAGESPEC_PLUGIN_PYTHON");
    for k in [
        "IMAGESPEC_DOCKER",
        "IMAGESPEC_E2E_REGISTRY",
        "IMAGESPEC_E2E_PYTHON_IMAGE",
        "IMAGESPEC_E2E_UV_IMAGE",
    ] {
        var(k);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/flytekit/plugin_e2e.py");
    let work = tempfile::tempdir().unwrap();
    // A marker of this run in the spec, so the build is real, not a hit of an earlier run.
    let marker = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let out = Command::new(&python)
        .arg(&script)
        .arg(work.path())
        .env("PLUGIN_E2E_MARKER", &marker)
        .env("IMAGESPEC_CACHE_DIR", work.path().join(".cache"))
        // The plugin's own binary, from the wheel: not this build's.
        .env_remove("IMAGESPEC_BIN")
        .env_remove("IMAGESPEC_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the plugin e2e failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    for step in [
        "imagespec is the default builder",
        "through imagespec",
        "does not rebuild",
        "the image runs",
        "look_up_image_info",
    ] {
        assert!(
            stdout.contains(step),
            "missing step `{step}`:\n{stdout}\n{stderr}"
        );
    }
    // The plugin's one line for the image reached the user's stderr.
    assert!(stderr.contains("imagespec: built and pushed "), "{stderr}");
}
