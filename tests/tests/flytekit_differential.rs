//! The live differential test: the same spec folders through real flytekit
//! 1.16.31 (`tests/flytekit/harness.py`, one Python process) and through
//! imagespec (in this process), compared on id, tag, image name, the build
//! context's files and the Dockerfile's instructions.
//!
//! Cases: every fixture folder (tests/fixtures/oracle, tests/fixtures/hash-cases)
//! as written and as flytekit's typed dump, examples/hello, and generated specs
//! from a seeded generator (`IMAGESPEC_DIFF_SEED`, `IMAGESPEC_DIFF_COUNT`).
//! A difference passes only when tests/fixtures/flytekit-differences.toml
//! explains it. Needs `cargo xtask flytekit`; run with
//! `cargo test -p imagespec-tests --features flytekit --test flytekit_differential -- --nocapture`.
//!
//! The fixtures double as the harness's self-test: on each, real flytekit must
//! give the recorded oracle result exactly. Failed cases stay on disk (their
//! paths are printed), with flytekit's Dockerfile and result beside
//! imagespec's context. `IMAGESPEC_DIFF_REPORT=FILE` writes every case's
//! outcome as JSON lines; `IMAGESPEC_DIFF_VERBOSE=1` lists the both-error cases.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use imagespec_tests::flytekit::{
    compare, copy_tree, differences_path, explain, load_differences, python, run_flytekit,
    run_imagespec, workspace_root, Case, FlytekitResult, Outcome, Side,
};
use imagespec_tests::{all_cases, link_plugins};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const DEFAULT_SEED: u64 = 0x1_16_31;
const DEFAULT_COUNT: usize = 500;

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => {
            let v = v.trim();
            let parsed = match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => v.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("{name}={v} is not a number"))
        }
        _ => default,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    FixturePlain,
    FixtureTyped,
    Example,
    Generated,
}

struct Entry {
    case: Case,
    group: Group,
    /// The recorded oracle result, for the harness self-test.
    recorded: Option<(PathBuf, serde_json::Value)>,
}

#[test]
fn imagespec_matches_real_flytekit() {
    link_plugins();
    // Fail first, and clearly, when the venv is missing.
    let python = python();
    let allowed = load_differences(&differences_path());
    let seed = env_number("IMAGESPEC_DIFF_SEED", DEFAULT_SEED);
    let count = env_number("IMAGESPEC_DIFF_COUNT", DEFAULT_COUNT as u64) as usize;

    let root = tempfile::Builder::new()
        .prefix("imagespec-flytekit-diff-")
        .tempdir()
        .unwrap();
    let cases_dir = root.path().join("cases");
    let contexts_dir = root.path().join("contexts");
    std::fs::create_dir_all(&cases_dir).unwrap();
    std::fs::create_dir_all(&contexts_dir).unwrap();

    let mut entries = Vec::new();
    for fixture in all_cases() {
        let group_dir = fixture.dir.parent().unwrap().file_name().unwrap();
        let group_dir = group_dir.to_string_lossy();
        for (group, typed) in [(Group::FixturePlain, false), (Group::FixtureTyped, true)] {
            let name = format!(
                "fixture-{}-{}-{}",
                if typed { "typed" } else { "plain" },
                group_dir,
                fixture.name
            );
            let dir = cases_dir.join(&name);
            copy_tree(&fixture.dir, &dir, &["expected"]);
            entries.push(Entry {
                case: Case {
                    name,
                    dir,
                    spec: "spec.yaml".into(),
                    typed_dump: typed,
                    description: format!(
                        "fixture {group_dir}/{}{}",
                        fixture.name,
                        if typed { " (typed dump)" } else { "" }
                    ),
                },
                group,
                recorded: (!typed).then(|| (fixture.dir.clone(), fixture.result.clone())),
            });
        }
    }
    let hello = cases_dir.join("example-hello");
    copy_tree(&workspace_root().join("examples/hello"), &hello, &[]);
    entries.push(Entry {
        case: Case {
            name: "example-hello".into(),
            dir: hello,
            spec: "spec.yaml".into(),
            typed_dump: false,
            description: "examples/hello".into(),
        },
        group: Group::Example,
        recorded: None,
    });
    let mut rng = StdRng::seed_from_u64(seed);
    for i in 0..count {
        let name = format!("gen-{i:04}");
        let dir = cases_dir.join(&name);
        let (description, typed) = generate(&mut rng, &dir);
        entries.push(Entry {
            case: Case {
                name,
                dir,
                spec: "spec.yaml".into(),
                typed_dump: typed,
                description,
            },
            group: Group::Generated,
            recorded: None,
        });
    }

    let cases: Vec<Case> = entries.iter().map(|e| e.case.clone()).collect();
    eprintln!(
        "flytekit differential: {} cases (seed {seed:#x}), python {}",
        cases.len(),
        python.display()
    );
    let results = run_flytekit(&cases, &root.path().join("harness.log"));

    let mut selftest = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let mut failed_dirs: Vec<PathBuf> = Vec::new();
    let (mut equal, mut both_error, mut allowed_count) = (0usize, 0usize, 0usize);
    // Among the cases both tools name: how many names, context files and
    // Dockerfiles are equal (a context difference is allowed only by a
    // listed deliberate difference, so "allowed" must not hide the names).
    let (mut both_named, mut names_equal, mut files_equal, mut dockerfiles_equal) =
        (0usize, 0usize, 0usize, 0usize);
    let mut both_error_list = Vec::new();
    let mut used_ids = std::collections::BTreeMap::<String, usize>::new();
    let mut report = Vec::new();
    for (entry, fk) in entries.iter().zip(&results) {
        if let Some((fixture_dir, recorded)) = &entry.recorded {
            check_harness(fixture_dir, recorded, fk, &mut selftest);
        }
        let case = &entry.case;
        let ctx = contexts_dir.join(&case.name);
        let ours = run_imagespec(&case.dir, &fk.side.spec_file, &fk.defaults(), &ctx);
        let mut unexplained = Vec::new();
        if entry.group == Group::Example && fk.side.image_name != ours.image_name {
            unexplained.push(format!(
                "  examples/hello: image_name must equal flytekit's: flytekit `{}`, imagespec `{}`",
                fk.side.name(),
                ours.name()
            ));
        }
        let outcome = compare(&fk.side, &ours, &case.description);
        if fk.side.error.is_none() && ours.error.is_none() {
            both_named += 1;
            let kinds: Vec<&str> = match &outcome {
                Outcome::Differ(m) => m.iter().map(|m| m.kind).collect(),
                _ => Vec::new(),
            };
            names_equal += usize::from(!kinds.contains(&"tag"));
            files_equal += usize::from(!kinds.contains(&"context-files"));
            dockerfiles_equal += usize::from(!kinds.contains(&"dockerfile"));
        }
        report.push(serde_json::json!({
            "case": case.name,
            "description": case.description,
            "outcome": match &outcome {
                Outcome::Equal => "equal".to_string(),
                Outcome::BothError { .. } => "both-error".to_string(),
                Outcome::Differ(m) => m.iter().map(|m| m.kind).collect::<Vec<_>>().join(","),
            },
            "flytekit": fk.side.error.clone().unwrap_or_else(|| fk.side.name().to_string()),
            "imagespec": ours.error.clone().unwrap_or_else(|| ours.name().to_string()),
        }));
        match outcome {
            Outcome::Equal => equal += 1,
            Outcome::BothError {
                flytekit,
                imagespec,
            } => {
                both_error += 1;
                both_error_list.push(format!(
                    "  {}: flytekit {} | imagespec {}",
                    case.name,
                    short(&one_line(&flytekit), 150),
                    short(&one_line(&imagespec), 150)
                ));
            }
            Outcome::Differ(mismatches) => {
                let mut all_explained = true;
                for m in &mismatches {
                    match explain(m, &allowed) {
                        Ok(used) => {
                            for d in used {
                                *used_ids.entry(d.id.clone()).or_default() += 1;
                            }
                        }
                        Err(subjects) => {
                            all_explained = false;
                            unexplained.push(format!(
                                "  [{}] unexplained: {}\n{}",
                                m.kind,
                                subjects
                                    .iter()
                                    .map(|s| format!("`{}`", short(s, 200)))
                                    .collect::<Vec<_>>()
                                    .join(", "),
                                m.detail
                            ));
                        }
                    }
                }
                if all_explained && unexplained.is_empty() {
                    allowed_count += 1;
                }
            }
        }
        if !unexplained.is_empty() {
            let kept = keep_for_inspection(case, fk, &ours, &ctx);
            failed_dirs.push(case.dir.clone());
            failures.push(format!(
                "{} — {}\n  case: {} (spec {}){kept}\n{}",
                case.name,
                case.description,
                case.dir.display(),
                fk.side.spec_file,
                unexplained.join("\n")
            ));
        }
    }

    // IMAGESPEC_DIFF_REPORT=FILE: every case's outcome, one JSON object a line.
    if let Some(path) = std::env::var_os("IMAGESPEC_DIFF_REPORT") {
        let lines: Vec<String> = report.iter().map(|r| r.to_string()).collect();
        std::fs::write(&path, lines.join("\n") + "\n").expect("write IMAGESPEC_DIFF_REPORT");
    }
    let fixtures = entries.iter().filter(|e| e.recorded.is_some()).count();
    eprintln!(
        "harness self-test: {} of {fixtures} fixtures give the recorded oracle result",
        fixtures - selftest.len()
    );
    let n = |g: Group| entries.iter().filter(|e| e.group == g).count();
    let summary = format!(
        "flytekit differential: {} fixture cases (plain) + {} (typed) + {} example + {} generated \
         (seed {seed:#x}): names (id, tag, image name) equal in {names_equal} of the {both_named} \
         both tools name; context files equal in {files_equal}, Dockerfiles in {dockerfiles_equal} \
         (the rest differ only as docs/flytekit-compat.md lists); {both_error} refused by both; \
         {equal} entirely equal, {allowed_count} with allowed differences, {} unexplained",
        n(Group::FixturePlain),
        n(Group::FixtureTyped),
        n(Group::Example),
        n(Group::Generated),
        failures.len()
    );
    if std::env::var_os("IMAGESPEC_DIFF_VERBOSE").is_some() {
        eprintln!("both-error cases:\n{}", both_error_list.join("\n"));
    }
    if !used_ids.is_empty() {
        eprintln!("allow-list entries used: {used_ids:?}");
    }
    if !failures.is_empty() {
        eprintln!("\n{}\n", failures.join("\n\n"));
        eprintln!("failed case folders (kept):");
        for d in &failed_dirs {
            eprintln!("  {}", d.display());
        }
    }
    eprintln!("{summary}");

    if !selftest.is_empty() || !failures.is_empty() {
        // Keep the failed cases for inspection, drop the rest.
        let kept_root = root.keep();
        for e in &entries {
            if !failed_dirs.contains(&e.case.dir) {
                let _ = std::fs::remove_dir_all(&e.case.dir);
                let _ = std::fs::remove_dir_all(kept_root.join("contexts").join(&e.case.name));
            }
        }
        eprintln!("kept: {}", kept_root.display());
    }
    assert!(
        selftest.is_empty(),
        "the harness does not reproduce the recorded oracle results:\n{}",
        selftest.join("\n")
    );
    assert!(failures.is_empty(), "{summary}");
}

/// The harness self-test: on every fixture (recorded by the oracle's
/// generate.py under flytekit 1.16.31), the harness gives the recorded id,
/// tag, image name, error and context files exactly.
fn check_harness(
    fixture_dir: &Path,
    recorded: &serde_json::Value,
    fk: &FlytekitResult,
    failures: &mut Vec<String>,
) {
    let field = |k: &str| recorded.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let mut diffs = Vec::new();
    for (k, got) in [
        ("id", &fk.side.id),
        ("tag", &fk.side.tag),
        ("image_name", &fk.side.image_name),
        ("error", &fk.side.error),
    ] {
        if field(k) != *got {
            diffs.push(format!("{k}: recorded {:?}, harness {got:?}", field(k)));
        }
    }
    if let Some(files) = recorded.get("context_files").and_then(|f| f.as_object()) {
        let want: std::collections::BTreeMap<String, String> = files
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        if want != fk.side.files {
            diffs.push(format!(
                "context_files: recorded {:?}, harness {:?}",
                want.keys().collect::<Vec<_>>(),
                fk.side.files.keys().collect::<Vec<_>>()
            ));
        }
    }
    if !diffs.is_empty() {
        failures.push(format!("{}: {}", fixture_dir.display(), diffs.join("; ")));
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

/// Writes flytekit's Dockerfile and requirements beside imagespec's context,
/// so a failed case can be inspected; returns the lines saying where.
fn keep_for_inspection(case: &Case, fk: &FlytekitResult, ours: &Side, ctx: &Path) -> String {
    let theirs = ctx.with_extension("flytekit");
    let _ = std::fs::create_dir_all(&theirs);
    if let Some(d) = &fk.side.dockerfile {
        let _ = std::fs::write(theirs.join("Dockerfile"), d);
    }
    if let Some(r) = &fk.side.requirements {
        let _ = std::fs::write(theirs.join("requirements_uv.txt"), r);
    }
    let _ = std::fs::write(
        theirs.join("result.json"),
        serde_json::to_string_pretty(&fk.raw).unwrap_or_default(),
    );
    let mut out = String::new();
    let _ = write!(
        out,
        "\n  flytekit: {} [{}]",
        fk.side.error.as_deref().unwrap_or(fk.side.name()),
        theirs.display()
    );
    let _ = write!(
        out,
        "\n  imagespec: {} [{}]",
        ours.error.as_deref().unwrap_or(ours.name()),
        if ctx.exists() {
            ctx.display().to_string()
        } else {
            "no context".into()
        }
    );
    let spec = std::fs::read_to_string(case.dir.join(&fk.side.spec_file)).unwrap_or_default();
    let lines: Vec<&str> = spec.lines().collect();
    let _ = write!(out, "\n  {}:", fk.side.spec_file);
    for l in lines.iter().take(40) {
        let _ = write!(out, "\n    | {l}");
    }
    if lines.len() > 40 {
        let _ = write!(out, "\n    | … ({} more lines)", lines.len() - 40);
    }
    out
}

// ---------------------------------------------------------------------------
// The generator.
// ---------------------------------------------------------------------------

/// A YAML value, emitted in a randomly chosen style.
#[derive(Debug, Clone)]
enum Y {
    /// A plain scalar written as is (`yes`, `017`, `3.10`, `~`): YAML 1.1 types it.
    Raw(String),
    /// A string: written plain when that keeps it a string, else quoted.
    S(String),
    Seq(Vec<Y>),
    Map(Vec<(Y, Y)>),
    Anchor(String, Box<Y>),
    Alias(String),
    /// Nothing after the colon (null).
    Empty,
    /// A literal block scalar (`|` / `|-`).
    Block(String),
}

fn s(x: &str) -> Y {
    Y::S(x.to_string())
}
fn raw(x: &str) -> Y {
    Y::Raw(x.to_string())
}
fn strs(xs: &[&str]) -> Y {
    Y::Seq(xs.iter().map(|x| s(x)).collect())
}
fn map(entries: Vec<(&str, Y)>) -> Y {
    Y::Map(entries.into_iter().map(|(k, v)| (s(k), v)).collect())
}

/// The short form of a value for descriptions.
fn show(y: &Y) -> String {
    let text = match y {
        Y::Raw(t) => t.clone(),
        Y::S(t) => format!("{t:?}"),
        Y::Seq(v) => format!("[{}]", v.iter().map(show).collect::<Vec<_>>().join(",")),
        Y::Map(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}:{}", show(k), show(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Y::Anchor(a, v) => format!("&{a} {}", show(v)),
        Y::Alias(a) => format!("*{a}"),
        Y::Empty => "(empty)".into(),
        Y::Block(t) => format!("|{t:?}"),
    };
    short(&text, 60)
}

const YAML11_WORDS: [&str; 21] = [
    "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on",
    "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL",
];

/// PyYAML's printable characters (others must be escaped).
fn printable(c: char) -> bool {
    matches!(c as u32, 0x09 | 0x0A | 0x0D | 0x20..=0x7E | 0x85 | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

/// True when `t` written plain is read back as the same string.
fn plain_ok(t: &str) -> bool {
    let mut chars = t.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() => {}
        _ => return false,
    }
    t.chars()
        .all(|c| c.is_alphanumeric() || "_./+-=@".contains(c))
        && !YAML11_WORDS.contains(&t)
}

fn single_ok(t: &str) -> bool {
    t.chars()
        .all(|c| printable(c) && !matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}'))
}

struct Emitter<'a> {
    rng: &'a mut StdRng,
    /// Chance that a collection is written in flow style.
    flow: f64,
}

impl Emitter<'_> {
    fn string(&mut self, t: &str) -> String {
        if plain_ok(t) && self.rng.gen_bool(0.6) {
            return t.to_string();
        }
        if single_ok(t) && self.rng.gen_bool(0.5) {
            return format!("'{}'", t.replace('\'', "''"));
        }
        let mut o = String::from("\"");
        for c in t.chars() {
            match c {
                '"' => o.push_str("\\\""),
                '\\' => o.push_str("\\\\"),
                '\n' => o.push_str("\\n"),
                '\r' => o.push_str("\\r"),
                '\t' => o.push_str(if self.rng.gen_bool(0.5) { "\\t" } else { "\t" }),
                '\u{2028}' => o.push_str(if self.rng.gen_bool(0.5) {
                    "\\L"
                } else {
                    "\\u2028"
                }),
                '\u{2029}' => o.push_str("\\P"),
                '\u{85}' => o.push_str("\\N"),
                c if !printable(c) || (c as u32) < 0x20 => {
                    let _ = write!(o, "\\x{:02X}", c as u32);
                }
                c if !c.is_ascii() && self.rng.gen_bool(0.2) => {
                    if (c as u32) > 0xFFFF {
                        let _ = write!(o, "\\U{:08X}", c as u32);
                    } else {
                        let _ = write!(o, "\\u{:04X}", c as u32);
                    }
                }
                c => o.push(c),
            }
        }
        o.push('"');
        o
    }

    fn scalar(&mut self, y: &Y, in_flow: bool) -> String {
        match y {
            Y::Raw(t) => t.clone(),
            Y::S(t) => self.string(t),
            Y::Alias(a) => format!("*{a}"),
            Y::Empty => {
                if in_flow {
                    "~".into()
                } else {
                    String::new()
                }
            }
            Y::Block(t) => self.string(t),
            _ => self.flow(y),
        }
    }

    fn flow(&mut self, y: &Y) -> String {
        match y {
            Y::Seq(v) => {
                let items: Vec<String> = v.iter().map(|i| self.flow(i)).collect();
                format!("[{}]", items.join(", "))
            }
            Y::Map(m) => {
                let items: Vec<String> = m
                    .iter()
                    .map(|(k, v)| {
                        let k = self.scalar(k, true);
                        let v = self.flow(v);
                        format!("{k}: {v}")
                    })
                    .collect();
                format!("{{{}}}", items.join(", "))
            }
            Y::Anchor(a, inner) => format!("&{a} {}", self.flow(inner)),
            other => self.scalar(other, true),
        }
    }

    fn is_block_collection(y: &Y) -> bool {
        match y {
            Y::Seq(v) => !v.is_empty(),
            Y::Map(m) => !m.is_empty(),
            _ => false,
        }
    }

    fn block_scalar(t: &str, indent: usize, out: &mut String) {
        out.push_str(if t.ends_with('\n') { " |\n" } else { " |-\n" });
        for l in t.trim_end_matches('\n').split('\n') {
            let _ = writeln!(out, "{}{l}", " ".repeat(indent));
        }
    }

    /// The value after `key:` of a key at `indent`.
    fn after_key(&mut self, v: &Y, indent: usize, out: &mut String) {
        match v {
            Y::Anchor(a, inner)
                if Self::is_block_collection(inner) && !self.rng.gen_bool(self.flow) =>
            {
                let _ = writeln!(out, " &{a}");
                self.block(inner, indent, out);
            }
            Y::Seq(_) | Y::Map(_)
                if Self::is_block_collection(v) && !self.rng.gen_bool(self.flow) =>
            {
                out.push('\n');
                self.block(v, indent, out);
            }
            Y::Block(t) => Self::block_scalar(t, indent + 2, out),
            Y::Empty => out.push('\n'),
            _ => {
                let text = self.flow(v);
                let _ = writeln!(out, " {text}");
            }
        }
    }

    /// A block collection under a key at `indent`.
    fn block(&mut self, v: &Y, indent: usize, out: &mut String) {
        match v {
            Y::Map(m) => self.block_map(m, indent + 2, out),
            Y::Seq(items) => {
                let child = if self.rng.gen_bool(0.3) {
                    indent
                } else {
                    indent + 2
                };
                self.block_seq(items, child, out);
            }
            _ => unreachable!(),
        }
    }

    fn block_map(&mut self, m: &[(Y, Y)], indent: usize, out: &mut String) {
        for (k, v) in m {
            let key = self.scalar(k, false);
            let _ = write!(out, "{}{key}:", " ".repeat(indent));
            self.after_key(v, indent, out);
        }
    }

    fn block_seq(&mut self, items: &[Y], indent: usize, out: &mut String) {
        let sp = " ".repeat(indent);
        for item in items {
            match item {
                Y::Anchor(a, inner)
                    if Self::is_block_collection(inner) && !self.rng.gen_bool(self.flow) =>
                {
                    let _ = writeln!(out, "{sp}- &{a}");
                    match &**inner {
                        Y::Map(m) => self.block_map(m, indent + 2, out),
                        Y::Seq(v) => self.block_seq(v, indent + 2, out),
                        _ => unreachable!(),
                    }
                }
                Y::Map(_) | Y::Seq(_)
                    if Self::is_block_collection(item) && !self.rng.gen_bool(self.flow) =>
                {
                    let mut inner = String::new();
                    match item {
                        Y::Map(m) => self.block_map(m, indent + 2, &mut inner),
                        Y::Seq(v) => self.block_seq(v, indent + 2, &mut inner),
                        _ => unreachable!(),
                    }
                    // The first line goes on the dash's line.
                    let _ = write!(out, "{sp}- {}", &inner[indent + 2..]);
                }
                Y::Block(t) => {
                    let _ = write!(out, "{sp}-");
                    Self::block_scalar(t, indent + 2, out);
                }
                Y::Empty => {
                    let _ = writeln!(out, "{sp}-");
                }
                _ => {
                    let text = self.flow(item);
                    let _ = writeln!(out, "{sp}- {text}");
                }
            }
        }
    }

    fn document(&mut self, entries: &[(Y, Y)]) -> String {
        let mut out = String::new();
        if self.rng.gen_bool(0.1) {
            out.push_str("---\n");
        }
        if self.rng.gen_bool(0.15) {
            out.push_str("# generated by flytekit_differential.rs\n");
        }
        if self.rng.gen_bool(0.05) {
            let text = self.flow(&Y::Map(entries.to_vec()));
            out.push_str(&text);
            out.push('\n');
        } else {
            self.block_map(entries, 0, &mut out);
        }
        if self.rng.gen_bool(0.03) {
            out.push_str("...\n");
        }
        out
    }
}

/// Builds one case folder.
struct Gen<'a> {
    rng: &'a mut StdRng,
    dir: PathBuf,
    desc: Vec<String>,
    /// `(folder, paths to git add -f)` repositories to make once the files exist.
    git: Vec<(PathBuf, Vec<String>)>,
    sockets: Vec<PathBuf>,
    anchors: usize,
}

const TEXTS: [&str; 10] = [
    "print('hello')\n",
    "x = 1",
    "",
    "café ☕ 日本語 🎉\n",
    "line1\r\nline2\r\n",
    "no newline at end",
    "\n\n  spaced  \n\n",
    "#!/bin/sh\necho hi\n",
    "{\"key\": \"value\"}\n",
    "ünïcödé\u{200b}zero-width\u{2028}ls\n",
];

impl Gen<'_> {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p)
    }
    fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs.choose(self.rng).unwrap().clone()
    }
    fn some<T: Clone>(&mut self, xs: &[T], max: usize) -> Vec<T> {
        let n = self.rng.gen_range(1..=max.min(xs.len()));
        xs.choose_multiple(self.rng, n).cloned().collect()
    }
    fn anchor(&mut self) -> String {
        self.anchors += 1;
        format!("a{}", self.anchors)
    }

    fn write(&mut self, rel: &str, body: &str) {
        let p = self.dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    fn text(&mut self) -> String {
        let t = self.pick(&TEXTS);
        format!("{t}{}", self.rng.gen_range(0..1000))
    }
    fn symlink(&mut self, target: &str, rel: &str) {
        let p = self.dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let _ = std::os::unix::fs::symlink(target, p);
    }

    // -- values --------------------------------------------------------------

    fn typed_scalar(&mut self) -> Y {
        let pool = [
            "yes",
            "No",
            "on",
            "off",
            "~",
            "null",
            "017",
            "0x1A",
            "1_000",
            "1:30",
            "3.10",
            "1e3",
            "1.5e+3",
            ".inf",
            "-.inf",
            ".nan",
            "2001-12-14",
            "0",
            "-1",
            "+12",
            "0b101",
            "true",
            "FALSE",
            "0o17",
            "1.0",
            "190:20:30",
            "2001-12-14t21:59:43.10-05:00",
            "NULL",
            "y",
            "n",
            "12345678901234567890",
            "0_17",
            "1__0",
            "0x_1F",
            "1.",
            ".5",
            "-.5e+1",
            "1.0e+16",
            "12345678901234567.0",
            "0.00001",
            "6.8523015e+5",
            "190:20:30.15",
            "!!str 3.10",
            "!!str yes",
            "!!int '42'",
            "!!float '1'",
            "!!bool 'yes'",
            "!!binary aGVsbG8=",
            "2001-12-14T21:59:43Z",
            "2001-12-14 21:59:43",
            "2001-12-14 21:59:43.10 -5",
            "2001-12-14t21:59:43.123456789+01:30",
        ];
        raw(self.pick(&pool))
    }

    fn odd_string(&mut self) -> String {
        let pool = [
            "café",
            "日本語",
            "emoji 🎉",
            "e\u{301}combining",
            "עברית RTL",
            "zero\u{200b}width",
            "line\u{2028}sep",
            "hello world",
            "quote\"d",
            "back\\slash",
            "it's",
            "$HOME/bin",
            "a=b",
            "  padded  ",
            "",
            "#not a comment",
            "- dash",
            "yes",
            "017",
            "3.10",
            "~",
            "key: value",
            "tab\there",
            "*star",
            "&amp",
            "%percent",
            "@at",
            "`tick`",
            "{brace}",
            "[bracket]",
            "comma, list",
        ];
        self.pick(&pool).to_string()
    }

    fn env_value(&mut self) -> Y {
        match self.rng.gen_range(0..10) {
            0..=3 => s(self.pick(&["hello", "1", "debug", "/opt/app", "x.y.z", "True"])),
            4..=5 => self.typed_scalar(),
            6..=7 => Y::S(self.odd_string()),
            8 => Y::Empty,
            _ => s(&format!("v{}", self.rng.gen_range(0..100))),
        }
    }

    fn env(&mut self) -> Y {
        if self.chance(0.08) {
            return Y::Map(vec![]);
        }
        let keys = [
            "GREETING",
            "A",
            "FLAG",
            "PATH_EXTRA",
            "LOG_LEVEL",
            "Ünïcode",
            "x.y",
            "lower",
            "HTTP_PROXY",
            "EMPTY",
        ];
        let mut m: Vec<(Y, Y)> = self
            .some(&keys, 4)
            .into_iter()
            .map(|k| (s(k), Y::Empty))
            .collect();
        for e in m.iter_mut() {
            e.1 = self.env_value();
        }
        if self.chance(0.05) {
            let k = self.typed_scalar();
            self.desc.push(format!("env-typed-key={}", show(&k)));
            m.push((k, s("typed key")));
        }
        if self.chance(0.02) {
            // Python's dict: True == 1, so these are one key
            m.push((raw("yes"), s("first")));
            m.push((raw("1"), s("second")));
            self.desc.push("env{yes,1}".into());
        }
        Y::Map(m)
    }

    /// Strings whose Python repr escapes something (they reach only the hash).
    fn exotic_string(&mut self) -> String {
        let pool = [
            "bell\u{7}",
            "del\u{7f}",
            "nel\u{85}",
            "ls\u{2028}ps\u{2029}",
            "nbsp\u{a0}",
            "shy\u{ad}",
            "unassigned\u{378}",
            "private\u{e000}",
            "zwj\u{200d}",
            "bom\u{feff}inside",
            "astral \u{1F600}",
            "nonchar\u{10FFFF}",
            "both ' and \"",
            "back\\slash 'q'",
            "tab\tnl\nret\r",
            "e\u{301}",
        ];
        self.pick(&pool).to_string()
    }

    fn options_map(&mut self) -> Y {
        let mut m = vec![
            (s("memory"), s("4Gi")),
            (s("cpu"), raw("2")),
            (s("flag"), raw("yes")),
            (s("ratio"), raw("0.5")),
            (s("name"), Y::S(self.odd_string())),
            (s("exotic"), Y::S(self.exotic_string())),
            (s("typed"), self.typed_scalar()),
            (
                s("nested"),
                Y::Seq(vec![
                    map(vec![("k", raw("1"))]),
                    strs(&["a", "b"]),
                    Y::Empty,
                ]),
            ),
        ];
        m.shuffle(self.rng);
        m.truncate(self.rng.gen_range(1..=5));
        Y::Map(m)
    }

    fn base_spec(&mut self, depth: usize) -> Y {
        let mut m = vec![(
            s("name"),
            s(self.pick(&["base", "Base-Image", "core", "deps"])),
        )];
        if self.chance(0.6) {
            m.push((
                s("python_version"),
                self.pick(&[s("3.11"), s("3.12"), raw("3.10")]),
            ));
        }
        if self.chance(0.6) {
            let pk = self.some(&["numpy", "pandas==2.2.0", "six", "pip"], 2);
            m.push((s("packages"), strs(&pk)));
        }
        if self.chance(0.4) {
            m.push((
                s("registry"),
                s(self.pick(&["localhost:30000", "ghcr.io/flyteorg"])),
            ));
        }
        if self.chance(0.2) {
            m.push((s("python_exec"), s("/usr/bin/python3")));
        }
        if self.chance(0.2) {
            m.push((s("apt_packages"), strs(&["git"])));
        }
        if self.chance(0.2) {
            let e = self.env();
            m.push((s("env"), e));
        }
        if self.chance(0.15) {
            m.push((s("builder"), s("default")));
        }
        if depth < 2 && self.chance(0.25) {
            let b = self.base_spec(depth + 1);
            m.push((s("base_image"), b));
            self.desc.push("nested^2".into());
        } else if self.chance(0.3) {
            m.push((s("base_image"), s("python:3.11-slim")));
        }
        m.shuffle(self.rng);
        Y::Map(m)
    }

    fn requirements(&mut self) -> Y {
        let kind = self.rng.gen_range(0..10);
        if kind >= 8 {
            // lock files
            let lock = if kind == 8 { "uv.lock" } else { "poetry.lock" };
            let folder = self.pick(&["", "proj/", "./"]);
            let path = format!("{folder}{lock}");
            let body = self.text();
            self.write(&path, &format!("# {lock}\n{body}"));
            self.write(
                &format!("{folder}pyproject.toml"),
                "[project]\nname = \"x\"\n",
            );
            self.desc.push(format!("requirements={path}"));
            return s(&path);
        }
        let lines = [
            "numpy==1.26.4",
            "pandas",
            "  requests >= 2.31  ",
            "# a comment",
            "",
            "flytekit==1.16.30",
            "scikit-learn ; python_version > '3.8'",
            "# café ☕",
            "\tsix",
            "-e ./local",
        ];
        let chosen = self.some(&lines, 6);
        let sep = if self.chance(0.2) { "\r\n" } else { "\n" };
        let mut body = chosen.join(sep);
        if self.chance(0.6) {
            body.push_str(sep);
        }
        if self.chance(0.1) {
            body = format!("\n\n{body}\n\n");
        }
        if self.chance(0.05) {
            body = format!("\u{feff}{body}");
            self.desc.push("requirements-bom".into());
        }
        let path = self.pick(&[
            "requirements.txt",
            "deps/requirements.txt",
            "reqs.in",
            "./requirements.txt",
        ]);
        self.write(path, &body);
        self.desc.push(format!(
            "requirements={path}({} lines{})",
            chosen.len(),
            if sep == "\r\n" { ",crlf" } else { "" }
        ));
        s(path)
    }

    fn copy(&mut self) -> Y {
        let mut entries = Vec::new();
        let mut notes = Vec::new();
        for _ in 0..self.rng.gen_range(1..=3) {
            match self.rng.gen_range(0..8) {
                0 => {
                    let b = self.text();
                    self.write("files/config.json", &b);
                    entries.push("files/config.json".to_string());
                }
                1 => {
                    let b = self.text();
                    self.write("top.txt", &b);
                    entries.push(self.pick(&["top.txt", "./top.txt"]).to_string());
                }
                2 | 3 => {
                    // a folder whose sub-folders nest in one chain
                    for rel in [
                        "assets/logo.txt",
                        "assets/sub/more.txt",
                        "assets/sub/deeper/x.txt",
                    ] {
                        let b = self.text();
                        self.write(rel, &b);
                    }
                    entries.push(self.pick(&["assets", "assets/"]).to_string());
                    notes.push("dir-chain");
                }
                4 => {
                    // sibling sub-folders, made out of name order: flytekit walks
                    // them in directory order (creation order, in a small ext4
                    // folder), imagespec sorts them
                    for rel in [
                        "multi/c/deep/z.txt",
                        "multi/a/x.txt",
                        "multi/b/y.txt",
                        "multi/top.txt",
                    ] {
                        let b = self.text();
                        self.write(rel, &b);
                    }
                    entries.push("multi".to_string());
                    notes.push("copy-sibling-dirs");
                }
                5 => {
                    let b = self.text();
                    self.write("ünï/fïle.txt", &b);
                    entries.push("ünï/fïle.txt".to_string());
                }
                6 => {
                    let b = self.text();
                    self.write("scripts/run.sh", &b);
                    self.write("scripts/__pycache__/x.pyc", "pyc");
                    entries.push("scripts".to_string());
                    notes.push("dir-with-pycache");
                }
                _ => {
                    let b = self.text();
                    self.write("nested/one/two/three.txt", &b);
                    entries.push("nested/one".to_string());
                }
            }
        }
        if self.chance(0.05) && entries.iter().any(|e| e.starts_with("assets")) {
            entries.push("assets/logo.txt".into());
            notes.push("overlapping");
        }
        entries.dedup();
        if self.chance(0.1) && !entries.contains(&"assets".to_string()) {
            // a link inside a copied folder
            self.write("linked/real.txt", "real");
            self.symlink("real.txt", "linked/alias.txt");
            entries.push("linked".into());
            notes.push("copy-symlink");
        }
        self.desc.push(format!("copy={entries:?}{notes:?}"));
        Y::Seq(entries.iter().map(|e| s(e)).collect())
    }

    /// A source tree, with its root as the spec writes it.
    fn source_tree(&mut self) -> String {
        let variant = self.rng.gen_range(0..20);
        let (root_rel, root_text) = match variant {
            0..=5 => ("src", "src".to_string()),
            6..=7 => ("src", "./src".to_string()),
            8..=9 => ("src", "src/".to_string()),
            10..=11 => ("a/b", "a/b".to_string()),
            12..=15 => ("src", self.dir.join("src").to_string_lossy().into_owned()),
            16 => (".", ".".to_string()),
            17 => ("build/src", "build/src".to_string()),
            _ => ("src", "src".to_string()),
        };
        let absolute = root_text.starts_with('/');
        let r = |p: &str| {
            if root_rel == "." {
                p.to_string()
            } else {
                format!("{root_rel}/{p}")
            }
        };
        let mut notes = vec![format!(
            "root={}",
            if absolute { "ABS" } else { root_text.as_str() }
        )];
        let mut files = vec!["main.py", "pkg/__init__.py", "pkg/mod.py"];
        let extra = [
            "pkg/sub/deep.py",
            "data/config.json",
            "README.md",
            "docs/index.md",
            "docs/api/ref.md",
            "notes.txt",
            "a.py",
            "a/b.py",
            "a-b.py",
            "a_b.py",
            "B.py",
            "UPPER.TXT",
            "with space.py",
            "deep/x/y/z.txt",
            "logs/run.log",
            "keep.log",
        ];
        files.extend(self.some(&extra, 8));
        if self.chance(0.15) {
            files.extend(["café.py", "日本/データ.txt", "emoji-🎉.txt"]);
            notes.push("unicode-names".into());
        }
        for f in files.clone() {
            let b = self.text();
            self.write(&r(f), &b);
        }
        if self.chance(0.4) {
            for f in [
                "__pycache__/main.cpython-311.pyc",
                "pkg/__pycache__/mod.cpython-311.pyc",
                "stale.pyc",
                ".cache/x/c",
                "pkg/.cache",
            ] {
                self.write(&r(f), "cached");
            }
            notes.push("pycache".into());
        }
        if self.chance(0.35) {
            let pool = [
                "*.md",
                "docs/",
                "docs",
                "**/*.txt",
                "!README.md",
                "# comment",
                "",
                "   ",
                "DATA/",
                "*.TXT",
                "pkg/sub",
                "**/deep.py",
                "/notes.txt",
                "./notes.txt",
                "data/*",
                "!data/config.json",
                "*.pyc",
                "logs",
                "**/logs/**",
                "!keep.log",
                "*.log",
                "src/docs",
                "a/b/*.md",
                "!docs/index.md",
                "?.py",
                "[ab].py",
                "pkg/**/*.py",
                "**",
                "*",
                "!main.py",
                "README.MD",
                "deep/**",
            ];
            let pats = self.some(&pool, 5);
            let sep = if self.chance(0.15) { "\r\n" } else { "\n" };
            let body = pats.join(sep) + sep;
            self.write(&r(".dockerignore"), &body);
            notes.push(format!("dockerignore{pats:?}"));
        }
        let git = variant == 17 || self.chance(0.25);
        if git {
            let pool = [
                "*.log",
                "build/",
                "docs/",
                "/notes.txt",
                "*.md",
                "!README.md",
                "data",
                "**/deep.py",
                "# comment",
                "pkg/sub/",
                "*.TXT",
            ];
            let mut pats = self.some(&pool, 4);
            let at_case = variant == 17 || root_rel == "." || self.chance(0.5);
            let repo = if at_case {
                self.dir.clone()
            } else {
                self.dir.join(root_rel)
            };
            let repo_prefix = if at_case && root_rel != "." {
                format!("{root_rel}/")
            } else {
                String::new()
            };
            if variant == 17 {
                pats.push("build/");
                notes.push("root-inside-ignored-folder".into());
            }
            // tracked and ignored: flytekit copies it (git ls-files -io lists untracked files)
            let force_tracked = self.chance(0.3);
            if force_tracked && !pats.contains(&"*.log") {
                pats.push("*.log");
            }
            std::fs::create_dir_all(&repo).unwrap();
            std::fs::write(repo.join(".gitignore"), pats.join("\n") + "\n").unwrap();
            notes.push(format!(
                "git(repo={}){pats:?}",
                if at_case { "case" } else { "root" }
            ));
            if self.chance(0.3) {
                self.write(&r("pkg/.gitignore"), "mod.py\n*.txt\n");
                notes.push("nested-gitignore".into());
            }
            let mut force = Vec::new();
            if force_tracked {
                let b = self.text();
                self.write(&r("forced.log"), &b);
                force.push(format!("{repo_prefix}forced.log"));
                if absolute {
                    notes.push("git-tracked-ignored".into());
                } else {
                    notes.push("tracked-ignored".into());
                }
            }
            self.git.push((repo, force));
        } else if self.chance(0.1) {
            self.write(&r(".git/HEAD"), "ref: refs/heads/main\n");
            notes.push("fake-.git".into());
        }
        if self.chance(0.2) {
            self.symlink("main.py", &r("link.py"));
            self.symlink("pkg", &r("linkdir"));
            self.symlink("nowhere.txt", &r("broken"));
            if self.chance(0.5) {
                self.write("outside.txt", "outside the tree");
                let up = "../".repeat(root_rel.split('/').filter(|p| *p != ".").count());
                self.symlink(&format!("{up}outside.txt"), &r("ext-link.txt"));
                self.symlink(".", &r("pkg/loop"));
            }
            notes.push("symlinks".into());
        }
        if self.chance(0.1) {
            std::fs::create_dir_all(self.dir.join(r("empty/inner"))).unwrap();
            notes.push("empty-dirs".into());
        }
        if self.chance(0.08) {
            self.sockets.push(self.dir.join(r("sock")));
            notes.push("socket".into());
        }
        self.desc.push(format!("source[{}]", notes.join(" ")));
        root_text
    }

    fn tag_format(&mut self) -> Y {
        let pool = [
            "{spec_hash}-dev",
            "v1.2-{spec_hash}",
            "{spec_hash}",
            "{spec_hash:.8}",
            "{spec_hash:x<30}",
            "{spec_hash!s}",
            "{spec_hash[0]}-{spec_hash}",
            "prefix_{spec_hash}_suffix",
            "{spec_hash:_^26}",
            "x{spec_hash:.10}y",
        ];
        s(self.pick(&pool))
    }

    // -- a whole spec ---------------------------------------------------------

    fn spec(&mut self) -> Vec<(Y, Y)> {
        let mut e: Vec<(&'static str, Y)> = Vec::new();
        if self.chance(0.92) {
            let v = if self.chance(0.9) {
                s(self.pick(&[
                    "hello",
                    "etl",
                    "my-image",
                    "img_2",
                    "flytekit",
                    "Data.Pipeline",
                    "UPPER",
                    "a",
                    "x-y_z.w",
                    "t1000",
                    "org/image",
                    "a.b-c__d",
                ]))
            } else {
                Y::S(
                    self.pick(&["café", "MyImage", "x".repeat(60).as_str(), "n.a-m_e"])
                        .to_string(),
                )
            };
            e.push(("name", v));
        }
        if self.chance(0.4) {
            let v = self.pick(&[
                s("3.11"),
                s("3.12"),
                raw("3.10"),
                raw("3.9"),
                raw("3"),
                raw("3.11"),
                s("3.9"),
                s("3.13"),
                raw("3.12"),
            ]);
            let v = if self.chance(0.05) {
                let odd = self.pick(&[raw("[3, 11]"), raw("{major: 3}"), raw("2001-12-14"), s("")]);
                self.desc.push(format!("python_version={}", show(&odd)));
                odd
            } else {
                v
            };
            e.push(("python_version", v));
        }
        if self.chance(0.15) {
            e.push(("builder", s("default")));
        } else if self.chance(0.02) {
            e.push(("builder", s("noop")));
            e.push(("base_image", s("ghcr.io/org/prebuilt:1.0")));
        }
        let has_source = self.chance(0.35);
        if has_source {
            let root = self.source_tree();
            e.push(("source_root", s(&root)));
            let mode = self.rng.gen_range(0..10);
            let m = match mode {
                0..=2 => None,
                3..=6 => Some(s("all")),
                7 => Some(s("no_copy")),
                8 => Some(s("loaded_modules")),
                _ => Some(s(self.pick(&["ALL", "copy_all", "auto"]))),
            };
            self.desc.push(format!(
                "mode={}",
                m.as_ref().map(show).unwrap_or_else(|| "absent".into())
            ));
            if let Some(m) = m {
                e.push(("source_copy_mode", m));
            }
        } else if self.chance(0.01) {
            e.push(("source_copy_mode", s("no_copy")));
        }
        if self.chance(0.3) {
            let v = self.env();
            e.push(("env", v));
        }
        if self.chance(0.25) {
            let v = s(self.pick(&[
                "localhost:30000",
                "ghcr.io/flyteorg",
                "docker.io/myuser",
                "Registry.Example.com/Team",
                "localhost:5000/a/b",
            ]));
            e.push(("registry", v));
        }
        let lock = self.chance(0.2);
        let mut has_lock = false;
        if lock {
            let v = self.requirements();
            has_lock = matches!(&v, Y::S(p) if p.ends_with(".lock"));
            e.push(("requirements", v));
        }
        if !has_lock && self.chance(0.4) {
            let pool = [
                "numpy",
                "pandas==2.2.0",
                "requests>=2.31",
                "scikit-learn[all]",
                "flytekit==1.16.0",
                "six",
                "git+https://github.com/org/repo.git@main",
                "torch",
            ];
            let v = if self.chance(0.08) {
                Y::Seq(vec![])
            } else {
                strs(&self.some(&pool, 4))
            };
            e.push(("packages", v));
        }
        let python_exec = self.chance(0.1);
        if !python_exec && self.chance(0.1) {
            e.push((
                "conda_packages",
                strs(&self.some(&["numpy", "pytorch", "cudatoolkit=11.8"], 2)),
            ));
        }
        if !python_exec && self.chance(0.1) {
            e.push((
                "conda_channels",
                strs(&self.some(&["conda-forge", "pytorch", "nvidia"], 2)),
            ));
        }
        if self.chance(0.2) {
            let v = if self.chance(0.1) {
                Y::Seq(vec![])
            } else {
                strs(&self.some(&["git", "curl", "build-essential", "libpq-dev"], 3))
            };
            e.push(("apt_packages", v));
        }
        if !e.iter().any(|(k, _)| *k == "base_image") && self.chance(0.3) {
            let v = if self.chance(0.3) {
                self.desc.push("nested-base".into());
                self.base_spec(0)
            } else {
                s(self.pick(&[
                    "python:3.11-slim",
                    "ubuntu:22.04",
                    "ghcr.io/org/base:1.0",
                    "localhost:5000/base",
                ]))
            };
            e.push(("base_image", v));
        }
        if self.chance(0.15) {
            e.push((
                "platform",
                s(self.pick(&[
                    "linux/amd64",
                    "linux/arm64",
                    "linux/amd64,linux/arm64",
                    "linux/amd64, linux/arm64",
                ])),
            ));
        }
        if self.chance(0.1) {
            e.push((
                "pip_index",
                s(self.pick(&[
                    "https://pypi.org/simple",
                    "https://user:pass@private.example.com/simple",
                ])),
            ));
        }
        if self.chance(0.1) {
            e.push((
                "pip_extra_index_url",
                strs(&self.some(
                    &[
                        "https://a.example.com/simple",
                        "https://b.example.com/simple",
                    ],
                    2,
                )),
            ));
        }
        if self.chance(0.08) {
            self.write("netrc", "machine x login y password z\n");
            let mut pairs = vec![Y::Seq(vec![s("netrc"), s("/root/.netrc")])];
            if self.chance(0.4) {
                pairs.push(Y::Seq(vec![s("netrc"), s("/etc/pip.conf")]));
            }
            e.push(("pip_secret_mounts", Y::Seq(pairs)));
            self.desc.push("secret-pairs".into());
        }
        if self.chance(0.1) {
            e.push((
                "pip_extra_args",
                s(self.pick(&["--no-cache-dir", "--pre", "--upgrade --no-deps"])),
            ));
        }
        if self.chance(0.08) {
            e.push(("registry_config", s("registry.json")));
        }
        if self.chance(0.15) {
            let v = self.pick(&[
                strs(&["python", "-m", "app"]),
                Y::Seq(vec![]),
                strs(&["/bin/sh", "-c", "echo \"hi\""]),
                strs(&["python", "café", "🎉", "tab\tq'\""]),
            ]);
            e.push(("entrypoint", v));
        }
        if self.chance(0.2) {
            let v = self.pick(&[
                strs(&["echo hello", "ls -la /root"]),
                Y::Seq(vec![]),
                strs(&["pip list | grep numpy"]),
                strs(&["echo café"]),
            ]);
            e.push(("commands", v));
        }
        if self.chance(0.12) {
            let v = self.tag_format();
            e.push(("tag_format", v));
        }
        if self.chance(0.2) {
            let v = self.copy();
            e.push(("copy", v));
        }
        if python_exec {
            e.push((
                "python_exec",
                s(self.pick(&["/usr/bin/python3", "/opt/venv/bin/python"])),
            ));
        }
        if self.chance(0.08) {
            e.push(("runtime_packages", strs(&["numpy"])));
        }
        if self.chance(0.1) {
            let v = self.options_map();
            e.push(("builder_options", v));
        }
        if self.chance(0.1) {
            let mut m = vec![(s("uv_image"), s("ghcr.io/astral-sh/uv:0.6.14"))];
            if self.chance(0.5) {
                m.push((s("micromamba_image"), s("mambaorg/micromamba:2.0.5")));
            }
            if self.chance(0.2) {
                m.push((s("dockerfile_syntax"), s("docker/dockerfile:1.5")));
            }
            if self.chance(0.2) {
                // imagespec's base image for specs without one; flytekit ignores it
                m.push((
                    s("base_image"),
                    s("localhost:5000/offline/debian:bookworm-slim"),
                ));
                self.desc.push("builder_config.base_image".into());
            }
            e.push(("builder_config", Y::Map(m)));
        }
        if self.chance(0.015) {
            e.push(("cuda", self.pick(&[raw("11.8"), s("12.1")])));
        }
        if self.chance(0.005) {
            e.push(("cudnn", s("8")));
        }
        self.desc.push(format!(
            "fields={}",
            e.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(",")
        ));
        e.shuffle(self.rng);
        let mut entries: Vec<(Y, Y)> = e.into_iter().map(|(k, v)| (s(k), v)).collect();
        self.anchors_and_aliases(&mut entries);
        entries
    }

    /// Anchors, aliases and merge keys; the entries holding an anchor move first.
    fn anchors_and_aliases(&mut self, entries: &mut Vec<(Y, Y)>) {
        let find = |entries: &Vec<(Y, Y)>, key: &str| {
            entries
                .iter()
                .position(|(k, _)| matches!(k, Y::S(x) if x == key))
        };
        let mut sources = Vec::new();
        // runtime_packages: *packages / entrypoint: *commands
        for (src, dst) in [("packages", "runtime_packages"), ("commands", "entrypoint")] {
            if let (Some(i), None) = (find(entries, src), find(entries, dst)) {
                if self.chance(0.15) && matches!(entries[i].1, Y::Seq(_)) {
                    let a = self.anchor();
                    let v = std::mem::replace(&mut entries[i].1, Y::Empty);
                    entries[i].1 = Y::Anchor(a.clone(), Box::new(v));
                    entries.push((s(dst), Y::Alias(a)));
                    sources.push(src);
                    self.desc.push(format!("alias({dst}=*{src})"));
                }
            }
        }
        // env merging builder_options (and builder_config)
        if let Some(i) = find(entries, "builder_options") {
            if self.chance(0.4) {
                let a = self.anchor();
                let v = std::mem::replace(&mut entries[i].1, Y::Empty);
                entries[i].1 = Y::Anchor(a.clone(), Box::new(v));
                sources.push("builder_options");
                let mut merge = Y::Alias(a);
                if let Some(j) = find(entries, "builder_config") {
                    if self.chance(0.5) {
                        let b = self.anchor();
                        let v = std::mem::replace(&mut entries[j].1, Y::Empty);
                        entries[j].1 = Y::Anchor(b.clone(), Box::new(v));
                        sources.push("builder_config");
                        merge = Y::Seq(vec![merge, Y::Alias(b)]);
                    }
                }
                self.desc.push(format!("merge(env<<{})", show(&merge)));
                let mut env = match find(entries, "env") {
                    Some(j) => match entries.remove(j).1 {
                        Y::Map(m) => m,
                        _ => vec![],
                    },
                    None => vec![(s("OWN"), s("own value"))],
                };
                env.insert(self.rng.gen_range(0..=env.len()), (raw("<<"), merge));
                entries.push((s("env"), Y::Map(env)));
            }
        }
        // a scalar anchor used in a nested base
        if let (Some(i), Some(j)) = (find(entries, "python_version"), find(entries, "base_image")) {
            if matches!(entries[j].1, Y::Map(_)) && self.chance(0.3) {
                let a = self.anchor();
                let v = std::mem::replace(&mut entries[i].1, Y::Empty);
                entries[i].1 = Y::Anchor(a.clone(), Box::new(v));
                if let Y::Map(base) = &mut entries[j].1 {
                    base.retain(|(k, _)| !matches!(k, Y::S(x) if x == "python_version"));
                    base.push((s("python_version"), Y::Alias(a)));
                }
                sources.push("python_version");
                self.desc.push("alias(base.python_version)".into());
            }
        }
        // a top-level merge key
        if self.chance(0.04) {
            let m = map(vec![
                ("apt_packages", strs(&["git"])),
                ("name", s("merged")),
            ]);
            entries.push((raw("<<"), m));
            self.desc.push("merge(top<<{apt_packages,name})".into());
        }
        let (mut first, rest): (Vec<_>, Vec<_>) = entries
            .drain(..)
            .partition(|(k, _)| matches!(k, Y::S(x) if sources.contains(&x.as_str())));
        first.extend(rest);
        *entries = first;
    }

    /// One invalid change, for the error tail.
    fn break_spec(&mut self, entries: &mut Vec<(Y, Y)>) {
        let set = |entries: &mut Vec<(Y, Y)>, key: &str, v: Y| {
            entries.retain(|(k, _)| !matches!(k, Y::S(x) if x == key));
            entries.push((s(key), v));
        };
        let what = self.rng.gen_range(0..27);
        let label = match what {
            0 => {
                set(entries, "name", raw("123"));
                "name int"
            }
            1 => {
                set(entries, "name", Y::Empty);
                "name null"
            }
            2 => {
                set(entries, "name", s("bad name!"));
                "name with space"
            }
            3 => {
                set(entries, "packages", s("numpy"));
                "packages string"
            }
            4 => {
                set(entries, "packages", Y::Seq(vec![s("numpy"), raw("1")]));
                "packages with int"
            }
            5 => {
                set(entries, "registry", s("bad registry!"));
                "bad registry"
            }
            6 => {
                set(entries, "unknown_field", raw("1"));
                "unknown field"
            }
            7 => {
                set(entries, "source_copy_mode", s("all"));
                entries.retain(|(k, _)| !matches!(k, Y::S(x) if x == "source_root"));
                "mode without root"
            }
            8 => {
                set(entries, "tag_format", s("{other}"));
                "tag_format unknown field"
            }
            9 => {
                let f = self.pick(&["{spec_hash!r}", "{spec_hash:^26}", "{{x}}{spec_hash}"]);
                set(entries, "tag_format", s(f));
                "tag_format makes an invalid tag"
            }
            10 => {
                set(entries, "requirements", s("missing-requirements.txt"));
                "missing requirements"
            }
            11 => {
                set(entries, "copy", strs(&["missing.txt"]));
                "missing copy"
            }
            12 => {
                set(entries, "copy", strs(&["/etc/hostname"]));
                "absolute copy"
            }
            13 => {
                set(entries, "env", map(vec![("LIST", strs(&["a", "b"]))]));
                "env list value"
            }
            14 => {
                set(
                    entries,
                    "commands",
                    Y::Seq(vec![Y::Block("echo a\necho b\n".into())]),
                );
                "command with newline"
            }
            15 => {
                set(entries, "python_exec", s("/usr/bin/python3"));
                set(entries, "conda_packages", strs(&["numpy"]));
                "python_exec with conda"
            }
            16 => {
                set(entries, "builder_options", strs(&["not", "a", "dict"]));
                "builder_options list"
            }
            17 => {
                set(
                    entries,
                    "pip_secret_mounts",
                    Y::Seq(vec![Y::Seq(vec![s("netrc"), s("/a,b")])]),
                );
                "secret target with comma"
            }
            18 => {
                entries.push((s("name"), s("duplicate")));
                "duplicate key"
            }
            19 => {
                set(entries, "env", map(vec![("A", Y::S("x\u{7}bell".into()))]));
                "env control char"
            }
            20 => {
                set(entries, "tag_format", raw("1"));
                "tag_format int"
            }
            21 => {
                set(entries, "source_root", s("nosuch"));
                set(entries, "source_copy_mode", s("all"));
                "source_root missing"
            }
            22 => {
                self.write("root-file.py", "x = 1\n");
                set(entries, "source_root", s("root-file.py"));
                set(entries, "source_copy_mode", s("all"));
                "source_root is a file"
            }
            23 => {
                self.write("top.txt", "top");
                set(entries, "copy", strs(&["top.txt/"]));
                "copy file with a slash"
            }
            24 => {
                std::fs::write(self.dir.join("latin1.txt"), b"caf\xe9\nnumpy\n").unwrap();
                set(entries, "requirements", s("latin1.txt"));
                entries.retain(|(k, _)| !matches!(k, Y::S(x) if x == "packages"));
                "requirements not UTF-8"
            }
            25 => {
                use std::os::unix::ffi::OsStrExt;
                let dir = self.dir.join("raw-src");
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(dir.join("ok.py"), "ok").unwrap();
                let name = std::ffi::OsStr::from_bytes(b"caf\xe9.py");
                std::fs::write(dir.join(name), "latin-1 name").unwrap();
                set(entries, "source_root", s("raw-src"));
                set(entries, "source_copy_mode", s("all"));
                "file name not UTF-8"
            }
            _ => {
                set(entries, "builder", s("envd"));
                "builder envd (not installed)"
            }
        };
        self.desc.push(format!("INVALID({label})"));
    }
}

/// Writes one generated case into `dir`; returns its description and
/// whether it is compared as a typed dump.
fn generate(rng: &mut StdRng, dir: &Path) -> (String, bool) {
    std::fs::create_dir_all(dir).unwrap();
    let mut g = Gen {
        rng,
        dir: dir.to_path_buf(),
        desc: Vec::new(),
        git: Vec::new(),
        sockets: Vec::new(),
        anchors: 0,
    };
    let mut entries = g.spec();
    if g.chance(0.1) {
        g.break_spec(&mut entries);
    }
    let typed = g.chance(0.2);
    let flow = g.rng.gen_range(0.0..0.6);
    let crlf = g.chance(0.03);
    let mut text = Emitter {
        rng: &mut *g.rng,
        flow,
    }
    .document(&entries);
    if g.chance(0.01) {
        // a document pyflyte cannot take as a spec
        let (bad, label) = g.pick(&[
            ("", "empty file"),
            ("- a\n- b\n", "a list"),
            ("just a string\n", "a scalar"),
            ("name: a\n---\nname: b\n", "two documents"),
            ("name: [unclosed\n", "invalid YAML"),
            ("name: a\n\tpackages: [x]\n", "a tab indent"),
        ]);
        text = bad.to_string();
        g.desc.push(format!("INVALID(document: {label})"));
    }
    if crlf {
        text = text.replace('\n', "\r\n");
        g.desc.push("crlf-spec".into());
    }
    std::fs::write(dir.join("spec.yaml"), &text).unwrap();
    for (repo, force) in std::mem::take(&mut g.git) {
        git(&repo, &["init", "-q", "."]);
        for f in force {
            git(&repo, &["add", "-f", &f]);
        }
    }
    for sock in std::mem::take(&mut g.sockets) {
        std::fs::create_dir_all(sock.parent().unwrap()).unwrap();
        drop(std::os::unix::net::UnixListener::bind(&sock).expect("make a unix socket"));
    }
    if typed {
        g.desc.push("typed".into());
    }
    (g.desc.join("; "), typed)
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("git is installed");
    assert!(status.success(), "git {args:?} in {}", dir.display());
}

#[test]
fn the_generator_is_deterministic() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let mut ra = StdRng::seed_from_u64(7);
    let mut rb = StdRng::seed_from_u64(7);
    for i in 0..20 {
        let (da, ta) = generate(&mut ra, &a.path().join(i.to_string()));
        let (db, tb) = generate(&mut rb, &b.path().join(i.to_string()));
        assert_eq!((&da, ta), (&db, tb));
        let sa = std::fs::read_to_string(a.path().join(i.to_string()).join("spec.yaml")).unwrap();
        let sb = std::fs::read_to_string(b.path().join(i.to_string()).join("spec.yaml")).unwrap();
        // Absolute source roots name the case folder.
        assert_eq!(
            sa.replace(&a.path().to_string_lossy().into_owned(), "ROOT"),
            sb.replace(&b.path().to_string_lossy().into_owned(), "ROOT")
        );
    }
}
