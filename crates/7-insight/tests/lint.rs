//! Each lint, on a small spec written to a folder with the files it names,
//! prepared as the CLI prepares it; the lints are snapshots
//! (`tests/snapshots/lint__<case>.snap`), their messages included.

use std::collections::BTreeSet;
use std::path::Path;

use imagespec_core::spec::{load_file_with, LoadOptions};
use imagespec_insight::lint::{lint, lint_spec, Lint, CODES};

/// What every spec below sets unless it is the point: a quoted Python and a
/// pinned flytekit.
const PINNED: &str = "python_version: \"3.12\"\npackages: [flytekit==1.16.31]\n";

struct Case {
    name: &'static str,
    spec: String,
    files: Vec<(&'static str, &'static str)>,
    /// Loaded module files, relative to the folder.
    loaded: Option<Vec<&'static str>>,
    /// Where the spec file is, in the folder.
    at: &'static str,
    /// `--allow-outside-paths`.
    allow_outside: bool,
}

fn case(name: &'static str, spec: &str, files: &[(&'static str, &'static str)]) -> Case {
    Case {
        name,
        spec: spec.to_string(),
        files: files.to_vec(),
        loaded: None,
        at: "spec.yaml",
        allow_outside: false,
    }
}

fn cases() -> Vec<Case> {
    vec![
        case(
            "python_version_float",
            "name: a\npython_version: 3.10\npackages: [flytekit==1.16.31]\n",
            &[],
        ),
        case(
            "python_version_type",
            "name: a\npython_version: true\npackages: [flytekit==1.16.31]\n",
            &[],
        ),
        case(
            "python_version_unset",
            "name: a\npackages: [flytekit==1.16.31]\n",
            &[],
        ),
        case(
            "yaml11_bool",
            &format!("name: a\n{PINNED}env:\n  FLAG: yes\n  DEBUG: true\n  KEPT: True\n  on: x\n"),
            &[],
        ),
        case(
            "yaml11_octal",
            &format!("name: a\n{PINNED}env:\n  MODE: 0755\n  PORT: 8080\n"),
            &[],
        ),
        case(
            "yaml11_other",
            &format!(
                "name: a\n{PINNED}env:\n  T: 1:30\n  H: 0x1A\n  R: 1.50\n  N: ~\n  E:\n  S: 1.5\n  D: 2024-01-02\n"
            ),
            &[],
        ),
        case(
            "source_copy_mode_string",
            &format!("name: a\n{PINNED}source_root: src\nsource_copy_mode: no_copy\n"),
            &[("src/a.py", "")],
        ),
        case(
            "source_copy_mode_value",
            &format!("name: a\n{PINNED}source_root: src\nsource_copy_mode: 5\n"),
            &[("src/a.py", "")],
        ),
        case(
            "loaded_modules_copies_nothing",
            &format!("name: a\n{PINNED}source_root: src\n"),
            &[("src/a.py", "")],
        ),
        Case {
            loaded: Some(vec!["src/a.py"]),
            ..case(
                "loaded_modules_relative_root",
                &format!("name: a\n{PINNED}source_root: src\n"),
                &[("src/a.py", "")],
            )
        },
        case(
            "relative_source_root_ignores",
            &format!("name: a\n{PINNED}source_root: src\nsource_copy_mode: all\n"),
            &[
                ("src/a.py", ""),
                ("src/docs/guide.md", ""),
                ("src/build.log", ""),
                ("src/.dockerignore", "docs/\n*.log\n"),
            ],
        ),
        case(
            "env_variable_reference",
            &format!(
                "name: a\n{PINNED}env:\n  PATH: /opt/tools:$PATH\n  PYTHONPATH: /extra:$PYTHONPATH\n  \
                 BASE: /opt/app\n  DATA: $BASE/data\n  CACHE: ${{HOME}}/.cache\n  PLAIN: /x\n"
            ),
            &[],
        ),
        case(
            "unpinned_flytekit",
            "name: a\npython_version: \"3.12\"\npackages: [\"flytekit[pandas]>=1.16\", numpy]\n",
            &[],
        ),
        case(
            "unpinned_flytekit_not_seen_by_flytekit",
            "name: a\npython_version: \"3.12\"\nrequirements: requirements.txt\n",
            &[("requirements.txt", "# pins\nFlytekit>=1.10\npandas==2.2.0\n")],
        ),
        case(
            "flytekit_unset",
            "name: a\npython_version: \"3.12\"\npackages:\n  - numpy\n  - flytekitplugins-pod\n",
            &[],
        ),
        case(
            "duplicate_package",
            "name: a\npython_version: \"3.12\"\nrequirements: requirements.txt\npackages:\n  - six==1.15\n  \
             - numpy<2\n  - Six==1.16\n  - flytekit==1.16.31\n  - flytekit==1.16.31\n",
            &[("requirements.txt", "numpy>=1.20\nflytekit==1.16.31\n")],
        ),
        case(
            "credentials_in_url",
            &format!(
                "name: a\n{PINNED}requirements: requirements.txt\n\
                 pip_index: https://me:s3cr3t-idx@pypi.example.com/simple\n\
                 pip_extra_index_url: [\"https://tok-en-42@extra.example.com/simple\"]\n\
                 pip_extra_args: --find-links https://fl:fl-pass-1@files.example.com/\n\
                 commands: [\"curl -fsSO https://cu:curl-pass-2@get.example.com/tool\"]\n"
            )
            .replace(
                "packages: [flytekit==1.16.31]",
                "packages: [flytekit==1.16.31, \"priv @ git+https://gh:ghp-tok-3@github.com/o/priv.git\"]",
            ),
            &[(
                "requirements.txt",
                "--extra-index-url https://rq:req-pass-4@more.example.com/simple\nsix\n",
            )],
        ),
        case(
            "credentials_in_env",
            &format!(
                "name: a\n{PINNED}env:\n  HF_TOKEN: hf-secret-value-5\n  DB_URL: postgres://app:db-pass-6@db/x\n  \
                 TOKENIZERS_PARALLELISM: \"false\"\n  HF_TOKEN_PATH: /run/secrets/hf\n  GH_TOKEN: $GH_TOKEN\n"
            ),
            &[],
        ),
        case(
            "commands_rerun_on_source_change",
            &format!(
                "name: a\n{PINNED}copy: [setup.cfg]\ncommands:\n  - apt-get update\n  - make -C /root\n"
            ),
            &[("setup.cfg", "[x]\n")],
        ),
        Case {
            at: "project/spec.yaml",
            allow_outside: true,
            ..case(
                "path_outside_project",
                "name: a\npython_version: \"3.12\"\nrequirements: ../shared/requirements.txt\n",
                &[("shared/requirements.txt", "flytekit==1.16.31\n")],
            )
        },
        case(
            "nested_base",
            "name: a\npython_version: \"3.12\"\npackages: [flytekit==1.16.31]\nbase_image:\n  name: b\n  \
             python_version: 3.10\n  packages: [flytekit==1.16.31]\n  env:\n    X: yes\n",
            &[],
        ),
    ]
}

/// The lints of a case, and the folder's path (to take out of the text).
fn run(c: &Case) -> (Vec<Lint>, Vec<Lint>, String) {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in &c.files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    let file = dir.path().join(c.at);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, &c.spec).unwrap();
    let options = LoadOptions {
        loaded_modules: c.loaded.as_ref().map(|l| {
            l.iter()
                .map(|p| dir.path().join(p).to_string_lossy().into_owned())
                .collect()
        }),
        allow_outside_paths: c.allow_outside,
        ..LoadOptions::default()
    };
    let spec = load_file_with(&file, &options).unwrap();
    let plugins = imagespec_engine::Plugins::registered().unwrap();
    let job = imagespec_engine::Engine::new(&plugins, Default::default(), 1)
        .prepare(spec.view())
        .unwrap();
    (
        lint(&job),
        lint_spec(spec.view()),
        dir.path().to_string_lossy().into_owned(),
    )
}

fn render(lints: &[Lint], dir: &str) -> String {
    let mut out = String::new();
    for l in lints {
        let line = l.line.map_or("-".to_string(), |n| n.to_string());
        out.push_str(&format!(
            "{} {} (line {line})\n  message: {}\n  fix: {}\n",
            l.code, l.field, l.message, l.fix
        ));
    }
    out.replace(dir, "[dir]")
}

fn check(name: &str) {
    let all = cases();
    let c = all.iter().find(|c| c.name == name).unwrap();
    let (lints, spec_only, dir) = run(c);
    // What lint_spec finds, lint finds too (a duplicate may be named
    // against another first occurrence once the requirements file is read).
    for l in &spec_only {
        assert!(
            lints
                .iter()
                .any(|k| (k.code, &k.field) == (l.code, &l.field)),
            "lint_spec found {l:?}, lint did not"
        );
    }
    let text = render(&lints, &dir);
    insta::with_settings!({ description => c.spec.clone(), omit_expression => true }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn path_outside_project() {
    check("path_outside_project");
}
#[test]
fn python_version_float() {
    check("python_version_float");
}
#[test]
fn python_version_type() {
    check("python_version_type");
}
#[test]
fn python_version_unset() {
    check("python_version_unset");
}
#[test]
fn yaml11_bool() {
    check("yaml11_bool");
}
#[test]
fn yaml11_octal() {
    check("yaml11_octal");
}
#[test]
fn yaml11_other() {
    check("yaml11_other");
}
#[test]
fn source_copy_mode_string() {
    check("source_copy_mode_string");
}
#[test]
fn source_copy_mode_value() {
    check("source_copy_mode_value");
}
#[test]
fn loaded_modules_copies_nothing() {
    check("loaded_modules_copies_nothing");
}
#[test]
fn loaded_modules_relative_root() {
    check("loaded_modules_relative_root");
}
#[test]
fn relative_source_root_ignores() {
    check("relative_source_root_ignores");
}
#[test]
fn env_variable_reference() {
    check("env_variable_reference");
}
#[test]
fn unpinned_flytekit() {
    check("unpinned_flytekit");
}
#[test]
fn unpinned_flytekit_not_seen_by_flytekit() {
    check("unpinned_flytekit_not_seen_by_flytekit");
}
#[test]
fn flytekit_unset() {
    check("flytekit_unset");
}
#[test]
fn duplicate_package() {
    check("duplicate_package");
}
#[test]
fn credentials_in_url() {
    check("credentials_in_url");
}
#[test]
fn credentials_in_env() {
    check("credentials_in_env");
}
#[test]
fn commands_rerun_on_source_change() {
    check("commands_rerun_on_source_change");
}
#[test]
fn nested_bases_are_linted_with_their_prefix() {
    check("nested_base");
}

#[test]
fn secrets_never_appear_in_lints() {
    for c in cases() {
        let (lints, _, _) = run(&c);
        let text = format!("{lints:?}");
        for secret in [
            "s3cr3t-idx",
            "tok-en-42",
            "fl-pass-1",
            "curl-pass-2",
            "ghp-tok-3",
            "req-pass-4",
            "hf-secret-value-5",
            "db-pass-6",
        ] {
            assert!(!text.contains(secret), "{}: {text}", c.name);
        }
    }
}

#[test]
fn a_clean_spec_has_no_lints() {
    let c = case(
        "clean",
        "name: a\npython_version: \"3.12\"\npackages: [flytekit==1.16.31, numpy]\nenv:\n  PORT: 8080\n  \
         FLAG: \"yes\"\n  HOME_DIR: /home/flytekit\ncopy: [setup.cfg]\nentrypoint: [python]\n",
        &[("setup.cfg", "")],
    );
    let (lints, spec_only, _) = run(&c);
    assert_eq!(lints, [], "{lints:#?}");
    assert_eq!(spec_only, []);
}

#[test]
fn lints_are_sorted_by_line_then_code() {
    let (lints, _, _) = run(cases().iter().find(|c| c.name == "yaml11_other").unwrap());
    let keys: Vec<(usize, &str)> = lints
        .iter()
        .map(|l| (l.line.unwrap_or(usize::MAX), l.code))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn codes_are_exactly_those_the_tests_produce() {
    let produced: BTreeSet<&str> = cases()
        .iter()
        .flat_map(|c| run(c).0.into_iter().map(|l| l.code))
        .collect();
    let listed: BTreeSet<&str> = CODES.iter().map(|(c, _)| *c).collect();
    assert_eq!(listed.len(), CODES.len(), "a code is listed twice");
    assert_eq!(produced, listed);
    assert!(listed.iter().all(|c| c
        .chars()
        .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')));
}

#[test]
fn codes_are_documented() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/lints.md"))
            .unwrap();
    for (code, _) in CODES {
        assert!(
            doc.contains(&format!("`{code}`")),
            "docs/lints.md lacks `{code}`"
        );
    }
}

#[test]
fn scalars_are_read_as_written_in_flow_style_with_anchors_and_comments() {
    let spec = imagespec_core::spec::load_str(
        "name: a\npython_version: 3.9  # a float, written as its value\nenv: {A: yes, B: 0755, C: 8080}\n\
         base_image:\n  name: b\n  python_version: \"3.12\"\n  env:\n    D: &x off  # comment\n    E: *x\n",
        imagespec_core::spec::SpecFormat::Yaml,
        None,
        Path::new("."),
    )
    .unwrap();
    let got: Vec<(&str, String, Option<usize>)> = lint_spec(spec.view())
        .iter()
        .filter(|l| l.code.starts_with("yaml11") || l.code.starts_with("python-version-f"))
        .map(|l| (l.code, l.field.clone(), l.line))
        .collect();
    let want = [
        ("yaml11-bool", "env.A", Some(3)),
        ("yaml11-octal", "env.B", Some(3)),
        ("yaml11-bool", "base_image.env.D", Some(8)),
        // Through its alias too.
        ("yaml11-bool", "base_image.env.E", Some(9)),
    ];
    let want: Vec<(&str, String, Option<usize>)> = want
        .iter()
        .map(|(c, f, l)| (*c, f.to_string(), *l))
        .collect();
    assert_eq!(got, want);
}
