//! A spec selects the example's builder by name, through the binary that links
//! it and through the library API.

use std::process::Command;

use imagespec_core::builder::Builders;
use imagespec_core::knobs::PythonDefaults;
use imagespec_core::spec::load_file;
use imagespec_engine::{Action, Engine, EngineOptions, Plugins};
use imagespec_example_custom_builder::ContextDirBuilder;

fn spec(dir: &std::path::Path) -> std::path::PathBuf {
    let p = dir.join("spec.yaml");
    std::fs::write(
        &p,
        "name: custom\npython_version: \"3.12\"\npackages: [six]\nbuilder: context-dir\nbuilder_options: {output_dir: out}\n",
    )
    .unwrap();
    p
}

#[test]
fn the_binary_builds_with_the_builder_a_spec_names() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path());
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_imagespec-with-archive"))
            .args([
                "build",
                "--json",
                "--default-python",
                "3.11",
                "--flytekit-requirement",
                "flytekit",
            ])
            .arg(&spec)
            .output()
            .unwrap()
    };
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entry = &report["images"][0];
    assert_eq!(entry["builder"], "context-dir");
    assert_eq!(entry["action"], "built");
    let tag = entry["image_name"]
        .as_str()
        .unwrap()
        .split(':')
        .nth(1)
        .unwrap()
        .to_string();
    assert!(dir
        .path()
        .join("out/custom")
        .join(&tag)
        .join("Dockerfile")
        .is_file());

    // The builder's own existence check: the second run skips.
    let out = run();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["images"][0]["action"], "skipped");

    // It is listed beside the built-in plugins.
    let out = Command::new(env!("CARGO_BIN_EXE_imagespec-with-archive"))
        .args(["plugins", "--json"])
        .output()
        .unwrap();
    let plugins: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = plugins["builders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"context-dir") && names.contains(&"default"),
        "{names:?}"
    );
}

#[tokio::test]
async fn the_library_api_needs_no_cli() {
    imagespec_uv::link();
    imagespec_micromamba::link();
    let dir = tempfile::tempdir().unwrap();
    let spec = load_file(&spec(dir.path())).unwrap();
    // An engine with only this builder, made without inventory, borrowing it.
    let builder = ContextDirBuilder;
    let plugins = Plugins::registered()
        .unwrap()
        .with_builders(Builders::empty().with(&builder, 0));
    let options = EngineOptions {
        push: false,
        defaults: PythonDefaults {
            default_python: "3.11".into(),
            flytekit_requirement: "flytekit".into(),
        }
        .into(),
        quiet: true,
        ..EngineOptions::default()
    };
    let engine = Engine::new(&plugins, options, 2);
    // Prepared once: the spec's inputs read and its identity computed.
    let job = engine.prepare(spec.view()).unwrap();
    let report = engine.run(&[job], false).await.unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.entries[0].action, Action::Built);
}
