//! Property tests of spec parsing and rendering, checked with BuildKit's own
//! parser (the Go one; see `imagespec_tests::buildkit`):
//!
//! - no input panics, be it YAML text or a spec of hostile values;
//! - a spec `tag` accepts renders a Dockerfile (the context refuses it only
//!   with a spec error naming the field);
//! - BuildKit finds in that Dockerfile exactly the plan's instructions, in
//!   order, and no heredoc; imagespec's own emulation of its parser agrees;
//! - no value reaches the Dockerfile unquoted: each ENTRYPOINT, COPY, USER
//!   and WORKDIR holds exactly the plan's values, each ENV the plan's names,
//!   each RUN the plan's mounts, and the apt step, run by a real shell with
//!   `apt-get` stubbed, receives exactly the spec's packages.
//!
//! Bounded: `IMAGESPEC_PROPTEST_CASES` cases per property (default 256;
//! `cargo xtask ci` sets it). A failure is kept in
//! `tests/proptest-regressions/properties.txt`, replayed first by every later
//! run; a bad spec found this way also goes into `tests/fixtures/bad-specs/`
//! with a snapshot of its message (`tests/tests/bad_specs.rs`).

use std::cell::RefCell;
use std::path::Path;

use imagespec_core::spec::{load_str, SpecFormat};
use imagespec_plan::render::planned_keywords;
use imagespec_plan::{BuildPlan, Step};
use imagespec_tests::buildkit::{BuildkitParser, Parsed};
use imagespec_tests::{link_plugins, oracle_defaults, SpecExt};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};

fn cases() -> u32 {
    std::env::var("IMAGESPEC_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/properties.txt",
        ))),
        max_shrink_iters: 2000,
        ..Config::default()
    })
}

/// Pieces of hostile values: shell and Dockerfile syntax, globs, quotes,
/// heredoc openers, flags, comment starts, continuations.
const ATOMS: &[&str] = &[
    " ", "  ", "\t", "#", "# c", "\\", "\\ ", "$", "$HOME", "${X}", "$(id)", "`id`", "*", "?", "[",
    "]", "\"", "'", "<<EOF", "<<-E", "<<'Q'", "EOF", "--", "--flag", "=", "&&", ";", "|", ">", "<",
    "~", "!", "{", "}", ",", "@", "..", "RUN x", "FROM y", "ENV Z=1", "é", "日本", "\u{feff}", "%",
    "+", "^", "\u{a0}",
];

/// Characters that end a line somewhere: in the Dockerfile, in a
/// requirements file, in a terminal.
const BREAKS: &[&str] = &[
    "\n",
    "\r",
    "\r\n",
    "\\\n",
    "\u{2028}",
    "\u{2029}",
    "\u{85}",
    "\u{0b}",
    "\u{0c}",
    "\0",
    "\u{1b}[31m",
];

/// Pieces of ordinary values, drawn most often so that many specs pass the
/// checks and reach the renderer.
const PLAIN: &[&str] = &[
    "a", "b1", "pkg", "x.y", "-", "_", "==1.0", ".", ":", "/", "2",
];

fn hostile() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        12 => prop::sample::select(PLAIN),
        4 => prop::sample::select(ATOMS),
        1 => prop::sample::select(BREAKS),
    ];
    prop_oneof![
        30 => prop::collection::vec(atom, 1..5).prop_map(|v| v.concat()),
        1 => Just(String::new()),
    ]
}

/// An ordinary value.
fn plain() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PLAIN), 1..4).prop_map(|v| v.concat())
}

fn plain_list() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(plain(), 0..3)
}

/// The places a hostile value can go.
const SLOTS: &[&str] = &[
    "packages",
    "apt_packages",
    "conda_packages",
    "commands",
    "copy",
    "entrypoint",
    "pip_extra_index_url",
    "pip_index",
    "pip_extra_args",
    "python_exec",
    "base_image",
    "env-key",
    "env-value",
    "secret-src",
    "secret-dst",
    "source_root",
    "registry",
    "name",
    "platform",
];

/// A spec of ordinary values with one to three hostile ones put into it, as
/// JSON (so every value reaches the loader as written), and the names of
/// the files to make beside it.
fn spec() -> impl Strategy<Value = (Value, Vec<String>)> {
    let plain_fields = (
        plain_list(),
        plain_list(),
        plain_list(),
        plain_list(),
        plain_list(),
        prop::option::of(plain_list()),
        prop::collection::btree_map("[A-Z][A-Z0-9_]{0,5}", plain(), 0..3),
        any::<bool>(),
    );
    let hostile_values = prop::collection::vec((prop::sample::select(SLOTS), hostile()), 1..4);
    (plain_fields, hostile_values).prop_map(
        |((packages, apt, conda, commands, copy, entrypoint, env, conda_not_exec), hostile)| {
            let mut m = Map::new();
            m.insert("name".into(), json!("prop"));
            m.insert("packages".into(), json!(packages));
            m.insert("apt_packages".into(), json!(apt));
            m.insert("commands".into(), json!(commands));
            m.insert("copy".into(), json!(copy));
            if conda_not_exec {
                m.insert("conda_packages".into(), json!(conda));
            } else {
                m.insert("python_exec".into(), json!("/usr/bin/python3"));
            }
            if let Some(e) = entrypoint {
                m.insert("entrypoint".into(), json!(e));
            }
            let mut env: Map<String, Value> = env.into_iter().map(|(k, v)| (k, json!(v))).collect();
            let mut files = copy.clone();
            let mut secret = (String::from("secret.txt"), String::from("/run/s"));
            let mut with_secret = false;
            for (slot, value) in hostile {
                let mut push = |k: &str| {
                    let list = m.entry(k).or_insert_with(|| json!([]));
                    if let Some(a) = list.as_array_mut() {
                        a.insert(0, json!(value.clone()));
                    } else {
                        *list = json!([value.clone()]);
                    }
                };
                match slot {
                    "packages"
                    | "apt_packages"
                    | "conda_packages"
                    | "commands"
                    | "entrypoint"
                    | "pip_extra_index_url" => push(slot),
                    "copy" => {
                        push("copy");
                        files.push(value.clone());
                    }
                    "env-key" => {
                        env.insert(value.clone(), json!("v"));
                    }
                    "env-value" => {
                        env.insert("HOSTILE".into(), json!(value.clone()));
                    }
                    "secret-src" => {
                        secret.0 = value.clone();
                        with_secret = true;
                    }
                    "secret-dst" => {
                        secret.1 = value.clone();
                        with_secret = true;
                    }
                    "source_root" => {
                        m.insert("source_root".into(), json!(value.clone()));
                        m.insert("source_copy_mode".into(), json!("all"));
                        files.push(format!("{value}/app.py"));
                    }
                    other => {
                        m.insert(other.into(), json!(value.clone()));
                    }
                }
            }
            m.insert("env".into(), Value::Object(env));
            if with_secret {
                files.push(secret.0.clone());
                m.insert("pip_secret_mounts".into(), json!([[secret.0, secret.1]]));
            }
            (Value::Object(m), files)
        },
    )
}

/// Makes the files a spec names (relative paths, in `dir`) where the file
/// system can hold the name; a name it cannot hold stays missing.
fn make_files(dir: &Path, names: &[String]) {
    for name in names {
        let path = Path::new(name);
        let inside = !name.is_empty()
            && name.len() < 200
            && !name.contains('\0')
            && path.is_relative()
            && path
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
        if inside {
            let full = dir.join(path);
            if let Some(parent) = full.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            if !full.exists() {
                let _ = std::fs::write(&full, "content");
            }
        }
    }
}

/// With `IMAGESPEC_PROPTEST_DEBUG` set, prints why a spec was refused (to
/// tune the generators).
fn debug_refusal(message: &str) {
    if std::env::var_os("IMAGESPEC_PROPTEST_DEBUG").is_some() {
        eprintln!("refused: {}", message.lines().next().unwrap_or_default());
    }
}

fn fail(msg: String) -> TestCaseError {
    TestCaseError::fail(msg)
}

/// The plan's steps per instruction, in rendering order (`None` for FROM).
fn planned_steps(plan: &BuildPlan) -> Vec<Option<&Step>> {
    let mut out = Vec::new();
    for stage in &plan.stages {
        out.push(None);
        out.extend(
            stage
                .steps
                .iter()
                .filter(|s| !matches!(s, Step::Comment { .. }))
                .map(Some),
        );
    }
    out
}

/// What a real shell passes to `apt-get` in the apt step's script.
fn apt_arguments(script: &str, dir: &Path) -> Result<Vec<String>, TestCaseError> {
    let stubbed = format!(
        "set -f; apt-get() {{ for a in \"$@\"; do printf '%s\\0' \"$a\"; done; }}; {script}"
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &stubbed])
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .map_err(|e| fail(format!("bash: {e}")))?;
    if !out.status.success() {
        return Err(fail(format!(
            "the apt step's script fails in a shell: {script}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let mut args: Vec<String> = out
        .stdout
        .split(|b| *b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();
    // The text after the last NUL.
    args.pop();
    Ok(args)
}

/// The instruction BuildKit parsed matches the plan's step.
fn same_step(step: &Step, got: &Parsed, dir: &Path, apt: &[String]) -> Result<(), TestCaseError> {
    let want_values = |want: Vec<String>| -> Result<(), TestCaseError> {
        if got.value != want {
            return Err(fail(format!(
                "{got:?} holds {:?}, the plan {want:?}",
                got.value
            )));
        }
        Ok(())
    };
    match step {
        Step::Entrypoint { args } => want_values(args.clone()),
        Step::Copy { src, dst, .. } => want_values(vec![src.clone(), dst.clone()]),
        Step::User { name } => want_values(vec![name.clone()]),
        Step::Workdir { path } => want_values(vec![path.clone()]),
        Step::Env { vars } => {
            let names: Vec<&String> = got.value.iter().step_by(2).collect();
            let want: Vec<&String> = vars.iter().map(|v| &v.name).collect();
            if names != want {
                return Err(fail(format!("ENV names {names:?}, the plan's {want:?}")));
            }
            Ok(())
        }
        Step::Run { mounts, .. } => {
            if got.flags.len() != mounts.len() {
                return Err(fail(format!(
                    "RUN flags {:?}, the plan's mounts {mounts:?}",
                    got.flags
                )));
            }
            let script = got.value.join(" ");
            if script.starts_with("apt-get update &&") {
                let mut want = vec!["update", "install", "-y", "--no-install-recommends"]
                    .into_iter()
                    .map(String::from)
                    .collect::<Vec<_>>();
                want.extend(apt.iter().filter(|p| !p.is_empty()).cloned());
                let seen = apt_arguments(&script, dir)?;
                if seen != want {
                    return Err(fail(format!(
                        "apt-get got {seen:?}, the spec says {want:?}"
                    )));
                }
            }
            Ok(())
        }
        Step::Shell { args } => want_values(args.clone()),
        Step::Comment { .. } => Ok(()),
    }
}

fn check_spec(
    parser: &RefCell<BuildkitParser>,
    spec_json: &Value,
    files: &[String],
) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    make_files(dir.path(), files);
    let spec = match load_str(&spec_json.to_string(), SpecFormat::Json, None, dir.path()) {
        Ok(spec) => spec,
        Err(e) => {
            debug_refusal(&e.to_string());
            return Ok(());
        }
    };
    check_loaded(parser, &spec, dir.path())
}

/// The properties of a loaded spec whose files are in `dir`.
fn check_loaded(
    parser: &RefCell<BuildkitParser>,
    spec: &imagespec_core::Loaded,
    dir: &Path,
) -> Result<(), TestCaseError> {
    // What `tag` accepts.
    let job = match spec.job() {
        Ok(job) => job,
        Err(e) => {
            debug_refusal(&e.to_string());
            return Ok(());
        }
    };
    // What `tag` runs: no builder is linked here, so the Docker context's
    // checks stand for the builder's.
    let engine = imagespec_tests::engine(&oracle_defaults());
    // The context may still refuse, as flytekit's build does, but only for
    // the spec's sake (the message names the field).
    let refused = |e: imagespec_core::Error| -> Result<(), TestCaseError> {
        match e {
            imagespec_core::Error::Spec(_) => Ok(()),
            other => Err(fail(format!(
                "a spec `tag` accepts fails to render: {other}"
            ))),
        }
    };
    if let Err(e) = engine.check_context(&job) {
        return refused(e);
    }
    let plan = match imagespec_plan::plan(
        &job,
        &imagespec_tests::plugins().installers,
        &oracle_defaults(),
    ) {
        Ok(p) => p,
        Err(e) => return refused(e),
    };
    let text = imagespec_plan::render::render(&plan)
        .map_err(|e| fail(format!("a spec `tag` accepts does not render: {e}")))?;
    RENDERED.with(|r| r.set(r.get() + 1));
    let parsed = parser
        .borrow_mut()
        .parse(&text)
        .map_err(|e| fail(format!("BuildKit refuses the Dockerfile: {e}\n{text}")))?;
    let keywords: Vec<&str> = parsed.iter().map(|p| p.keyword.as_str()).collect();
    if keywords != planned_keywords(&plan) {
        return Err(fail(format!(
            "BuildKit sees {keywords:?}, the plan {:?}\n{text}",
            planned_keywords(&plan)
        )));
    }
    if let Some(p) = parsed.iter().find(|p| !p.heredocs.is_empty()) {
        return Err(fail(format!("a heredoc opened: {p:?}\n{text}")));
    }
    let ours: Vec<String> = imagespec_core::dockerfile::instructions(&text)
        .map_err(|e| fail(format!("imagespec's parser: {e}")))?
        .into_iter()
        .map(|i| i.keyword)
        .collect();
    if ours != keywords {
        return Err(fail(format!(
            "imagespec's parser sees {ours:?}, BuildKit {keywords:?}"
        )));
    }
    for (step, got) in planned_steps(&plan).into_iter().zip(&parsed) {
        if let Some(step) = step {
            same_step(step, got, dir, spec.apt_packages())
                .map_err(|e| fail(format!("{e}\n{text}")))?;
        }
    }
    Ok(())
}

thread_local! {
    /// How many cases reached BuildKit's parser, to keep the generators honest.
    static RENDERED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

#[test]
fn hostile_specs_render_what_the_plan_says_or_are_refused() {
    link_plugins();
    let parser = RefCell::new(BuildkitParser::start());
    runner()
        .run(&spec(), |(json, files)| check_spec(&parser, &json, &files))
        .unwrap();
    let rendered = RENDERED.with(|r| r.get());
    eprintln!(
        "{rendered} of {} hostile specs were accepted and rendered",
        cases()
    );
    assert!(
        rendered * 5 >= cases(),
        "only {rendered} of {} specs reached the renderer: the generator tests little",
        cases()
    );
}

/// YAML-ish text: keys of the spec, flow and block syntax, tags, anchors.
fn yaml_text() -> impl Strategy<Value = String> {
    const PIECES: &[&str] = &[
        "name: x\n",
        "name: ",
        "env:\n",
        "  ",
        "- ",
        "packages: [",
        "]",
        "{",
        "}",
        ", ",
        ": ",
        "\n",
        "'",
        "\"",
        "!!python/tuple ",
        "!!binary ",
        "&a ",
        "*a",
        "<<: ",
        "? ",
        "|\n",
        ">-\n",
        "#",
        "---\n",
        "...\n",
        "%YAML 1.1\n",
        "\t",
        "apt_packages:\n  - ",
        "commands: ",
        "copy: ",
        "base_image:\n  name: b\n",
        "null",
        "~",
        "1e3",
        "0x1f",
        ".nan",
        "yes",
        "2001-01-01",
        "\u{feff}",
        "\u{2028}",
        "\\",
        "\\x00",
        "\0",
        "€",
        "source_copy_mode: all\n",
        "tag_format: '{spec_hash:>9999999999}'\n",
        "python_version: 3.1\n",
    ];
    prop::collection::vec(prop::sample::select(PIECES), 0..30).prop_map(|v| v.concat())
}

#[test]
fn no_text_panics_the_loader_and_accepted_text_renders() {
    link_plugins();
    let parser = RefCell::new(BuildkitParser::start());
    runner()
        .run(&yaml_text(), |text| {
            let dir = tempfile::tempdir().unwrap();
            let Ok(spec) = load_str(&text, SpecFormat::Yaml, None, dir.path()) else {
                return Ok(());
            };
            check_loaded(&parser, &spec, dir.path())
        })
        .unwrap();
}

#[test]
fn imagespecs_parser_agrees_with_buildkits_on_any_text() {
    const LINES: &[&str] = &[
        "FROM x",
        "RUN a \\",
        "RUN a",
        "  # c",
        "#",
        "",
        "   ",
        "ENV A=1 \\",
        "RUN <<EOF",
        "EOF",
        "COPY <<-E /x",
        "\tE",
        "RUN cat <<'Q' \\",
        "Q",
        "WORKDIR /",
        "echo hi \\  ",
        "RUN x <<A <<B",
        "A",
        "B",
        "USER u",
        "RUN \\",
        "\\",
        "RUN 2<<E",
        "E",
    ];
    let mut parser = BuildkitParser::start();
    let strategy = prop::collection::vec(prop::sample::select(LINES), 1..14)
        .prop_map(|lines| format!("FROM base\n{}\n", lines.join("\n")));
    let parser_cell = RefCell::new(&mut parser);
    runner()
        .run(&strategy, |text| {
            let Ok(theirs) = parser_cell.borrow_mut().parse(&text) else {
                return Ok(());
            };
            let ours = imagespec_core::dockerfile::instructions(&text).map_err(|e| {
                fail(format!(
                    "imagespec refuses what BuildKit reads: {e}\n{text}"
                ))
            })?;
            let k1: Vec<&str> = theirs.iter().map(|p| p.keyword.as_str()).collect();
            let k2: Vec<&str> = ours.iter().map(|i| i.keyword.as_str()).collect();
            let h1: Vec<bool> = theirs.iter().map(|p| !p.heredocs.is_empty()).collect();
            let h2: Vec<bool> = ours.iter().map(|i| !i.heredocs.is_empty()).collect();
            if k1 != k2 || h1 != h2 {
                return Err(fail(format!(
                    "BuildKit: {k1:?} heredocs {h1:?}\nimagespec: {k2:?} heredocs {h2:?}\n{text}"
                )));
            }
            Ok(())
        })
        .unwrap();
}
