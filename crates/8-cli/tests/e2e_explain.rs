//! End-to-end: `imagespec explain SPEC --against image:REF` reads the
//! `dev.imagespec.inputs` label of an image imagespec built and pushed to
//! the local registry.
//!
//! Built only with the `e2e` feature (`cargo xtask e2e test`, `cargo xtask
//! ci`), after `cargo xtask e2e up`. Without an engine these tests fail;
//! they never skip.

use std::path::Path;

mod common;

use common::{e2e, E2e};

fn write(root: &Path, rel: &str, body: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

/// Runs `imagespec ARGS` with a cache folder of its own: (exit code, stdout, stderr).
fn imagespec(args: &[&str], cache: &Path) -> (i32, String, String) {
    let out = common::imagespec()
        .env("IMAGESPEC_CACHE_DIR", cache)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn spec_text(e: &E2e, nonce: &str, env_value: &str) -> String {
    format!(
        "name: e2e-explain\nbase_image: {python}\npython_exec: /usr/bin/python3\n\
         registry: {registry}\nenv: {{RUN_NONCE: \"{nonce}\", MODE: \"{env_value}\"}}\n\
         requirements: requirements.txt\nsource_root: src\nsource_copy_mode: all\n\
         builder_config: {{uv_image: \"{uv}\", micromamba_image: \"{python}\"}}\n",
        python = e.python_image,
        registry = e.registry,
        uv = e.uv_image,
    )
}

#[test]
fn explain_against_a_pushed_image_names_the_field_the_line_and_the_file() {
    let e = e2e();
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let root = dir.path();
    let spec = root.join("spec.yaml");
    let spec_arg = spec.to_str().unwrap();
    // A new tag each run: the image is built (and labelled) by this run.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        .to_string();
    write(root, "spec.yaml", &spec_text(&e, &nonce, "one"));
    write(root, "requirements.txt", "six\n");
    write(root, "src/app/main.py", "print('main')\n");
    write(root, "src/app/util.py", "X = 1\n");

    let (report, _) = common::build_report(
        {
            let mut c = common::imagespec();
            c.env("IMAGESPEC_CACHE_DIR", cache.path());
            c
        },
        &[],
        &spec,
    );
    let built = report["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["requested"] == true)
        .unwrap()
        .clone();
    assert_eq!(built["pushed"], true, "{report}");
    let image = built["image_name"].as_str().unwrap().to_string();
    let old_tag = image.rsplit(':').next().unwrap().to_string();

    // The label is in the image's config, and holds no value of the spec.
    let label = e.docker_ok(&[
        "inspect",
        "--format",
        "{{index .Config.Labels \"dev.imagespec.inputs\"}}",
        &image,
    ]);
    assert!(label.trim().starts_with("v1."), "{label}");

    // Unchanged: the same tag.
    let against = format!("image:{image}");
    let (code, out, err) = imagespec(
        &["-q", "explain", spec_arg, "--against", &against],
        cache.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), format!("tag unchanged: {old_tag}"));

    // A field, a requirement line and a source file change.
    write(root, "spec.yaml", &spec_text(&e, &nonce, "two"));
    write(root, "requirements.txt", "six==1.16.0\n# pinned\n");
    write(root, "src/app/util.py", "X = 2\n");
    write(root, "src/app/new.py", "Y = 1\n");
    let (code, out, err) = imagespec(
        &["-q", "explain", spec_arg, "--against", &against],
        cache.path(),
    );
    assert_eq!(code, 0, "{err}");
    let (_, new_name, _) = imagespec(&["tag", spec_arg], cache.path());
    let new_tag = new_name.trim().rsplit(':').next().unwrap().to_string();
    let out = out
        .replace(&old_tag, "[OLD_TAG]")
        .replace(&new_tag, "[NEW_TAG]");
    insta::assert_snapshot!("against_image", out);

    // The same, as JSON; and a bare reference works as `image:REF` does.
    let (code, out, err) = imagespec(
        &["-q", "explain", spec_arg, "--against", &image, "--json"],
        cache.path(),
    );
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["tag"]["old"], old_tag.as_str());
    assert_eq!(doc["tag"]["new"], new_tag.as_str());
    assert!(doc["changes"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!({"kind": "requirements_removed", "count": 1})));
}

#[test]
fn an_image_not_built_by_imagespec_is_named_so() {
    let e = e2e();
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plain = format!("{}/e2e-explain-plain:1", e.registry);
    e.docker_ok(&["tag", &e.python_image, &plain]);
    e.docker_ok(&["push", &plain]);
    write(dir.path(), "spec.yaml", "name: x\n");
    let spec = dir.path().join("spec.yaml");
    let (code, _, err) = imagespec(
        &[
            "-q",
            "explain",
            spec.to_str().unwrap(),
            "--against",
            &format!("image:{plain}"),
        ],
        cache.path(),
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("this image was not built by imagespec (no dev.imagespec.inputs label)"),
        "{err}"
    );
}
