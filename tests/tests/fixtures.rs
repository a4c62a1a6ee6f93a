//! One test per recorded flytekit case (`tests/fixtures/{oracle,hash-cases}/<case>/`),
//! so a case runs by name: `cargo test -p imagespec-tests --test fixtures -- copy`.
//!
//! Each checks, against what flytekit 1.16.31 recorded: id, tag and image
//! name byte for byte; every case flytekit rejects is rejected, with
//! flytekit's words; the build context has the same files with the same
//! bytes, and a Dockerfile equivalent by the oracle's rules (instructions
//! replaced on purpose are listed, with the reason, in the case's
//! `expected/imagespec-differs.txt` or, when they hold for every spec, in
//! `tests/fixtures/flytekit-differences.toml`); the Dockerfile is
//! snapshot-tested.

use std::path::Path;

use imagespec_core::knobs::PythonDefaults;
use imagespec_core::spec::load_file;
use imagespec_tests::{
    link_plugins, normalize_dockerfile, oracle_defaults, write_context, OracleCase, SpecExt,
};
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

/// The case whose `spec.yaml` is at `path`.
fn case_of(path: &Path) -> OracleCase {
    let dir = path.parent().unwrap().to_path_buf();
    let text = std::fs::read_to_string(dir.join("expected/result.json")).unwrap();
    OracleCase {
        name: dir.file_name().unwrap().to_string_lossy().into_owned(),
        result: serde_json::from_str(&text).unwrap(),
        dir,
    }
}

type Outcome = datatest_stable::Result<()>;

fn fail(case: &OracleCase, msg: impl std::fmt::Display) -> Outcome {
    Err(format!("{}: {msg}", case.name).into())
}

fn identity(path: &Path) -> Outcome {
    link_plugins();
    let case = case_of(path);
    let job = load_file(path).map_err(|e| e.to_string()).and_then(|spec| {
        let job = spec.job().map_err(|e| e.to_string())?;
        imagespec_tests::engine(&oracle_defaults())
            .check_context(&job)
            .map_err(|e| e.to_string())?;
        Ok(job)
    });
    match (case.error(), job) {
        (None, Ok(job)) => {
            for (key, got, text) in [
                ("id", &job.identity.id, &job.identity.inputs.id_text),
                ("tag", &job.identity.tag, &job.identity.inputs.tag_text),
                (
                    "image_name",
                    &job.identity.image_name,
                    &job.identity.inputs.tag_text,
                ),
            ] {
                let want = case.field(key).unwrap();
                if got != want {
                    return fail(
                        &case,
                        format!("{key} is `{got}`, flytekit's is `{want}`\n  hashed: {text}"),
                    );
                }
            }
            Ok(())
        }
        // Refused on purpose, before it gets a name (the file says why).
        (None, Err(_)) if case.dir.join("expected/imagespec-refuses.txt").is_file() => Ok(()),
        (None, Err(e)) => fail(&case, format!("flytekit names it, imagespec fails: {e}")),
        (Some(want), Ok(_)) => fail(&case, format!("flytekit fails ({want}), imagespec passes")),
        (Some(want), Err(got)) => {
            // flytekit's message, without its exception type and line layout.
            let core = want.split_once(": ").map_or(want, |(_, m)| m);
            let first = core
                .split(['\n', '.'])
                .next()
                .unwrap()
                .trim()
                .to_lowercase();
            if !got.to_lowercase().contains(&first) {
                return fail(&case, format!("`{got}` does not say `{first}`"));
            }
            Ok(())
        }
    }
}

fn context(path: &Path) -> Outcome {
    link_plugins();
    let case = case_of(path);
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("ctx");
    let refuses = case.dir.join("expected/imagespec-refuses.txt").is_file();
    let written = load_file(path).and_then(|s| write_context(&s, &defaults(&case), &dir));
    let written = match (written, case.error()) {
        (Err(_), Some(_)) | (Err(_), None) if refuses || case.error().is_some() => {
            if dir.exists() {
                return fail(&case, "a failed context leaves nothing behind");
            }
            return Ok(());
        }
        (Ok(_), _) if refuses => return fail(&case, "imagespec should refuse this context"),
        (Ok(_), Some(e)) => {
            return fail(
                &case,
                format!("flytekit fails ({e}), imagespec wrote a context"),
            )
        }
        (Err(e), _) => return fail(&case, e),
        (Ok(w), None) => w,
    };
    let expected = case.result["context_files"].as_object().unwrap();
    let want: Vec<&String> = expected.keys().collect();
    let got: Vec<&String> = written.files.iter().collect();
    if got != want {
        return fail(&case, format!("context files {got:?}, flytekit's {want:?}"));
    }
    for (file, hash) in expected {
        // The Dockerfile differs on purpose (docs/flytekit-compat.md); it is compared below.
        if file != "Dockerfile" && sha256(&dir.join(file)) != hash.as_str().unwrap() {
            return fail(&case, format!("{file} differs from flytekit's"));
        }
    }
    let dockerfile = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
    let ours = normalize_dockerfile(&dockerfile);
    let theirs = normalize_dockerfile(
        &std::fs::read_to_string(case.dir.join("expected/Dockerfile")).unwrap(),
    );
    let replaced: Vec<String> =
        std::fs::read_to_string(case.dir.join("expected/imagespec-differs.txt"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.strip_prefix("- "))
            .map(str::to_string)
            .collect();
    // The Dockerfile differences the live differential test allows
    // (flytekit-differences.toml, kind `dockerfile`) are allowed here too.
    let allowed: Vec<_> =
        imagespec_tests::flytekit::load_differences(&imagespec_tests::flytekit::differences_path())
            .into_iter()
            .filter(|d| d.kind == "dockerfile")
            .collect();
    // Compared as the live differential test compares them: a diff of the
    // instruction lists, whose every hunk is a replacement this case lists
    // (`imagespec-differs.txt`) or is explained by the allow-list.
    use imagespec_tests::flytekit::{diff_lines, hunk_subjects, hunks};
    let theirs =
        imagespec_tests::flytekit::flytekit_instructions_in_imagespec_order(&theirs, &ours);
    let diff = diff_lines(&theirs, &ours);
    let mut unexplained = Vec::new();
    for (only_ours, only_theirs) in hunks(&diff) {
        if !only_theirs.is_empty() && only_theirs.iter().all(|l| replaced.contains(l)) {
            continue;
        }
        if hunk_subjects(&only_ours, &only_theirs)
            .iter()
            .any(|s| !allowed.iter().any(|d| d.matcher.is_match(s)))
        {
            unexplained.push(format!(
                "    ours:   {}\n    theirs: {}",
                only_ours.join("\n            "),
                only_theirs.join("\n            ")
            ));
        }
    }
    let unused: Vec<&String> = replaced
        .iter()
        .filter(|r| !theirs.contains(r) || ours.contains(r))
        .collect();
    if !unexplained.is_empty() || !unused.is_empty() {
        return fail(
            &case,
            format!(
                "Dockerfile differs ({} vs {} instructions)\n{}\n    listed as replaced but not: {unused:?}",
                ours.len(),
                theirs.len(),
                unexplained.join("\n")
            ),
        );
    }
    let warnings: Vec<String> = case.result["warnings"]
        .as_array()
        .map(|w| w.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    if written.warnings != warnings {
        return fail(
            &case,
            format!("warnings {:?}, flytekit's {warnings:?}", written.warnings),
        );
    }
    insta::with_settings!({
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(format!("dockerfile@{}", case.name), dockerfile);
    });
    Ok(())
}

datatest_stable::harness! {
    { test = identity, root = "fixtures", pattern = r"^(oracle|hash-cases)/[^/]+/spec\.yaml$" },
    { test = context, root = "fixtures", pattern = r"^(oracle|hash-cases)/[^/]+/spec\.yaml$" },
}
