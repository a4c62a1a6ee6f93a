//! For every recorded flytekit case: the build context imagespec writes has
//! the same files with the same bytes, and a Dockerfile equivalent to
//! flytekit's by the oracle's rules. Plus insta snapshots of every Dockerfile
//! and plan.

use std::path::Path;

use imagespec_core::context::write_context;
use imagespec_core::knobs::PythonDefaults;
use imagespec_core::spec::load_file;
use imagespec_tests::{all_cases, link_plugins, normalize_dockerfile, OracleCase};
use sha2::{Digest, Sha256};

fn defaults(case: &OracleCase) -> PythonDefaults {
    PythonDefaults {
        default_python: case.field("default_python").unwrap_or("3.11").to_string(),
        flytekit_requirement: format!(
            "flytekit=={}",
            case.field("flytekit_version").unwrap_or("1.16.31")
        ),
    }
}

fn sha256(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// Files flytekit and imagespec write differently on purpose (docs/flytekit-compat.md).
const DIFFERENT_ON_PURPOSE: [&str; 1] = ["Dockerfile"];

#[test]
fn contexts_match_flytekit() {
    link_plugins();
    let mut failures = Vec::new();
    for case in all_cases() {
        let spec = load_file(&case.spec());
        let out = tempfile::tempdir().unwrap();
        let dir = out.path().join("ctx");
        let written = spec.and_then(|s| write_context(&s, &defaults(&case), &dir));
        // Cases where imagespec refuses on purpose what flytekit writes (the
        // file says why; docs/flytekit-compat.md lists them).
        let refuses = case.dir.join("expected/imagespec-refuses.txt").is_file();
        let written = match (written, case.error()) {
            (Err(_), None) if refuses => {
                assert!(
                    !dir.exists(),
                    "{}: a failed context leaves nothing behind",
                    case.name
                );
                continue;
            }
            (Ok(_), None) if refuses => {
                failures.push(format!(
                    "{}: imagespec should refuse this context",
                    case.name
                ));
                continue;
            }
            (Ok(w), None) => w,
            (Err(_), Some(_)) => {
                assert!(
                    !dir.exists(),
                    "{}: a failed context leaves nothing behind",
                    case.name
                );
                continue;
            }
            (Ok(_), Some(e)) => {
                failures.push(format!(
                    "{}: flytekit fails ({e}), imagespec wrote a context",
                    case.name
                ));
                continue;
            }
            (Err(e), None) => {
                failures.push(format!("{}: {e}", case.name));
                continue;
            }
        };
        let expected = case.result["context_files"].as_object().unwrap();
        let got: Vec<&String> = written.files.iter().collect();
        let want: Vec<&String> = expected.keys().collect();
        if got != want {
            failures.push(format!(
                "{}: context files {got:?}, flytekit's {want:?}",
                case.name
            ));
        }
        for (file, hash) in expected {
            if DIFFERENT_ON_PURPOSE.contains(&file.as_str()) || !dir.join(file).exists() {
                continue;
            }
            if sha256(&dir.join(file)) != hash.as_str().unwrap() {
                failures.push(format!("{}: {file} differs from flytekit's", case.name));
            }
        }
        let ours = normalize_dockerfile(&std::fs::read_to_string(dir.join("Dockerfile")).unwrap());
        let theirs = normalize_dockerfile(
            &std::fs::read_to_string(case.dir.join("expected/Dockerfile")).unwrap(),
        );
        // Instructions of flytekit's that imagespec replaces on purpose, with the
        // reason in the file (docs/flytekit-compat.md lists them all).
        let replaced: Vec<String> =
            std::fs::read_to_string(case.dir.join("expected/imagespec-differs.txt"))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.strip_prefix("- "))
                .map(str::to_string)
                .collect();
        let unexplained: Vec<String> = ours
            .iter()
            .zip(theirs.iter())
            .filter(|(a, b)| a != b && !replaced.contains(b))
            .map(|(a, b)| format!("    ours:   {a}\n    theirs: {b}"))
            .collect();
        let unused: Vec<&String> = replaced
            .iter()
            .filter(|r| !theirs.contains(r) || ours.contains(r))
            .collect();
        if ours.len() != theirs.len() || !unexplained.is_empty() || !unused.is_empty() {
            failures.push(format!(
                "{}: Dockerfile differs ({} vs {} instructions)\n{}{}",
                case.name,
                ours.len(),
                theirs.len(),
                unexplained.join("\n"),
                if unused.is_empty() {
                    String::new()
                } else {
                    format!("\n    listed as replaced but not: {unused:?}")
                }
            ));
        }
        let warnings: Vec<String> = case.result["warnings"]
            .as_array()
            .map(|w| w.iter().map(|x| x.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        if written.warnings != warnings {
            failures.push(format!(
                "{}: warnings {:?}, flytekit's {warnings:?}",
                case.name, written.warnings
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn dockerfile_and_plan_snapshots() {
    link_plugins();
    for case in all_cases() {
        if case.error().is_some() || case.dir.join("expected/imagespec-refuses.txt").is_file() {
            continue;
        }
        let spec = load_file(&case.spec()).unwrap();
        let plan = imagespec_core::plan::plan(&spec, &defaults(&case)).unwrap();
        let dockerfile = imagespec_core::render::render(&plan).unwrap();
        let root = case.dir.display().to_string();
        insta::with_settings!({
            snapshot_path => "snapshots",
            prepend_module_to_snapshot => false,
            filters => vec![(regex_escape(&root).as_str(), "[CASE]")],
        }, {
            insta::assert_snapshot!(format!("dockerfile@{}", case.name), dockerfile);
            insta::assert_json_snapshot!(format!("plan@{}", case.name), plan);
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

#[test]
fn normalizer_follows_the_oracle_rules() {
    let a = "#syntax=x\nfrom a as b\nRUN --mount=type=cache,x=1 \\\n   \nENV A=\"x y\" B=c\\ d\nRUN  echo   hi\n";
    assert_eq!(
        normalize_dockerfile(a),
        vec!["FROM a AS b", "ENV A=x y B=c d", "RUN echo hi"]
    );
}
