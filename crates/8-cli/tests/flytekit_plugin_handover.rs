//! The flytekit plugin's typed hand-over, checked with real flytekit: its
//! unit tests (`python/flytekitplugins-imagespec/tests`) run in the venv
//! `cargo xtask flytekit` makes, against this build's `imagespec`. Built
//! only with the `flytekit` feature; without `IMAGESPEC_FLYTEKIT_PYTHON`
//! it fails, it never skips.

use std::path::Path;
use std::process::Command;

#[test]
fn the_plugins_unit_tests_pass_with_real_flytekit() {
    let python = std::env::var("IMAGESPEC_FLYTEKIT_PYTHON").expect(
        "IMAGESPEC_FLYTEKIT_PYTHON is not set: run with `cargo xtask test` (it makes the venv)",
    );
    let package =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python/flytekitplugins-imagespec");
    let out = Command::new(python)
        .args(["-m", "unittest", "discover", "-v", "-s", "tests"])
        .current_dir(&package)
        .env("PYTHONPATH", &package)
        .env("IMAGESPEC_BIN", env!("CARGO_BIN_EXE_imagespec"))
        .env_remove("IMAGESPEC_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the plugin's unit tests failed:\n{stderr}"
    );
    // unittest reports on stderr: every test ran, none was skipped.
    assert!(stderr.contains("\nOK"), "{stderr}");
    assert!(!stderr.contains("skipped"), "{stderr}");
    let ran: usize = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("Ran ")
                .and_then(|r| r.split(' ').next()?.parse().ok())
        })
        .expect("unittest says how many tests ran");
    assert!(ran >= 5, "only {ran} tests ran:\n{stderr}");
}
