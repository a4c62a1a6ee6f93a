//! flytekit's own unit tests for `ImageSpec` and its default builder
//! (`tests/flytekit/unit/core/image_spec/`, vendored unmodified from
//! flyteorg/flytekit: see `tests/flytekit/unit/README.md`), run twice with
//! pytest in the venv `cargo xtask flytekit` makes:
//!
//! 1. on stock flytekit 1.16.31;
//! 2. with imagespec swapped in by the pytest plugin
//!    `tests/flytekit/unit/imagespec_swap.py`: `ImageSpec.id`, `.tag`,
//!    `.image_name()` and `default_builder.create_docker_context` answered by
//!    this workspace's `imagespec`, through the flytekit plugin's hand-over
//!    (`python/flytekitplugins-imagespec`, from source).
//!
//! The tests that pass with imagespec must be exactly those that pass on
//! stock flytekit; each one that differs is listed with pytest's failure
//! text. Also checked: the vendored files are flytekit's, byte for byte (git
//! blob ids); stock flytekit passes at least [`MIN_STOCK_PASSED`] tests (a
//! broken venv cannot pass); imagespec was run. Both counts are printed.
//!
//! Needs `IMAGESPEC_FLYTEKIT_PYTHON` (it fails without it, it never skips).
//! The binary is this workspace's `imagespec`, built here by
//! `cargo build -p imagespec-cli --bin imagespec` (a no-op when fresh);
//! `IMAGESPEC_BIN` names another one instead. Run with
//! `IMAGESPEC_FLYTEKIT_PYTHON=target/flytekit-venv/bin/python cargo test -p imagespec-tests --features flytekit --test flytekit_unit_tests -- --nocapture`.
//! On failure the runs' folder (pytest's output, junit XML, temporary
//! files) is kept and its path printed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use imagespec_tests::flytekit::{workspace_root, PYTHON_ENV};
use serde_json::Value;
use sha1::{Digest, Sha1};

/// The flyteorg/flytekit commit the files were copied from. They did not
/// change between v1.16.16 and it.
const UPSTREAM_COMMIT: &str = "e96c7203089a1edc5709c92a606a2d4abb481c0e";

/// The vendored files (paths are flytekit's, and ours) and their git blob
/// ids at [`UPSTREAM_COMMIT`] (`git rev-parse COMMIT:PATH` in flytekit).
const VENDORED: &[(&str, &str)] = &[
    (
        "tests/flytekit/conftest.py",
        "9933daa023cc680732056c987e1d1bf90eac84b3",
    ),
    (
        "tests/flytekit/unit/conftest.py",
        "65b87f2e4359be3e8b3fa21a917ee09a27123c05",
    ),
    (
        "tests/flytekit/unit/core/image_spec/test_default_builder.py",
        "366fe6e94481da00cd72621e8d90ec25d8963e77",
    ),
    (
        "tests/flytekit/unit/core/image_spec/test_image_spec.py",
        "43905874e0f452659537a2b86765a25afedc607c",
    ),
    (
        "tests/flytekit/unit/core/image_spec/requirements.txt",
        "fb6c7ed7ec60dafcf523d2e12daa17abc92ae384",
    ),
    (
        "tests/flytekit/unit/core/image_spec/registry_config.json",
        "693b0bc6876f658f0585af75c4054d8978abae20",
    ),
];

/// The folder pytest runs (relative to the workspace root, which stands for
/// flytekit's repository root: test ids are the same as in flytekit).
const TESTS_DIR: &str = "tests/flytekit/unit/core/image_spec";
/// Where the pytest plugin `imagespec_swap` is.
const SWAP_PLUGIN_DIR: &str = "tests/flytekit/unit";
/// The flytekit plugin's source (its `handover` module).
const PLUGIN_SOURCE: &str = "python/flytekitplugins-imagespec";

/// Stock flytekit 1.16.31 passes 53 (2 more are skipped unless a Docker
/// build is asked for); fewer than this means the venv or the run is broken.
const MIN_STOCK_PASSED: usize = 40;

/// Environment that would change what pytest runs or how the hand-over
/// behaves; each run sets what it needs.
const CLEARED_ENV: &[&str] = &[
    "PYTHONPATH",
    "PYTEST_ADDOPTS",
    "PYTEST_PLUGINS",
    "IMAGESPEC_BIN",
    "IMAGESPEC_PLUGIN_PRIORITY",
    "IMAGESPEC_SWAP_REPORT",
    "IMAGESPEC_LOG",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Passed,
    /// pytest's reason.
    Skipped(String),
    /// pytest's failure or error text (message and traceback).
    Failed(String),
}

impl Outcome {
    fn word(&self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Skipped(_) => "skipped",
            Outcome::Failed(_) => "failed",
        }
    }

    fn text(&self) -> &str {
        match self {
            Outcome::Passed => "",
            Outcome::Skipped(t) | Outcome::Failed(t) => t,
        }
    }
}

/// One pytest run, read from its junit XML.
#[derive(Debug, Default)]
struct Results {
    /// By test id (`module::name[params]`, module as pytest names it).
    tests: BTreeMap<String, Outcome>,
    /// Runs of imagespec by test (the swap plugin's `imagespec_calls`).
    imagespec_calls: BTreeMap<String, u64>,
}

impl Results {
    fn count(&self, word: &str) -> usize {
        self.tests.values().filter(|o| o.word() == word).count()
    }

    fn passed(&self) -> BTreeSet<&str> {
        self.tests
            .iter()
            .filter(|(_, o)| **o == Outcome::Passed)
            .map(|(id, _)| id.as_str())
            .collect()
    }

    fn with(&self, word: &str) -> BTreeMap<&str, &str> {
        self.tests
            .iter()
            .filter(|(_, o)| o.word() == word)
            .map(|(id, o)| (id.as_str(), o.text()))
            .collect()
    }

    fn summary(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.count("passed"),
            self.count("failed"),
            self.count("skipped")
        )
    }
}

fn parse_junit(xml: &str, path: &Path) -> Results {
    let doc = roxmltree::Document::parse(xml)
        .unwrap_or_else(|e| panic!("{} is not XML: {e}", path.display()));
    let mut results = Results::default();
    for case in doc.descendants().filter(|n| n.has_tag_name("testcase")) {
        let classname = case.attribute("classname").unwrap_or_default();
        let name = case.attribute("name").unwrap_or_default();
        let id = if classname.is_empty() {
            name.to_string()
        } else {
            format!("{classname}::{name}")
        };
        let mut failures = Vec::new();
        let mut skipped = None;
        for child in case.children().filter(|c| c.is_element()) {
            match child.tag_name().name() {
                tag @ ("failure" | "error") => failures.push(format!(
                    "{tag}: {}\n{}",
                    child.attribute("message").unwrap_or_default(),
                    child.text().unwrap_or_default().trim_end()
                )),
                "skipped" => {
                    skipped = Some(
                        child
                            .attribute("message")
                            .or(child.text())
                            .unwrap_or_default()
                            .to_string(),
                    )
                }
                "properties" => {
                    for prop in child.children().filter(|p| p.has_tag_name("property")) {
                        if prop.attribute("name") == Some("imagespec_calls") {
                            let n = prop.attribute("value").unwrap_or_default();
                            let n: u64 = n.parse().unwrap_or_else(|_| {
                                panic!("{id}: imagespec_calls {n:?} is not a count")
                            });
                            *results.imagespec_calls.entry(id.clone()).or_default() += n;
                        }
                    }
                }
                _ => {}
            }
        }
        let outcome = if !failures.is_empty() {
            Outcome::Failed(failures.join("\n"))
        } else if let Some(reason) = skipped {
            Outcome::Skipped(reason)
        } else {
            Outcome::Passed
        };
        // pytest writes one testcase per test; should it write two, a
        // failure in either wins.
        let merged = match results.tests.remove(&id) {
            Some(Outcome::Failed(a)) => match outcome {
                Outcome::Failed(b) => Outcome::Failed(format!("{a}\n{b}")),
                _ => Outcome::Failed(a),
            },
            _ => outcome,
        };
        results.tests.insert(id, merged);
    }
    results
}

/// git's blob id of a file's bytes.
fn git_blob_id(bytes: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(format!("blob {}\0", bytes.len()).as_bytes());
    h.update(bytes);
    hex::encode(h.finalize())
}

/// The vendored files are flytekit's, unmodified, and the tests folder holds
/// nothing else that pytest would run.
fn check_vendored(root: &Path) {
    let mut problems = Vec::new();
    for (path, blob) in VENDORED {
        match std::fs::read(root.join(path)) {
            Ok(bytes) => {
                let got = git_blob_id(&bytes);
                if got != *blob {
                    problems.push(format!(
                        "{path} was changed (git blob {got}, flytekit's {blob})"
                    ));
                }
            }
            Err(e) => problems.push(format!("{path}: {e}")),
        }
    }
    let dir = root.join(TESTS_DIR);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let path = format!("{TESTS_DIR}/{name}");
        if name != "__pycache__" && !VENDORED.iter().any(|(p, _)| *p == path) {
            problems.push(format!("{path} is not one of flytekit's files"));
        }
    }
    assert!(
        problems.is_empty(),
        "the vendored flytekit tests must stay as flytekit {UPSTREAM_COMMIT} has them \
         (see tests/flytekit/unit/README.md):\n  {}",
        problems.join("\n  ")
    );
}

/// The python with flytekit: `$IMAGESPEC_FLYTEKIT_PYTHON`, required.
fn python() -> PathBuf {
    let python = std::env::var_os(PYTHON_ENV)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "{PYTHON_ENV} is not set: run `cargo xtask test`, or `cargo xtask flytekit` and \
                 set {PYTHON_ENV}=target/flytekit-venv/bin/python"
            )
        });
    assert!(
        python.exists(),
        "{PYTHON_ENV}={} does not exist: run `cargo xtask flytekit`",
        python.display()
    );
    python
}

/// The imagespec binary under test, and where it came from.
fn imagespec_binary(root: &Path) -> (PathBuf, String) {
    if let Some(bin) = std::env::var_os("IMAGESPEC_BIN").filter(|b| !b.is_empty()) {
        let bin = PathBuf::from(bin);
        assert!(
            bin.is_file(),
            "IMAGESPEC_BIN={} is not a file",
            bin.display()
        );
        return (bin, "$IMAGESPEC_BIN".into());
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let args = [
        "build",
        "-p",
        "imagespec-cli",
        "--bin",
        "imagespec",
        "--message-format=json-render-diagnostics",
    ];
    let out = Command::new(&cargo)
        .args(args)
        .current_dir(root)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", Path::new(&cargo).display()));
    assert!(
        out.status.success(),
        "`cargo {}` failed ({}): see its messages above",
        args.join(" "),
        out.status
    );
    let exe = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| {
            m["reason"] == "compiler-artifact"
                && m["target"]["name"] == "imagespec"
                && m["target"]["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "bin"))
        })
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo names the imagespec executable it built");
    (exe, format!("`cargo {}`", args[..5].join(" ")))
}

/// One pytest run over the vendored tests, in its own folder of `work`:
/// `cwd/` (empty: flytekit's tests make temporary folders in the current
/// one and name copied files relative to it, as from flytekit's root),
/// `basetemp/` (pytest's `tmp_path`), `junit.xml`, `pytest.log`.
struct Run {
    label: &'static str,
    command: String,
    output: Output,
    results: Results,
    /// The swap plugin's totals (`IMAGESPEC_SWAP_REPORT`).
    report: Option<Value>,
}

fn run_pytest(
    label: &'static str,
    python: &Path,
    root: &Path,
    work: &Path,
    swap_binary: Option<&Path>,
) -> Run {
    let dir = work.join(label);
    let cwd = dir.join("cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    let junit = dir.join("junit.xml");
    let report = dir.join("imagespec-calls.json");
    let mut cmd = Command::new(python);
    for name in CLEARED_ENV {
        cmd.env_remove(name);
    }
    cmd.current_dir(&cwd)
        .stdin(Stdio::null())
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let mut shown_env = Vec::new();
    if let Some(bin) = swap_binary {
        let path = std::env::join_paths([root.join(SWAP_PLUGIN_DIR), root.join(PLUGIN_SOURCE)])
            .expect("PYTHONPATH");
        let vars = [
            ("PYTHONPATH", path),
            ("IMAGESPEC_BIN", bin.as_os_str().to_owned()),
            ("IMAGESPEC_PLUGIN_PRIORITY", "-1".into()),
        ];
        for (k, v) in &vars {
            shown_env.push(format!("{k}={}", v.to_string_lossy()));
            cmd.env(k, v);
        }
        cmd.env("IMAGESPEC_SWAP_REPORT", &report);
    }
    let mut args: Vec<String> = vec!["-m".into(), "pytest".into()];
    if swap_binary.is_some() {
        args.extend(["-p".into(), "imagespec_swap".into()]);
    }
    args.extend([
        "-p".into(),
        "no:cacheprovider".into(),
        // The vendored folders have no `__init__.py` (flytekit's do, up to
        // its root), so test modules are imported by path.
        "--import-mode=importlib".into(),
        "--rootdir".into(),
        root.display().to_string(),
        "--confcutdir".into(),
        root.join("tests/flytekit").display().to_string(),
        "--basetemp".into(),
        dir.join("basetemp").display().to_string(),
        "--junitxml".into(),
        junit.display().to_string(),
        "-rfEs".into(),
        root.join(TESTS_DIR).display().to_string(),
    ]);
    cmd.args(&args);
    let command = format!(
        "(cd EMPTY_DIR && {}{} {})",
        shown_env
            .iter()
            .map(|e| format!("{e} "))
            .collect::<String>(),
        python.display(),
        args.join(" ")
    );
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let mut log = output.stdout.clone();
    log.extend_from_slice(&output.stderr);
    std::fs::write(dir.join("pytest.log"), &log).unwrap();
    let code = output.status.code();
    let xml = std::fs::read_to_string(&junit).ok();
    let usable = matches!(code, Some(0 | 1)) && xml.is_some();
    assert!(
        usable,
        "pytest ({label}) did not run the tests ({}; 3 from the swap plugin means imagespec \
         was never called){}:\n{command}\n{}",
        output.status,
        if xml.is_none() {
            ", and wrote no junit XML"
        } else {
            ""
        },
        tail(&String::from_utf8_lossy(&log), 6000),
    );
    let results = parse_junit(&xml.unwrap(), &junit);
    let report = swap_binary.map(|_| {
        let text = std::fs::read_to_string(&report).unwrap_or_else(|e| {
            panic!(
                "the swap plugin wrote no report ({e}): was it loaded?\n{}",
                tail(&String::from_utf8_lossy(&log), 4000)
            )
        });
        serde_json::from_str(&text).expect("the swap plugin's report is JSON")
    });
    Run {
        label,
        command,
        output,
        results,
        report,
    }
}

fn tail(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("      {l}\n")).collect()
}

/// pytest's closing line (`== 53 passed, 2 skipped in 1.2s ==`).
fn closing_line(run: &Run) -> String {
    String::from_utf8_lossy(&run.output.stdout)
        .lines()
        .rev()
        .find(|l| l.starts_with('=') && l.contains(" in "))
        .unwrap_or("(no closing line)")
        .trim_matches(|c| c == '=' || c == ' ')
        .to_string()
}

#[test]
fn flytekits_image_spec_tests_pass_with_imagespec_as_on_stock_flytekit() {
    let root = workspace_root();
    check_vendored(&root);
    let python = python();
    let (binary, binary_from) = imagespec_binary(&root);
    let work = tempfile::Builder::new()
        .prefix("imagespec-flytekit-unit-")
        .tempdir()
        .unwrap();

    let stock = run_pytest("stock", &python, &root, work.path(), None);
    let swapped = run_pytest("imagespec", &python, &root, work.path(), Some(&binary));

    let stock_passed = stock.results.passed();
    let swapped_passed = swapped.results.passed();
    let equal = stock_passed == swapped_passed;

    // What CI's log shows, pass or fail.
    let mut out = String::new();
    writeln!(
        out,
        "flytekit image_spec unit tests: stock {}; with imagespec {}; {}",
        stock.results.summary(),
        swapped.results.summary(),
        if equal { "equal" } else { "NOT equal" }
    )
    .unwrap();
    writeln!(
        out,
        "  flyteorg/flytekit {UPSTREAM_COMMIT} {TESTS_DIR}, {}",
        python.display()
    )
    .unwrap();
    writeln!(
        out,
        "  imagespec: {} (from {binary_from})",
        binary.display()
    )
    .unwrap();
    for run in [&stock, &swapped] {
        writeln!(out, "  pytest {}: {}", run.label, closing_line(run)).unwrap();
        writeln!(out, "    {}", run.command).unwrap();
    }
    let stock_skipped = stock.results.with("skipped");
    let swapped_skipped = swapped.results.with("skipped");
    if stock_skipped == swapped_skipped {
        for (id, reason) in &stock_skipped {
            writeln!(out, "  skipped in both: {id}: {reason}").unwrap();
        }
    } else {
        for (run, skipped) in [(&stock, &stock_skipped), (&swapped, &swapped_skipped)] {
            for (id, reason) in skipped {
                writeln!(out, "  skipped ({}): {id}: {reason}", run.label).unwrap();
            }
        }
    }
    for id in stock.results.with("failed").keys() {
        writeln!(
            out,
            "  fails on stock flytekit too (not required to pass): {id}"
        )
        .unwrap();
    }
    let report = swapped.report.as_ref().expect("the swapped run's report");
    let total_calls = report["total"].as_u64().unwrap_or(0);
    let by_command: Vec<String> = report["calls"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| format!("{k} {v}")).collect())
        .unwrap_or_default();
    let tests_calling = swapped
        .results
        .imagespec_calls
        .values()
        .filter(|n| **n > 0)
        .count();
    writeln!(
        out,
        "  imagespec ran {total_calls} times ({}), from {tests_calling} of the {} tests",
        by_command.join(", "),
        swapped.results.tests.len()
    )
    .unwrap();
    eprint!("{out}");

    let mut problems = Vec::new();
    if stock_passed.len() < MIN_STOCK_PASSED {
        problems.push(format!(
            "only {} tests pass on stock flytekit (at least {MIN_STOCK_PASSED} should): the venv \
             or the run is broken; pytest said:\n{}",
            stock_passed.len(),
            indent(tail(&String::from_utf8_lossy(&stock.output.stdout), 6000))
        ));
    }
    if total_calls == 0 || tests_calling == 0 {
        problems.push(
            "imagespec was never called in the swapped run: the swap did nothing".to_string(),
        );
    }
    for id in stock_passed.difference(&swapped_passed) {
        let outcome = swapped.results.tests.get(*id);
        problems.push(format!(
            "{id}: passes on stock flytekit, {} with imagespec:\n{}",
            outcome.map_or("not run", Outcome::word),
            indent(outcome.map_or("", Outcome::text))
        ));
    }
    for id in swapped_passed.difference(&stock_passed) {
        let outcome = stock.results.tests.get(*id);
        problems.push(format!(
            "{id}: passes with imagespec, {} on stock flytekit:\n{}",
            outcome.map_or("not run", Outcome::word),
            indent(outcome.map_or("", Outcome::text))
        ));
    }
    if !problems.is_empty() {
        let kept = work.keep();
        panic!(
            "{} problem(s); pytest's logs and junit XML are kept in {}:\n\n{}",
            problems.len(),
            kept.display(),
            problems.join("\n")
        );
    }
}
