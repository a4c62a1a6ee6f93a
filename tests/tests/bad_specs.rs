//! The corpus of bad specs (`tests/fixtures/bad-specs/<case>/spec.yaml`):
//! the hostile specs of the hardening issue and those the property tests
//! found. Each is refused already by what `tag` runs (so it gets no name),
//! `context` refuses it with the same message, the message names the field
//! or the place, and it is kept as a snapshot (`bad-spec@<case>`).

use std::path::Path;

use imagespec_core::spec::load_file;
use imagespec_tests::{link_plugins, oracle_defaults, SpecExt};

/// What `tag` runs: load, prepare, the checks of the Docker builder (its
/// context's: no builder is linked here).
fn tag_verdict(spec_file: &Path) -> Result<imagespec_identity::BuildJob, imagespec_core::Error> {
    let spec = load_file(spec_file)?;
    let job = spec.job()?;
    imagespec_tests::engine(&oracle_defaults()).check_context(&job)?;
    Ok(job)
}

#[test]
fn every_bad_spec_is_refused_by_tag_and_context_alike() {
    link_plugins();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bad-specs");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 20, "the corpus is there: {names:?}");
    for name in names {
        let dir = root.join(&name);
        let spec_file = dir.join("spec.yaml");
        let err = match tag_verdict(&spec_file) {
            Ok(_) => panic!("{name}: `tag` accepts it"),
            Err(e) => e,
        };
        assert!(
            err.is_invalid_spec(),
            "{name}: not a spec error (exit 2): {err}"
        );
        // `context` runs the same checks first, then writes nothing.
        let out = tempfile::tempdir().unwrap();
        let ctx = load_file(&spec_file).and_then(|spec| {
            imagespec_tests::write_context(&spec, &oracle_defaults(), &out.path().join("ctx"))
        });
        let ctx_err = ctx.expect_err("context refuses it too");
        assert_eq!(
            ctx_err.to_string(),
            err.to_string(),
            "{name}: the same verdict"
        );
        assert!(!out.path().join("ctx").exists(), "{name}: nothing written");
        let message = err
            .to_string()
            .replace(&format!("{}/", dir.display()), "")
            .replace(&dir.display().to_string(), "<case>");
        assert!(
            message.contains("field `") || message.starts_with("spec.yaml:"),
            "{name}: the message names no field or line: {message}"
        );
        insta::assert_snapshot!(format!("bad-spec@{name}"), message);
    }
}
