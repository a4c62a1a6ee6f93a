//! The live differential test against real flytekit: runs
//! `tests/flytekit/harness.py` (flytekit 1.16.31, loaded once) over a batch of
//! case folders, computes the same cases with imagespec in this process, and
//! sorts every difference into an outcome class, explained or not by the
//! allow-list `tests/fixtures/flytekit-differences.toml`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use imagespec_core::knobs::PythonDefaults;
use imagespec_core::spec::load_file;
use regex::Regex;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Names the python to run the harness with, instead of the venv's.
pub const PYTHON_ENV: &str = "IMAGESPEC_FLYTEKIT_PYTHON";

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The harness script (outside every case folder: see its docstring).
pub fn harness_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("flytekit/harness.py")
}

/// The allow-list of known differences.
pub fn differences_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/flytekit-differences.toml")
}

/// The python with flytekit: `$IMAGESPEC_FLYTEKIT_PYTHON`, else the venv
/// `cargo xtask flytekit` makes. Panics (never skips) when it is missing.
pub fn python() -> PathBuf {
    let (python, from) = match std::env::var_os(PYTHON_ENV) {
        Some(p) if !p.is_empty() => (PathBuf::from(p), format!("${PYTHON_ENV}")),
        _ => (
            workspace_root().join("target/flytekit-venv/bin/python"),
            "the default location".to_string(),
        ),
    };
    assert!(
        python.exists(),
        "no python with flytekit at {} ({from}): run `cargo xtask flytekit` first \
         (it makes target/flytekit-venv with flytekit 1.16.31), or set {PYTHON_ENV}",
        python.display()
    );
    python
}

/// One case: a folder holding `spec` and the files it names.
#[derive(Debug, Clone)]
pub struct Case {
    /// Short unique name (the folder's name).
    pub name: String,
    /// The case folder (absolute).
    pub dir: PathBuf,
    /// The spec file's name in `dir`.
    pub spec: String,
    /// Compare the typed form: flytekit's `yaml.dump` of the ImageSpec, reloaded.
    pub typed_dump: bool,
    /// What the case holds, for people and for the allow-list's `tag` and
    /// `context-files` entries.
    pub description: String,
}

/// The outcome on one side.
#[derive(Debug, Clone, Default)]
pub struct Side {
    /// `Type: message` (flytekit) or the error's text (imagespec).
    pub error: Option<String>,
    /// Where it failed: load, id, tag, context (and flytekit's pyflyte, guard).
    pub stage: Option<String>,
    pub id: Option<String>,
    pub tag: Option<String>,
    pub image_name: Option<String>,
    /// Every file of the build context, with its sha256.
    pub files: BTreeMap<String, String>,
    pub dockerfile: Option<String>,
    pub requirements: Option<String>,
    /// The spec file the result was computed from (`typed.yaml` for typed dumps).
    pub spec_file: String,
}

impl Side {
    /// `image_name`, or `-`.
    pub fn name(&self) -> &str {
        self.image_name.as_deref().unwrap_or("-")
    }
}

/// flytekit's result for one case, as the harness reported it.
#[derive(Debug, Clone)]
pub struct FlytekitResult {
    pub side: Side,
    pub default_python: String,
    pub flytekit_version: String,
    pub raw: Value,
}

impl FlytekitResult {
    /// The defaults imagespec must use to write the same context.
    pub fn defaults(&self) -> PythonDefaults {
        PythonDefaults {
            default_python: self.default_python.clone(),
            flytekit_requirement: format!("flytekit=={}", self.flytekit_version),
        }
    }
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(|x| x.as_str()).map(str::to_string)
}

/// Runs the harness over `cases` in one python process; one result per case,
/// in order. Its stderr (flytekit's logs) goes to `log`.
pub fn run_flytekit(cases: &[Case], log: &Path) -> Vec<FlytekitResult> {
    let input: Vec<Value> = cases
        .iter()
        .map(|c| {
            serde_json::json!({
                "dir": c.dir.to_string_lossy(),
                "spec": c.spec,
                "typed_dump": c.typed_dump,
            })
        })
        .collect();
    let input = serde_json::to_vec(&input).unwrap();
    let stderr = std::fs::File::create(log).expect("harness log file");
    let mut child = Command::new(python())
        .arg(harness_path())
        .current_dir(std::env::temp_dir())
        .env("PYTHONUTF8", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONHASHSEED", "0")
        .env_remove("PYTHONPATH")
        .env_remove("FLYTE_PUSH_IMAGE_SPEC")
        .env_remove("FLYTE_FORCE_PUSH_IMAGE_SPEC")
        .env_remove("FLYTE_IMG_FAST_FAIL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start the flytekit harness");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        stdin
            .write_all(&input)
            .expect("write the cases to the harness");
    });
    let out = child.wait_with_output().expect("run the flytekit harness");
    writer.join().unwrap();
    let log_tail = || {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let start = text.len().saturating_sub(4000);
        let start = (start..text.len())
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text[start..].to_string()
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let results: Vec<Value> = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("harness output `{l}`: {e}")))
        .collect();
    assert!(
        out.status.success() && results.len() == cases.len(),
        "the flytekit harness failed ({}, {} results for {} cases); its log ({}):\n{}",
        out.status,
        results.len(),
        cases.len(),
        log.display(),
        log_tail()
    );
    results
        .into_iter()
        .zip(cases)
        .map(|(v, case)| {
            if let Some(e) = str_field(&v, "harness_error") {
                panic!(
                    "the harness failed on {} ({}): {e}",
                    case.name,
                    case.dir.display()
                );
            }
            assert_eq!(
                str_field(&v, "dir").as_deref(),
                Some(case.dir.to_string_lossy().as_ref()),
                "harness results out of order"
            );
            let files = v
                .get("context_files")
                .and_then(|f| f.as_object())
                .map(|m| {
                    m.iter()
                        .map(|(k, h)| (k.clone(), h.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default();
            FlytekitResult {
                side: Side {
                    error: str_field(&v, "error"),
                    stage: str_field(&v, "stage"),
                    id: str_field(&v, "id"),
                    tag: str_field(&v, "tag"),
                    image_name: str_field(&v, "image_name"),
                    files,
                    dockerfile: str_field(&v, "dockerfile"),
                    requirements: str_field(&v, "requirements_uv"),
                    spec_file: str_field(&v, "spec_file").unwrap_or_else(|| case.spec.clone()),
                },
                default_python: str_field(&v, "default_python").expect("default_python"),
                flytekit_version: str_field(&v, "flytekit_version").expect("flytekit_version"),
                raw: v,
            }
        })
        .collect()
}

fn sha256_file(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap_or_default()))
}

/// imagespec's result for `dir/spec_file`, its context written into `out`
/// (which must not exist, and must not be inside the case folder).
pub fn run_imagespec(dir: &Path, spec_file: &str, defaults: &PythonDefaults, out: &Path) -> Side {
    let mut side = Side {
        spec_file: spec_file.to_string(),
        ..Side::default()
    };
    let fail = |mut side: Side, stage: &str, e: String| {
        side.error = Some(e);
        side.stage = Some(stage.into());
        side
    };
    let spec = match load_file(&dir.join(spec_file)) {
        Ok(s) => s,
        Err(e) => return fail(side, "load", e.to_string()),
    };
    // What `imagespec context` does: prepare (checks, inputs, identity),
    // the builders' checks, then the context.
    let engine = crate::engine(defaults);
    let job = match engine.prepare(spec.view()) {
        Ok(job) => job,
        Err(e) => return fail(side, "prepare", e.to_string()),
    };
    side.id = Some(job.identity.id.clone());
    side.tag = Some(job.identity.tag.clone());
    side.image_name = Some(job.identity.image_name.clone());
    let written = engine.write_context(&job, out, Default::default());
    match written {
        Ok(written) => {
            for f in &written.files {
                side.files.insert(f.clone(), sha256_file(&out.join(f)));
            }
            side.dockerfile = std::fs::read_to_string(out.join("Dockerfile")).ok();
            side.requirements = std::fs::read_to_string(out.join("requirements_uv.txt")).ok();
            side
        }
        Err(e) => fail(side, "context", e.to_string()),
    }
}

/// The Dockerfile as compared: the oracle's normalized instruction list, with
/// the side's own id replaced by `<id>` (ids are compared on their own).
pub fn dockerfile_instructions(side: &Side) -> Vec<String> {
    let text = side.dockerfile.as_deref().unwrap_or_default();
    crate::normalize_dockerfile(text)
        .into_iter()
        .map(|l| match &side.id {
            Some(id) if !id.is_empty() => l.replace(id.as_str(), "<id>"),
            _ => l,
        })
        .collect()
}

/// One line of a Dockerfile diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine {
    Same(String),
    /// Only flytekit's.
    Theirs(String),
    /// Only imagespec's.
    Ours(String),
}

/// A line diff (longest common subsequence) of flytekit's and imagespec's instructions.
pub fn diff_lines(theirs: &[String], ours: &[String]) -> Vec<DiffLine> {
    let (n, m) = (theirs.len(), ours.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if theirs[i] == ours[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && theirs[i] == ours[j] {
            out.push(DiffLine::Same(theirs[i].clone()));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(DiffLine::Ours(ours[j].clone()));
            j += 1;
        } else {
            out.push(DiffLine::Theirs(theirs[i].clone()));
            i += 1;
        }
    }
    out
}

/// The allow-list's id for imagespec's layer order (see
/// [`flytekit_instructions_in_imagespec_order`]).
pub const SOURCE_COPIED_LAST: &str = "source-copied-last";

/// flytekit's normalized instructions, with the one move imagespec makes on
/// purpose (docs/flytekit-compat.md, "Cheap rebuilds"): when no `commands`
/// step follows the source and `copy` entries' `COPY --chown=flytekit`
/// lines (the next instruction is `WORKDIR /root`), those lines go just
/// before the final `ENV _F_IMG_ID`. A diff cannot tell a moved block from a
/// changed one, so the move is applied rather than matched; it is applied
/// only while the allow-list has its entry (`source-copied-last`), so that
/// removing the entry makes the test report the move again. Where the
/// `copy` entries and the source write to different folders, imagespec also
/// puts the source's COPY after the entries'; so when `ours` has the same
/// COPY lines in another order at that place, their order is taken (what
/// the image then holds is compared by the e2e parity test).
pub fn flytekit_instructions_in_imagespec_order(theirs: &[String], ours: &[String]) -> Vec<String> {
    static LISTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let listed = *LISTED.get_or_init(|| {
        load_differences(&differences_path())
            .iter()
            .any(|d| d.id == SOURCE_COPIED_LAST)
    });
    let mut out = theirs.to_vec();
    if !listed {
        return out;
    }
    let is_copy = |l: &String| l.starts_with("COPY --chown=flytekit ");
    let Some(start) = out.iter().position(is_copy) else {
        return out;
    };
    let end = start + out[start..].iter().take_while(|l| is_copy(l)).count();
    let id = out.iter().rposition(|l| l.starts_with("ENV _F_IMG_ID="));
    match (out.get(end).map(String::as_str), id) {
        (Some("WORKDIR /root"), Some(id)) if id > end => {
            let mut block: Vec<String> = out.drain(start..end).collect();
            let at = id - block.len();
            if let Some(theirs_at) = ours.iter().rposition(|l| l.starts_with("ENV _F_IMG_ID=")) {
                if theirs_at >= block.len() {
                    let mut mine = ours[theirs_at - block.len()..theirs_at].to_vec();
                    let mut sorted = block.clone();
                    sorted.sort();
                    mine.sort();
                    if mine == sorted {
                        block = ours[theirs_at - block.len()..theirs_at].to_vec();
                    }
                }
            }
            out.splice(at..at, block);
            out
        }
        _ => out,
    }
}

/// The runs of a diff that differ: each run's lines only imagespec has and
/// lines only flytekit has, in order.
pub fn hunks(diff: &[DiffLine]) -> Vec<(Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    let mut current: Option<(Vec<String>, Vec<String>)> = None;
    for line in diff {
        match line {
            DiffLine::Same(_) => out.extend(current.take()),
            DiffLine::Ours(l) => current.get_or_insert_default().0.push(l.clone()),
            DiffLine::Theirs(l) => current.get_or_insert_default().1.push(l.clone()),
        }
    }
    out.extend(current);
    out
}

/// The lines a `dockerfile` entry must explain for one hunk: every
/// instruction only imagespec has, or `(missing) <line>` for each of
/// flytekit's lines where imagespec has none in their place.
pub fn hunk_subjects(ours: &[String], theirs: &[String]) -> Vec<String> {
    match ours.is_empty() {
        true => theirs.iter().map(|l| format!("(missing) {l}")).collect(),
        false => ours.to_vec(),
    }
}

/// The lines a `dockerfile` entry must explain: [`hunk_subjects`] of every hunk.
pub fn dockerfile_subjects(diff: &[DiffLine]) -> Vec<String> {
    hunks(diff)
        .iter()
        .flat_map(|(ours, theirs)| hunk_subjects(ours, theirs))
        .collect()
}

/// The kinds of difference the allow-list can explain.
pub const KINDS: [&str; 5] = [
    "imagespec-refuses",
    "flytekit-refuses",
    "dockerfile",
    "context-files",
    "tag",
];

/// One difference between the two sides of a case.
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// One of [`KINDS`].
    pub kind: &'static str,
    /// The strings an allow-list entry's `match` must match, each of them:
    /// imagespec's error, flytekit's error, imagespec's differing Dockerfile
    /// lines, or the case's description.
    pub subjects: Vec<String>,
    /// The readable diff.
    pub detail: String,
}

/// How a case came out.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Both succeeded with the same id, tag, name and context.
    Equal,
    /// Both failed.
    BothError { flytekit: String, imagespec: String },
    /// Anything else.
    Differ(Vec<Mismatch>),
}

fn or_dash(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

/// Compares flytekit's and imagespec's results for a case described by `description`.
pub fn compare(fk: &Side, ours: &Side, description: &str) -> Outcome {
    match (&fk.error, &ours.error) {
        (Some(a), Some(b)) => {
            return Outcome::BothError {
                flytekit: format!("{a} [{}]", or_dash(&fk.stage)),
                imagespec: format!("{b} [{}]", or_dash(&ours.stage)),
            }
        }
        (None, Some(e)) => {
            return Outcome::Differ(vec![Mismatch {
                kind: "imagespec-refuses",
                subjects: vec![e.clone()],
                detail: format!(
                    "    flytekit gives `{}`; imagespec fails at {}: {}",
                    fk.name(),
                    or_dash(&ours.stage),
                    e.replace('\n', "\n      ")
                ),
            }])
        }
        (Some(e), None) => {
            return Outcome::Differ(vec![Mismatch {
                kind: "flytekit-refuses",
                subjects: vec![e.clone()],
                detail: format!(
                    "    flytekit fails at {}: {}; imagespec gives `{}`",
                    or_dash(&fk.stage),
                    e.replace('\n', "\n      "),
                    ours.name()
                ),
            }])
        }
        (None, None) => {}
    }
    let mut mismatches = Vec::new();
    let fields: Vec<String> = [
        ("id", &fk.id, &ours.id),
        ("tag", &fk.tag, &ours.tag),
        ("image_name", &fk.image_name, &ours.image_name),
    ]
    .into_iter()
    .filter(|(_, a, b)| a != b)
    .map(|(k, a, b)| {
        format!(
            "    {k}: flytekit `{}`, imagespec `{}`",
            or_dash(a),
            or_dash(b)
        )
    })
    .collect();
    if !fields.is_empty() {
        mismatches.push(Mismatch {
            kind: "tag",
            subjects: vec![description.to_string()],
            detail: fields.join("\n"),
        });
    }

    let mut files = Vec::new();
    for (who, side) in [("flytekit", fk), ("imagespec", ours)] {
        if !side.files.contains_key("Dockerfile") || side.dockerfile.is_none() {
            files.push(format!("    {who} wrote no Dockerfile"));
        }
    }
    let names: BTreeSet<&String> = fk.files.keys().chain(ours.files.keys()).collect();
    for name in names {
        if name == "Dockerfile" {
            continue;
        }
        match (fk.files.get(name), ours.files.get(name)) {
            (Some(_), None) => files.push(format!("    only flytekit's: {name}")),
            (None, Some(_)) => files.push(format!("    only imagespec's: {name}")),
            (Some(a), Some(b)) if a != b => {
                files.push(format!("    differs: {name}"));
                if name == "requirements_uv.txt" {
                    files.push(format!(
                        "      flytekit:  {:?}\n      imagespec: {:?}",
                        or_dash(&fk.requirements),
                        or_dash(&ours.requirements)
                    ));
                }
            }
            _ => {}
        }
    }
    if !files.is_empty() {
        mismatches.push(Mismatch {
            kind: "context-files",
            subjects: vec![description.to_string()],
            detail: files.join("\n"),
        });
    }

    let diff = diff_lines(
        &flytekit_instructions_in_imagespec_order(
            &dockerfile_instructions(fk),
            &dockerfile_instructions(ours),
        ),
        &dockerfile_instructions(ours),
    );
    if diff.iter().any(|l| !matches!(l, DiffLine::Same(_))) {
        let text: Vec<String> = diff
            .iter()
            .filter(|l| !matches!(l, DiffLine::Same(_)))
            .map(|l| match l {
                DiffLine::Theirs(s) => format!("    - flytekit:  {s}"),
                DiffLine::Ours(s) => format!("    + imagespec: {s}"),
                DiffLine::Same(_) => unreachable!(),
            })
            .collect();
        mismatches.push(Mismatch {
            kind: "dockerfile",
            subjects: dockerfile_subjects(&diff),
            detail: text.join("\n"),
        });
    }
    if mismatches.is_empty() {
        Outcome::Equal
    } else {
        Outcome::Differ(mismatches)
    }
}

/// One `[[difference]]` of the allow-list.
#[derive(Debug, Clone)]
pub struct Difference {
    pub id: String,
    pub kind: String,
    pub matcher: Regex,
    pub reason: String,
    pub doc: String,
}

/// GitHub's anchor for a Markdown heading.
pub fn heading_anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of docs/flytekit-compat.md's headings.
pub fn compat_doc_anchors() -> BTreeSet<String> {
    let path = workspace_root().join("docs/flytekit-compat.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| heading_anchor(l.trim_start_matches('#')))
        .collect()
}

/// Reads and checks the allow-list: every entry has all fields, a known
/// kind, a valid regex, a unique id, and a `doc` anchor that exists in
/// docs/flytekit-compat.md.
pub fn load_differences(path: &Path) -> Vec<Difference> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let table: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("{}: invalid TOML: {e}", path.display()));
    let anchors = compat_doc_anchors();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    if let Some(key) = table.keys().find(|k| *k != "difference") {
        panic!("{}: unknown top-level key `{key}`", path.display());
    }
    let entries = match table.get("difference") {
        None => return out,
        Some(v) => v
            .as_array()
            .unwrap_or_else(|| panic!("{}: `difference` must be [[difference]]", path.display())),
    };
    for (i, entry) in entries.iter().enumerate() {
        let get = |k: &str| -> String {
            entry
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_else(|| {
                    panic!(
                        "{}: difference #{} needs a string `{k}`",
                        path.display(),
                        i + 1
                    )
                })
                .to_string()
        };
        if let Some(t) = entry.as_table() {
            for k in t.keys() {
                assert!(
                    ["id", "kind", "match", "reason", "doc"].contains(&k.as_str()),
                    "{}: difference #{}: unknown key `{k}`",
                    path.display(),
                    i + 1
                );
            }
        }
        let d = Difference {
            id: get("id"),
            kind: get("kind"),
            matcher: Regex::new(&get("match")).unwrap_or_else(|e| {
                panic!("{}: difference #{}: bad match: {e}", path.display(), i + 1)
            }),
            reason: get("reason"),
            doc: get("doc"),
        };
        assert!(
            KINDS.contains(&d.kind.as_str()),
            "{}: difference `{}`: kind `{}` is not one of {KINDS:?}",
            path.display(),
            d.id,
            d.kind
        );
        assert!(
            seen.insert(d.id.clone()),
            "{}: duplicate id `{}`",
            path.display(),
            d.id
        );
        let anchor = d.doc.trim_start_matches('#');
        assert!(
            anchors.contains(anchor),
            "{}: difference `{}`: no heading `#{anchor}` in docs/flytekit-compat.md",
            path.display(),
            d.id
        );
        out.push(d);
    }
    out
}

/// The allow-list entries that explain `m` (one per subject), or the subjects
/// none explains.
pub fn explain<'a>(
    m: &Mismatch,
    allowed: &'a [Difference],
) -> Result<Vec<&'a Difference>, Vec<String>> {
    let mut used = Vec::new();
    let mut unexplained = Vec::new();
    for subject in &m.subjects {
        match allowed
            .iter()
            .find(|d| d.kind == m.kind && d.matcher.is_match(subject))
        {
            Some(d) => used.push(d),
            None => unexplained.push(subject.clone()),
        }
    }
    if unexplained.is_empty() {
        Ok(used)
    } else {
        Err(unexplained)
    }
}

/// Copies a folder, symlinks as symlinks, leaving out top-level entries named in `skip`.
pub fn copy_tree(from: &Path, to: &Path, skip: &[&str]) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if skip.iter().any(|s| name == std::ffi::OsStr::new(s)) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let ty = entry.file_type().unwrap();
        if ty.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
        } else if ty.is_dir() {
            copy_tree(&src, &dst, &[]);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}
