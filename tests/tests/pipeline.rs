//! The pipeline's pure stages: `Identity::compute`, `plan` and `render` are
//! functions of a spec and its inputs, tested here on values made in memory,
//! naming files that do not exist (any read would fail). Plus plan snapshots
//! of a few layouts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use imagespec_core::spec::{load_file, load_str, SpecFormat};
use imagespec_identity::BuildJob;
use imagespec_identity::Identity;
use imagespec_inputs::{
    CopyContext, CopyEntry, CopyInputs, Inputs, Requirements, ResolvedBase, SourceFile,
    SourceInputs,
};
use imagespec_tests::{all_cases, link_plugins, oracle_defaults, SpecExt};

/// Where nothing is: a read from here would fail the test.
const NOWHERE: &str = "/nonexistent/imagespec-pure";

fn file(rel: &str) -> SourceFile {
    SourceFile {
        path: PathBuf::from(NOWHERE).join("src").join(rel),
        rel: rel.to_string(),
        hash_name: rel.replace('/', "").into_bytes(),
    }
}

fn in_memory_job() -> BuildJob {
    let spec = load_str(
        "name: pure\npython_version: '3.12'\nregistry: localhost:5000\n\
         source_root: src\nsource_copy_mode: all\ncopy: [conf]\n\
         requirements: reqs.txt\npackages: [six]\nenv: {GREETING: hello world}\n\
         base_image: {name: base, python_version: '3.12'}\ncommands: [echo hi]\n",
        SpecFormat::Yaml,
        None,
        Path::new(NOWHERE),
    )
    .unwrap();
    let inputs = Inputs {
        source: Some(SourceInputs {
            files: vec![file("app.py"), file("pkg/mod.py")],
            digest: "0123456789abcdef0123456789abcdef".into(),
            hashes: vec!["0".repeat(16), "1".repeat(16)],
        }),
        copy: Some(CopyInputs {
            digest: "fedcba9876543210fedcba9876543210".into(),
            digested: vec![file("conf/a.toml")],
            hashes: vec!["2".repeat(16)],
            context: Ok(CopyContext {
                entries: vec![CopyEntry {
                    src: "conf".into(),
                    dst: "/root/conf/".into(),
                }],
                files: vec![SourceFile {
                    rel: "conf/a.toml".into(),
                    ..file("conf/a.toml")
                }],
                dirs: vec!["conf".into()],
            }),
        }),
        requirements: Some(Requirements {
            path: PathBuf::from(NOWHERE).join("reqs.txt"),
            bytes: b"numpy==2.0\n# pinned\n".to_vec(),
            sha1: "5f1b3ab6b5f0f2a3f1b3ab6b5f0f2a3f1b3ab6b5".into(),
        }),
        base: Some(ResolvedBase {
            name: "localhost:5000/base:built".into(),
            built_from: vec![],
        }),
        secrets: vec![],
        side_files: BTreeMap::new(),
        masked: Default::default(),
    };
    let identity = Identity::compute(spec.view(), &inputs).unwrap();
    BuildJob {
        spec,
        inputs,
        identity,
        base: None,
    }
}

#[test]
fn identity_plan_and_render_are_pure_functions_of_spec_and_inputs() {
    link_plugins();
    let job = in_memory_job();
    // The tag hashes the inputs' digests and the base's resolved name.
    let tag_text = &job.identity.inputs.tag_text;
    assert!(
        tag_text.contains("'source_root': '0123456789abcdef0123456789abcdef'"),
        "{tag_text}"
    );
    assert!(
        tag_text.contains("'base_image': 'localhost:5000/base:built'"),
        "{tag_text}"
    );
    assert!(tag_text.contains("'requirements': '5f1b3ab6b5f0f2a3f1b3ab6b5f0f2a3f1b3ab6b5'"));
    assert_eq!(
        Identity::compute(job.spec.view(), &job.inputs).unwrap(),
        job.identity,
        "deterministic"
    );

    let plan = imagespec_plan::plan(
        &job,
        &imagespec_tests::plugins().installers,
        &oracle_defaults(),
    )
    .unwrap();
    let dockerfile = imagespec_plan::render::render(&plan).unwrap();
    assert!(
        dockerfile.contains("\nFROM localhost:5000/base:built\n"),
        "{dockerfile}"
    );
    assert!(dockerfile.contains("COPY --chown=flytekit ./src /root\n"));
    assert!(dockerfile.contains("COPY --chown=flytekit conf /root/conf/\n"));
    assert!(dockerfile.contains("GREETING=\"hello world\""));
    assert!(dockerfile.ends_with(&format!("ENV _F_IMG_ID={}\n", job.identity.id)));
    // The requirements file's text came from the inputs, not from a file.
    let requirements = plan
        .files
        .iter()
        .find(|f| f.path == "requirements_uv.txt")
        .expect("requirements_uv.txt is planned");
    assert_eq!(
        requirements.content,
        imagespec_plan::FileContent::Text("numpy==2.0\n# pinned\nsix\nflytekit==1.16.31".into())
    );
    let sources: Vec<&str> = plan.files.iter().map(|f| f.path.as_str()).collect();
    assert!(
        sources.contains(&"src/pkg/mod.py") && sources.contains(&"conf/a.toml"),
        "{sources:?}"
    );
    insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("pure@dockerfile", dockerfile);
    });
}

/// Plan snapshots of a few layouts (the Dockerfile of every fixture is
/// snapshot-tested in `fixtures.rs`).
#[test]
fn plan_snapshots() {
    link_plugins();
    for name in ["python-exec", "uv-lock", "copy"] {
        let case = all_cases().into_iter().find(|c| c.name == name).unwrap();
        let job = load_file(&case.spec()).unwrap().job().unwrap();
        let plan = imagespec_plan::plan(
            &job,
            &imagespec_tests::plugins().installers,
            &oracle_defaults(),
        )
        .unwrap();
        let root = case.dir.display().to_string();
        insta::with_settings!({
            snapshot_path => "snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
            filters => vec![(regex_escape(&root).as_str(), "[CASE]")],
        }, {
            insta::assert_json_snapshot!(format!("plan@{name}"), plan);
        });
    }
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if "\\.+*?()|[]{}^$".contains(c) {
                format!("\\{c}")
            } else {
                c.to_string()
            }
        })
        .collect()
}
