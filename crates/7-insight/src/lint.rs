//! Lints: the traps a spec falls into. Each [`Lint`] names the field (and
//! its line), says what flytekit 1.16 (and so imagespec, which computes
//! flytekit's tag and builds flytekit's Dockerfile) does with it, and what
//! to write instead. `docs/lints.md` explains every code.
//!
//! [`lint_spec`] needs only the spec (and the ignore files its source_root
//! holds, as the trap checks always looked); [`lint`] takes a prepared
//! [`BuildJob`] and adds what needs its inputs (the requirements file's
//! lines, the source files that are copied). Both include nested bases,
//! their fields prefixed `base_image.`.
//!
//! What the loader noticed (a plain YAML scalar typed as something other
//! than was written) comes from [`ImageSpec::typed_scalars`]: the loader
//! records, the lints report, and nothing is printed twice.

use std::collections::BTreeMap;

use serde::Serialize;

use imagespec_core::redact;
use imagespec_core::spec::{CopyMode, SpecRef, TypedScalar};
use imagespec_identity::job::BuildJob;
use imagespec_inputs::Inputs;
use imagespec_pycompat::PyValue;

/// One trap a spec falls into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lint {
    /// A stable kebab-case id (see [`CODES`]).
    pub code: &'static str,
    /// The field, as a dotted path: `env.FLAG`, `base_image.source_copy_mode`, `packages[2]`.
    pub field: String,
    /// The 1-based line in the spec file, when known.
    pub line: Option<usize>,
    /// What happens, as flytekit and BuildKit do it.
    pub message: String,
    /// What to write instead.
    pub fix: String,
    /// Whether following the fix changes the tag (flytekit's and
    /// imagespec's): the image is then built again under a new name.
    pub changes_tag: bool,
}

/// The lints whose fix may leave the tag as it is.
const KEEPS_TAG: &[&str] = &["relative-source-root-ignores", "source-copy-mode-string"];

/// Every code, with a one-line summary.
pub const CODES: &[(&str, &str)] = &[
    (
        "python-version-float",
        "an unquoted python_version such as 3.10 is the float 3.1",
    ),
    (
        "python-version-type",
        "python_version is not a string (nor a number written as its value)",
    ),
    (
        "python-version-unset",
        "without python_version the tag does not say which Python the image gets",
    ),
    (
        "yaml11-bool",
        "an unquoted yes/no/on/off/true/false in env is a bool: the image gets True or False",
    ),
    (
        "yaml11-octal",
        "an unquoted number with a leading 0 in env is octal: 0755 is 493",
    ),
    (
        "yaml11-other",
        "another unquoted env scalar YAML 1.1 retypes: 1:30 is 90, 0x1A is 26, 1.50 is 1.5, ~ or nothing is None",
    ),
    (
        "source-copy-mode-string",
        "a source_copy_mode string is no CopyFileDetection member: every file is copied",
    ),
    (
        "source-copy-mode-value",
        "source_copy_mode is neither a string nor a member: every file is copied",
    ),
    (
        "loaded-modules-copies-nothing",
        "source_root without source_copy_mode copies nothing when pyflyte reads the spec",
    ),
    (
        "loaded-modules-relative-root",
        "loaded modules never match a relative source_root: nothing is copied",
    ),
    (
        "relative-source-root-ignores",
        "ignore files are not applied as meant under a relative source_root",
    ),
    (
        "env-variable-reference",
        "$VAR in an env value is expanded when the image is built, not when it runs",
    ),
    (
        "unpinned-flytekit",
        "flytekit is required without ==: builds may install different versions under one tag",
    ),
    (
        "flytekit-unset",
        "no flytekit requirement: the image gets the builder's flytekit, which the tag does not name",
    ),
    (
        "duplicate-package",
        "a package is required twice (packages, requirements file)",
    ),
    (
        "credentials-in-url",
        "a URL with user:token@ credentials in the spec or its requirements",
    ),
    (
        "credentials-in-env",
        "an env variable holds a secret, which ENV puts in the image's config",
    ),
    (
        "path-outside-project",
        "a path the spec reads is outside its project (allowed by --allow-outside-paths)",
    ),
    (
        "commands-rerun-on-source-change",
        "commands run after the source COPY: every source edit reruns them",
    ),
];

/// The lints of `spec` and its nested bases that need nothing but the spec.
/// (The requirements file is not read here: lints of its lines come with
/// [`lint`].)
pub fn lint_spec(spec: SpecRef<'_>) -> Vec<Lint> {
    let mut out = Vec::new();
    let mut prefix = String::new();
    let mut next = Some(spec);
    while let Some(s) = next {
        let mut l = Linter::new(s, &prefix);
        l.spec_lints();
        let reqs = match s.requirements().filter(|r| !r.is_empty()) {
            None => Some(Vec::new()),
            Some(_) => None,
        };
        l.package_lints(reqs.as_deref(), None);
        out.append(&mut l.out);
        next = s.base();
        prefix.push_str("base_image.");
    }
    finish(out)
}

/// Every lint of a prepared job and its nested bases, sorted by line, then
/// code, without duplicates.
pub fn lint(job: &BuildJob) -> Vec<Lint> {
    let mut out = Vec::new();
    let mut prefix = String::new();
    for j in job.chain() {
        let mut l = Linter::new(j.spec.view(), &prefix);
        l.spec_lints();
        let lines = j.inputs.requirements.as_ref().map(|r| r.lines());
        let name = j
            .inputs
            .requirements
            .as_ref()
            .and_then(|r| r.path.file_name().map(|n| n.to_string_lossy().into_owned()));
        l.package_lints(Some(lines.as_deref().unwrap_or(&[])), name.as_deref());
        l.job_lints(&j.inputs);
        out.append(&mut l.out);
        prefix.push_str("base_image.");
    }
    finish(out)
}

fn finish(mut out: Vec<Lint>) -> Vec<Lint> {
    out.sort_by(|a, b| {
        (a.line.unwrap_or(usize::MAX), a.code, &a.field, &a.message).cmp(&(
            b.line.unwrap_or(usize::MAX),
            b.code,
            &b.field,
            &b.message,
        ))
    });
    out.dedup();
    out
}

/// The lints of one spec of a chain.
struct Linter<'a> {
    spec: SpecRef<'a>,
    prefix: &'a str,
    out: Vec<Lint>,
}

impl<'a> Linter<'a> {
    fn new(spec: SpecRef<'a>, prefix: &'a str) -> Self {
        Linter {
            spec,
            prefix,
            out: Vec::new(),
        }
    }

    fn push(&mut self, code: &'static str, field: &str, message: String, fix: String) {
        let line = self.spec.item_line(field);
        self.push_at(code, field, line, message, fix);
    }

    fn push_at(
        &mut self,
        code: &'static str,
        field: &str,
        line: Option<usize>,
        message: String,
        fix: String,
    ) {
        debug_assert!(CODES.iter().any(|(c, _)| *c == code), "{code}");
        self.out.push(Lint {
            code,
            field: format!("{}{field}", self.prefix),
            line,
            message,
            fix,
            changes_tag: !KEEPS_TAG.contains(&code),
        });
    }

    fn spec_lints(&mut self) {
        self.python_version();
        self.typed_env_scalars();
        self.copy_mode();
        self.source_root();
        self.env_references();
        self.env_credentials();
        self.url_credentials();
    }

    // ---- python_version --------------------------------------------------

    fn python_version(&mut self) {
        let spec = self.spec;
        let note = spec
            .typed_scalars()
            .iter()
            .find(|n| n.field == "python_version");
        let Some(value) = spec.python_version_raw() else {
            if spec.python_exec().is_none() {
                self.push(
                    "python-version-unset",
                    "python_version",
                    format!(
                        "python_version is not set, so flytekit installs the Python of the process that runs it \
                         ({}), and that version is not part of the tag: two machines with different Pythons \
                         compute the same tag for different images, and whichever pushes first decides what \
                         everyone runs",
                        match self.handed_over() {
                            true => "the Python running flytekit here",
                            false => "imagespec: `--default-python`, else `python3` on PATH",
                        }
                    ),
                    "set it, quoted, to the Python your tasks run with: `python_version: \"3.12\"`"
                        .into(),
                );
            }
            return;
        };
        let shown = value.py_str();
        match (value, note) {
            (PyValue::Str(_), _) => {}
            (PyValue::Float(_), Some(note)) => {
                let (what, fix) = match &note.written {
                    Some(w) => (
                        format!("`python_version: {w}` is unquoted, so YAML (PyYAML's safe_load, as pyflyte reads it) makes it the float {shown}"),
                        format!("`python_version: \"{w}\"` (quoting changes the tag: flytekit hashes the float {shown} today)"),
                    ),
                    None => (
                        format!("python_version is the number {shown}, a float"),
                        "write it as a string, such as `\"3.10\"`".to_string(),
                    ),
                };
                self.push_at(
                    "python-version-float",
                    "python_version",
                    note.line.or(spec.line_of("python_version")),
                    format!(
                        "{what}: flytekit hashes {shown} and asks for Python {shown} when it installs Python \
                         (`python={shown}`), not the version written: the build fails where no Python {shown} \
                         can be installed, and installs that old Python where one can"
                    ),
                    fix,
                );
            }
            (PyValue::Float(_), None) => {}
            (PyValue::Int(_), None) => {}
            (other, note) => {
                let written = note.and_then(|n| n.written.clone());
                let what = match &written {
                    Some(w) => format!(
                        "the unquoted `{w}` is the {} {}",
                        other.type_name(),
                        other.repr()
                    ),
                    None => format!(
                        "python_version is the {} {}",
                        other.type_name(),
                        other.repr()
                    ),
                };
                self.push_at(
                    "python-version-type",
                    "python_version",
                    note.and_then(|n| n.line).or(spec.line_of("python_version")),
                    format!(
                        "{what}, which is no version: flytekit hashes it as it is and asks for \
                         `python={shown}` when it installs Python"
                    ),
                    "write the version as a string: `python_version: \"3.12\"`".into(),
                );
            }
        }
    }

    // ---- YAML 1.1 scalars in env ------------------------------------------

    fn typed_env_scalars(&mut self) {
        let notes: Vec<&TypedScalar> = self
            .spec
            .typed_scalars()
            .iter()
            .filter(|n| n.field.starts_with("env."))
            .collect();
        for n in notes {
            let key = &n.field["env.".len()..];
            let value = &n.value;
            let shown = value.py_str();
            let written = n.written.as_deref();
            let code = match (value, written) {
                (PyValue::Bool(_), _) => "yaml11-bool",
                (PyValue::Int(_), Some(w)) if is_octal(w) => "yaml11-octal",
                _ => "yaml11-other",
            };
            let read_as = match (value, written) {
                (PyValue::None, Some("")) => format!("`{key}:` with nothing after the colon is None"),
                (PyValue::None, Some(w)) => format!(
                    "YAML 1.1, as pyflyte reads it, makes the unquoted `{w}` None"
                ),
                (_, Some(w)) if code == "yaml11-octal" => format!(
                    "the unquoted `{w}` is an octal number in YAML 1.1 (as pyflyte reads it): the int {}",
                    value.repr()
                ),
                (_, Some(w)) => format!(
                    "YAML 1.1, as pyflyte reads it, makes the unquoted `{w}` the {} {}",
                    value.type_name(),
                    value.repr()
                ),
                (_, None) => format!(
                    "YAML 1.1, as pyflyte reads it, makes this unquoted scalar the {} {}",
                    value.type_name(),
                    value.repr()
                ),
            };
            let as_written = written.unwrap_or("...");
            let (message, fix) = if written == Some("") {
                (
                    format!("{read_as}, and flytekit writes `{key}={shown}` into the image"),
                    format!("for an empty value write `{key}: \"\"`"),
                )
            } else if n.is_key {
                (
                    format!("{read_as}, so the variable's name in the image is `{shown}`"),
                    format!("quote the name: `\"{as_written}\": ...`"),
                )
            } else {
                (
                    format!("{read_as}, and flytekit writes `{key}={shown}` into the image"),
                    format!("quote it if you meant the text: `{key}: \"{as_written}\"`"),
                )
            };
            self.push_at(code, &n.field, n.line, message, fix);
        }
    }

    // ---- source_copy_mode and source_root (flytekit's traps) --------------

    fn copy_mode(&mut self) {
        let Some(raw) = self.spec.source_copy_mode_raw() else {
            return;
        };
        if let PyValue::Str(s) = raw {
            let (message, fix) = match CopyMode::parse(s) {
                Some(CopyMode::All) => (
                    format!(
                        "`{s}` stays the string '{s}' when pyflyte reads YAML; flytekit copies every file for any \
                         string, so the files are the same, but the tag hashes the string, not \
                         CopyFileDetection.ALL: a Python ImageSpec(source_copy_mode=CopyFileDetection.ALL) gets \
                         another tag"
                    ),
                    match self.handed_over() {
                        true => "nothing to change for the files; to share images with a spec that uses the member, \
                                 use the same value in both"
                            .to_string(),
                        false => "nothing to change for the files; to share images with a Python-defined spec, give \
                                  it the same string (or pass --fix-flytekit-quirks, whose tags differ from flytekit's)"
                            .to_string(),
                    },
                ),
                Some(other) => (
                    format!(
                        "`{s}` stays the string '{s}' when pyflyte reads YAML, and no string equals a \
                         CopyFileDetection member, so flytekit copies EVERY file under source_root (not {}); \
                         imagespec does the same to keep flytekit's tag",
                        match other {
                            CopyMode::NoCopy => "no files",
                            _ => "the loaded modules",
                        }
                    ),
                    match self.handed_over() {
                        true => "use the CopyFileDetection member instead of the string".to_string(),
                        false => "remove source_root (or the field) to copy nothing, or pass --fix-flytekit-quirks \
                                  to read it as the mode (the tag then differs from flytekit's)"
                            .to_string(),
                    },
                ),
                None => (
                    format!("`{s}` is no copy mode; flytekit copies every file under source_root for any string"),
                    "write `source_copy_mode: all` (or remove the field)".to_string(),
                ),
            };
            self.push("source-copy-mode-string", "source_copy_mode", message, fix);
        } else if CopyMode::from_py(raw).is_none() && raw.truthy() {
            self.push(
                "source-copy-mode-value",
                "source_copy_mode",
                format!(
                    "`{}` is no copy mode; flytekit copies every file under source_root for it",
                    raw.repr()
                ),
                "write `source_copy_mode: all`".into(),
            );
        }
    }

    fn source_root(&mut self) {
        let spec = self.spec;
        let Some(root) = spec.source_root() else {
            return;
        };
        let fix_quirks = spec.load_options().fix_flytekit_quirks;
        let relative = !root.starts_with('/');
        // (Whether flytekit's ignore handling under a relative root lets
        // files through is told exactly by the job's lints, which have the
        // listing: [`Linter::ignored_under_relative_root`].)
        if spec.source_copy_mode() != Some(CopyMode::LoadedModules) {
            return;
        }
        match &spec.load_options().loaded_modules {
            None => self.push(
                "loaded-modules-copies-nothing",
                "source_root",
                format!(
                    "source_root `{root}` without source_copy_mode means loaded_modules: flytekit copies the \
                     modules the process has imported from under it, and pyflyte reads the spec before it \
                     imports your workflow, so NOTHING is copied (src/ stays empty)"
                ),
                "write `source_copy_mode: all` to copy the folder".into(),
            ),
            Some(_) if relative && !fix_quirks => self.push(
                "loaded-modules-relative-root",
                "source_root",
                format!(
                    "with a relative source_root (`{root}`), flytekit's loaded_modules matches no module \
                     (os.path.commonpath cannot compare an absolute module path with a relative folder), so \
                     nothing is copied"
                ),
                "give source_root as an absolute path".into(),
            ),
            Some(_) => {}
        }
    }

    // ---- env -------------------------------------------------------------

    fn env_references(&mut self) {
        let env = self.spec.spec.env();
        let values: BTreeMap<String, String> =
            env.iter().map(|(k, v)| (k.py_str(), v.py_str())).collect();
        for (k, v) in env {
            let PyValue::Str(text) = v else { continue };
            let refs = variable_refs(text);
            if refs.is_empty() {
                continue;
            }
            let key = k.py_str();
            let field = format!("env.{key}");
            let shown: Vec<String> = refs.iter().map(|r| format!("`${r}`")).collect();
            let shown = shown.join(", ");
            let one_instruction = "the spec's env is written into one ENV instruction together with flytekit's \
                                   own variables (PATH, PYTHONPATH, ...), and BuildKit expands every `$` of an \
                                   instruction with the values from before it, when the image is built";
            let (message, fix) = if key == "PATH" && refs.iter().any(|r| r == "PATH") {
                (
                    format!(
                        "{one_instruction}: `$PATH` is the base image's PATH, not the one with the image's \
                         Python that the same instruction sets first, and this PATH replaces that one, so the \
                         image's Python (and pyflyte) is no longer on PATH"
                    ),
                    "drop PATH from env and put the tools in a folder that is on PATH already: \
                     `commands: [\"ln -s /opt/tools/bin/* /usr/local/bin/\"]`; or write PATH out in full, the \
                     image's Python folder first (the first ENV PATH of `imagespec context`'s Dockerfile shows \
                     it)"
                        .to_string(),
                )
            } else if key == "PYTHONPATH" && refs.iter().any(|r| r == "PYTHONPATH") {
                (
                    format!(
                        "{one_instruction}: `$PYTHONPATH` is the base image's (usually empty), and this value \
                         replaces flytekit's `PYTHONPATH=/root`, so the code copied to /root is no longer \
                         importable"
                    ),
                    format!(
                        "write the folders out, /root included: `PYTHONPATH: \"{}\"`",
                        substitute(text, "PYTHONPATH", "/root")
                    ),
                )
            } else if let Some(same) = refs.iter().find(|r| **r != key && values.contains_key(*r)) {
                let value = &values[same];
                (
                    format!(
                        "{one_instruction}: `${same}` is not this spec's `{same}` but the base image's (usually \
                         empty), so the image gets `{key}` without `{same}`'s value"
                    ),
                    format!(
                        "write the value out: `{key}: \"{}\"`",
                        substitute(text, same, value)
                    ),
                )
            } else {
                (
                    format!(
                        "{shown} is expanded when the image is built, by BuildKit, to the value the base image's \
                         config gives it (empty if it sets none; HOME, for one, is set only when a container \
                         starts), not when the task runs; flytekit writes `ENV {key}={text}` and imagespec \
                         quotes it, and neither can keep a literal `$`"
                    ),
                    if refs.iter().any(|r| r == "HOME") {
                        format!(
                            "write the value out (the image's user is flytekit): `{key}: \"{}\"`",
                            substitute(text, "HOME", "/home/flytekit")
                        )
                    } else {
                        format!(
                            "write out the value the image should hold instead of {shown}, or set `{key}` where \
                             the task runs (its environment when it starts), which no build expands"
                        )
                    },
                )
            };
            self.push("env-variable-reference", &field, message, fix);
        }
    }

    fn env_credentials(&mut self) {
        for (k, v) in self.spec.spec.env() {
            let key = k.py_str();
            let value = v.py_str();
            let field = format!("env.{key}");
            let urls = redact::urls_with_credentials(&value);
            if !redact::env_value_is_secret(&key, v) && urls.is_empty() {
                continue;
            }
            let what = if urls.is_empty() {
                format!("`{key}` names a secret and has a value")
            } else {
                format!(
                    "`{key}` holds a URL with credentials (`{}`)",
                    masked(&value)
                )
            };
            self.push(
                "credentials-in-env",
                &field,
                format!(
                    "{what}: flytekit writes it into an ENV instruction, so the secret is in the image's config \
                     and history for anyone who can pull the image, and in the text flytekit hashes (a new \
                     secret means a new tag)"
                ),
                format!(
                    "remove it from env; if the build needs it, mount it as a secret file for the build steps \
                     (`pip_secret_mounts: [[\"{file}\", \"/run/secrets/{file}\"]]`, read in commands as \
                     `$(cat /run/secrets/{file})`: imagespec mounts them for commands, flytekit only for the package \
                     install); if the task needs it, request it at run time (a Flyte \
                     secret: `@task(secret_requests=[Secret(key=\"{file}\")])`)",
                    file = key.to_ascii_lowercase()
                ),
            );
        }
    }

    fn url_credentials(&mut self) {
        let spec = self.spec;
        let index = "it is written into the install step's RUN line by flytekit, so the credentials are in \
                     flytekit's Dockerfile and in the image's history for anyone who can pull it (imagespec \
                     passes them as a build secret instead), and in the text flytekit hashes: a new token means \
                     a new tag";
        let index_fix = |url: &str, field: &str| {
            format!(
                "write the URL without them (`{field}: {}`) and give them in a netrc file mounted for the \
                 install: `pip_secret_mounts: [[\".netrc\", \"/root/.netrc\"]]` (`machine <host> login <user> \
                 password <token>`; from Python: `pip_secret_mounts=[(\".netrc\", \"/root/.netrc\")]`)",
                redact::without_credentials(url)
            )
        };
        let mut found: Vec<(String, String, String)> = Vec::new();
        if let Some(url) = spec.pip_index().filter(|u| has_credentials(u)) {
            found.push((
                "pip_index".into(),
                format!("pip_index `{}` carries credentials: {index}", masked(url)),
                index_fix(url, "pip_index"),
            ));
        }
        for (i, url) in spec.pip_extra_index_url().iter().enumerate() {
            if has_credentials(url) {
                found.push((
                    format!("pip_extra_index_url[{i}]"),
                    format!("`{}` carries credentials: {index}", masked(url)),
                    index_fix(url, "pip_extra_index_url"),
                ));
            }
        }
        for (i, p) in spec.packages().iter().enumerate() {
            if !redact::urls_with_credentials(p).is_empty() {
                found.push((
                    format!("packages[{i}]"),
                    format!(
                        "`{}` carries credentials: they are in the text flytekit hashes (a new token means a \
                         new tag, and everyone who has the spec has the token) and in the requirements file \
                         written into the build context",
                        masked(p)
                    ),
                    package_fix(p),
                ));
            }
        }
        let shell = "they are written into the Dockerfile as they are (this field is shell text), so the \
                     credentials stay in the image's history for anyone who can pull it, and in the text \
                     flytekit hashes";
        let shell_fix =
            "put the index in pip_index or pip_extra_index_url (imagespec passes those \
                         credentials as a build secret), or the credentials in a file mounted with \
                         pip_secret_mounts (`[[\".netrc\", \"/root/.netrc\"]]`)";
        if let Some(args) = spec
            .pip_extra_args()
            .filter(|a| !redact::urls_with_credentials(a).is_empty())
        {
            found.push((
                "pip_extra_args".into(),
                format!("`{}` holds a URL with credentials: {shell}", masked(args)),
                shell_fix.into(),
            ));
        }
        for (i, c) in spec.commands().iter().enumerate() {
            if !redact::urls_with_credentials(c).is_empty() {
                found.push((
                    format!("commands[{i}]"),
                    format!("`{}` holds a URL with credentials: {shell}", masked(c)),
                    shell_fix.into(),
                ));
            }
        }
        for (field, message, fix) in found {
            self.push("credentials-in-url", &field, message, fix);
        }
    }

    // ---- packages and the requirements file -------------------------------

    /// Lints of the requirements: `file_lines` are the requirements file's
    /// (`None`: the spec names one that was not read, so only `packages`
    /// alone is looked at); `file` is its name.
    fn package_lints(&mut self, file_lines: Option<&[(usize, String)]>, file: Option<&str>) {
        let spec = self.spec;
        let file = file.unwrap_or("the requirements file");
        let lock = spec.requirements().is_some_and(|r| r.ends_with(".lock"));
        let mut reqs: Vec<Req> = Vec::new();
        if !lock {
            for (n, text) in file_lines.unwrap_or(&[]) {
                reqs.push(Req::new(
                    "requirements".into(),
                    spec.line_of("requirements"),
                    format!("line {n} of `{file}`"),
                    text,
                ));
            }
        }
        for (i, p) in spec.packages().iter().enumerate() {
            let field = format!("packages[{i}]");
            reqs.push(Req::new(
                field.clone(),
                spec.item_line(&field),
                format!("`{field}`"),
                p,
            ));
        }
        if !lock {
            for r in reqs.iter().filter(|r| r.field == "requirements") {
                if !redact::urls_with_credentials(&r.text).is_empty() {
                    let message = format!(
                        "`{}` on {} carries credentials: a new token changes the file and so the tag, and the \
                         file is copied into the build context as it is",
                        masked(&r.text),
                        r.place
                    );
                    self.push_at(
                        "credentials-in-url",
                        &r.field,
                        r.line,
                        message,
                        package_fix(&r.text),
                    );
                }
            }
        }
        self.duplicates(&reqs);
        if lock || file_lines.is_none() {
            return;
        }
        self.flytekit(&reqs);
    }

    fn duplicates(&mut self, reqs: &[Req]) {
        let mut seen: BTreeMap<&str, &Req> = BTreeMap::new();
        for r in reqs {
            let Some(name) = r.name.as_deref() else {
                continue;
            };
            let Some(first) = seen.get(name).copied() else {
                seen.insert(name, r);
                continue;
            };
            let outcome = match (&first.pin, &r.pin) {
                (Some(a), Some(b)) if a != b => format!(
                    "no version is both {a} and {b}, so the install fails"
                ),
                _ if first.text == r.text => "the same requirement twice: nothing changes in the image, but \
                                              an edit of one copy leaves the other behind"
                    .to_string(),
                _ => "both apply at once (the version must satisfy each, and each one's extras are installed)"
                    .to_string(),
            };
            let message = format!(
                "`{}` ({}) requires `{name}` again, after `{}` ({}); flytekit hands both to the installer, \
                 which resolves them together: {outcome}",
                r.text, r.place, first.text, first.place
            );
            let fix = format!(
                "require `{name}` once: keep the one requirement you mean (such as `{}`) and remove the other",
                if r.pin.is_some() { &r.text } else { &first.text }
            );
            self.push_at("duplicate-package", &r.field, r.line, message, fix);
        }
    }

    fn flytekit(&mut self, reqs: &[Req]) {
        let spec = self.spec;
        let fk: Vec<&Req> = reqs
            .iter()
            .filter(|r| r.name.as_deref() == Some("flytekit"))
            .collect();
        if fk.is_empty() {
            let field = if spec.packages_raw().is_none() && spec.requirements().is_some() {
                "requirements"
            } else {
                "packages"
            };
            self.push(
                "flytekit-unset",
                field,
                format!(
                    "no requirement names flytekit, so flytekit adds `flytekit==<its own version>` ({}): the \
                     image gets the flytekit of whichever machine builds it, and the tag, which hashes the spec, \
                     is the same for every version",
                    match self.handed_over() {
                        true => "the flytekit running here",
                        false => "imagespec: `--flytekit-requirement`, else the flytekit of `python3` on PATH",
                    }
                ),
                "pin it: add `flytekit==1.16.31` (the version your tasks are registered with) to packages \
                 or the requirements file"
                    .into(),
            );
            return;
        }
        if fk.iter().any(|r| r.pin.is_some() || r.direct) {
            return;
        }
        let seen_by_flytekit = reqs.iter().any(|r| r.flytekit_literal);
        for r in fk {
            let message = if seen_by_flytekit {
                format!(
                    "`{}` ({}) does not pin flytekit, and the tag hashes the requirement's text, not what it \
                     resolves to: each build may install another flytekit (the newest allowed) under the \
                     same tag",
                    r.text, r.place
                )
            } else {
                format!(
                    "flytekit does not see `{}` ({}) as flytekit (it compares the name as written, without \
                     PEP 503 normalisation), so it adds `flytekit==<its own version>` too: the image gets the \
                     flytekit of whichever machine builds it, which the tag does not name",
                    r.text, r.place
                )
            };
            self.push_at(
                "unpinned-flytekit",
                &r.field,
                r.line,
                message,
                format!(
                    "pin it: `{}` (or the version your tasks are registered with)",
                    pinned_flytekit(&r.text)
                ),
            );
        }
    }

    // ---- what needs the inputs ---------------------------------------------

    /// With a relative source_root and `all`, flytekit matches ignore files
    /// against paths that keep the root's prefix, so some files they exclude
    /// are copied all the same. Which ones: the listing flytekit makes (the
    /// job's) less the one with the ignore files applied as meant.
    fn ignored_under_relative_root(&mut self, inputs: &Inputs) {
        let spec = self.spec;
        let (Some(root), Some(source)) = (spec.source_root(), &inputs.source) else {
            return;
        };
        if root.starts_with('/')
            || spec.load_options().fix_flytekit_quirks
            || spec.source_copy_mode() != Some(CopyMode::All)
        {
            return;
        }
        let mut options = spec.options.clone();
        options.fix_flytekit_quirks = true;
        options.digest_cache = None;
        let meant = SpecRef {
            options: &options,
            ..spec
        };
        let Ok((kept, _)) = imagespec_inputs::list_source(meant, root, CopyMode::All) else {
            return;
        };
        let kept: std::collections::BTreeSet<&str> = kept.iter().map(|f| f.rel.as_str()).collect();
        let through: Vec<&str> = source
            .files
            .iter()
            .map(|f| f.rel.as_str())
            .filter(|rel| !kept.contains(rel))
            .collect();
        if through.is_empty() {
            return;
        }
        let shown: Vec<String> = through
            .iter()
            .take(5)
            .map(|f| format!("`{}`", imagespec_core::text::printable(f)))
            .collect();
        let more = match through.len() > shown.len() {
            true => format!(" and {} more", through.len() - shown.len()),
            false => String::new(),
        };
        let fix = match self.handed_over() {
            true => "give source_root as an absolute path (the files your ignore files exclude then stay out)".to_string(),
            false => "give source_root as an absolute path, or pass --fix-flytekit-quirks (the tag then differs \
                      from flytekit's)"
                .to_string(),
        };
        self.push(
            "relative-source-root-ignores",
            "source_root",
            format!(
                "with a relative source_root (`{root}`), flytekit 1.16 matches .gitignore and .dockerignore \
                 against paths that keep the `{root}/` prefix, so {} file(s) they exclude are copied all the \
                 same: {}{more}. imagespec copies what flytekit copies",
                through.len(),
                shown.join(", ")
            ),
            fix,
        );
    }

    /// Whether a program handed the spec over (the flytekit plugin, which
    /// names it with `--display-name`): its user cannot pass imagespec's
    /// command-line options, so advice names none.
    fn handed_over(&self) -> bool {
        self.spec.load_options().display_name.is_some()
    }

    /// What `--allow-outside-paths` let the spec read.
    fn outside_project(&mut self) {
        let spec = self.spec;
        if !spec.load_options().allow_outside_paths {
            return;
        }
        for (field, written) in imagespec_inputs::named_paths(spec) {
            if let Some(real) = imagespec_inputs::outside_project(spec, &written) {
                let root = imagespec_inputs::project_root(spec);
                self.push(
                    "path-outside-project",
                    &field,
                    format!(
                        "`{written}` is `{}`, outside the spec's project `{}`: it goes into the image (or the \
                         build) because --allow-outside-paths is on",
                        real.display(),
                        root.display()
                    ),
                    "keep what the image needs in the project, so that the spec builds the same anywhere".into(),
                );
            }
        }
    }

    fn job_lints(&mut self, inputs: &Inputs) {
        self.ignored_under_relative_root(inputs);
        self.outside_project();
        let spec = self.spec;
        if spec.commands().is_empty() {
            return;
        }
        let source = inputs.source.as_ref().map_or(0, |s| s.files.len());
        let copied = inputs.copy.as_ref().map_or(0, |c| c.digested.len());
        if source == 0 && copied == 0 {
            return;
        }
        let what = match (source, copied) {
            (0, _) => format!("the {copied} file(s) of `copy`"),
            (_, 0) => format!("the {source} source file(s) under source_root"),
            _ => {
                format!("the {source} source file(s) under source_root and the {copied} of `copy`")
            }
        };
        self.push(
            "commands-rerun-on-source-change",
            "commands",
            format!(
                "flytekit's Dockerfile (and imagespec's, which keeps that order when there are commands, since \
                 they may read the files) copies {what} before the RUN of commands, so every edit of one \
                 reruns all the commands, and every step after them"
            ),
            format!(
                "move the commands that do not need the files into a nested base spec, built once and cached \
                 (`base_image: {{name: {}-base, commands: [...]}}`, with this spec's base_image, if any, \
                 moved into it), or install what they install with packages or apt_packages",
                spec.name()
            ),
        );
    }
}

/// A requirement, from `packages` or a line of the requirements file.
struct Req {
    field: String,
    line: Option<usize>,
    /// Where, for messages: `packages[1]`, `line 3 of requirements.txt`.
    place: String,
    text: String,
    /// The PEP 503 name, when the line is a named requirement.
    name: Option<String>,
    /// The `==` (or `===`) pin, when it has one without a wildcard.
    pin: Option<String>,
    /// A direct reference (`name @ url`): pinned to what the URL holds.
    direct: bool,
    /// flytekit's `_is_flytekit`: the leading `[\w-]+` is `flytekit`.
    flytekit_literal: bool,
}

impl Req {
    fn new(field: String, line: Option<usize>, place: String, text: &str) -> Req {
        let text = text.trim().to_string();
        let literal: String = text
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        let mut req = Req {
            field,
            line,
            place,
            name: None,
            pin: None,
            direct: false,
            flytekit_literal: literal == "flytekit",
            text,
        };
        let t = req.text.split(" #").next().unwrap_or("").trim();
        if t.is_empty() || t.starts_with(['#', '-', '.', '/']) {
            return req;
        }
        let end = t
            .find(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c)))
            .unwrap_or(t.len());
        let rest = t[end..].trim_start();
        if end == 0 || rest.starts_with("://") || rest.starts_with('+') || rest.starts_with(':') {
            return req;
        }
        req.name = Some(normalize(&t[..end]));
        let rest = match rest.strip_prefix('[') {
            Some(r) => r.split_once(']').map_or("", |(_, after)| after),
            None => rest,
        };
        let spec = rest.split(';').next().unwrap_or("").trim();
        if spec.starts_with('@') {
            req.direct = true;
            return req;
        }
        req.pin = spec
            .split(',')
            .map(str::trim)
            .find(|s| s.starts_with("==") && !s.ends_with(".*"))
            .map(|s| s.trim_start_matches('=').trim().to_string());
        req
    }
}

/// PEP 503: lower case, runs of `-`, `_` and `.` as one `-`.
fn normalize(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if "-_.".contains(c) {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// `flytekit==1.16.31`, with the extras of `text` kept.
fn pinned_flytekit(text: &str) -> String {
    let extras = text
        .find('[')
        .and_then(|s| text[s..].find(']').map(|e| &text[s..=s + e]))
        .unwrap_or("");
    format!("flytekit{extras}==1.16.31")
}

fn package_fix(text: &str) -> String {
    format!(
        "write it without them (`{}`) and give them in a netrc file mounted for the install: \
         `pip_secret_mounts: [[\".netrc\", \"/root/.netrc\"]]` (`machine <host> login <user> password \
         <token>`; git and pip read it; from Python: `pip_secret_mounts=[(\".netrc\", \"/root/.netrc\")]`)",
        strip_credentials(text)
    )
}

/// `text` with the userinfo of every URL in it masked.
fn masked(text: &str) -> String {
    let mut out = text.to_string();
    for userinfo in redact::urls_with_credentials(text) {
        out = out.replace(&format!("{userinfo}@"), &format!("{}@", redact::MASK));
    }
    out
}

/// `text` with the userinfo of every URL in it removed.
fn strip_credentials(text: &str) -> String {
    let mut out = text.to_string();
    for userinfo in redact::urls_with_credentials(text) {
        out = out.replace(&format!("{userinfo}@"), "");
    }
    out
}

fn has_credentials(url: &str) -> bool {
    redact::url_credentials(url).is_some_and(|u| !u.is_empty())
}

/// Whether an env name names a secret (`HF_TOKEN`, `DB_PASSWORD`,
/// `OPENAI_API_KEY`); see [`redact::secret_name`].
pub fn names_secret(name: &str) -> bool {
    redact::secret_name(name)
}

/// The variables `$NAME` and `${NAME...}` of a value, in order, once each.
fn variable_refs(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '$' {
            let braced = chars.get(i + 1) == Some(&'{');
            let start = if braced { i + 2 } else { i + 1 };
            let mut end = start;
            while end < chars.len()
                && (chars[end].is_ascii_alphanumeric() || chars[end] == '_')
                && !(end == start && chars[end].is_ascii_digit())
            {
                end += 1;
            }
            if end > start {
                let name: String = chars[start..end].iter().collect();
                if !out.contains(&name) {
                    out.push(name);
                }
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// `text` with `$name` and `${name}` replaced by `value`.
fn substitute(text: &str, name: &str, value: &str) -> String {
    let braced = format!("${{{name}}}");
    let mut out = text.replace(&braced, value);
    let plain = format!("${name}");
    let mut from = 0;
    while let Some(i) = out[from..].find(&plain) {
        let at = from + i;
        let after = out[at + plain.len()..].chars().next();
        if after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            from = at + plain.len();
            continue;
        }
        out.replace_range(at..at + plain.len(), value);
        from = at + value.len();
    }
    out
}

/// YAML 1.1's octal: `0` then octal digits (`0755`, `-017`, `0_17`).
fn is_octal(written: &str) -> bool {
    let digits = written.trim_start_matches(['-', '+']);
    digits.len() > 1
        && digits.starts_with('0')
        && digits[1..].chars().all(|c| matches!(c, '0'..='7' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_are_parsed_for_name_and_pin() {
        let r = |t: &str| Req::new(String::new(), None, String::new(), t);
        let x = r("Flytekit[extra]==1.16.31 ; python_version > '3.8'");
        assert_eq!(x.name.as_deref(), Some("flytekit"));
        assert_eq!(x.pin.as_deref(), Some("1.16.31"));
        assert!(!x.flytekit_literal);
        assert!(r("flytekit[extra]").flytekit_literal);
        assert_eq!(r("flytekit>=1.16").pin, None);
        assert_eq!(r("flytekit==1.16.*").pin, None);
        assert!(r("flytekit @ https://host/f.whl").direct);
        assert_eq!(
            r("Zope.Interface_x").name.as_deref(),
            Some("zope-interface-x")
        );
        assert_eq!(r("git+https://host/x.git").name, None);
        assert_eq!(r("-r other.txt").name, None);
        assert_eq!(r("# flytekit").name, None);
        assert_eq!(r("./pkg").name, None);
        assert_eq!(
            r("flytekitplugins-pod").name.as_deref(),
            Some("flytekitplugins-pod")
        );
    }

    #[test]
    fn secret_names_are_words() {
        for yes in [
            "HF_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "DB_PASSWORD",
            "OPENAI_API_KEY",
            "token",
        ] {
            assert!(redact::secret_name(yes), "{yes}");
        }
        for no in [
            "TOKENIZERS_PARALLELISM",
            "HF_TOKEN_PATH",
            "PASSWORD_FILE",
            "KEYRING",
            "MONKEY",
        ] {
            assert!(!redact::secret_name(no), "{no}");
        }
    }

    #[test]
    fn variable_references() {
        assert_eq!(variable_refs("$HOME/x:${PATH}:$1:$"), vec!["HOME", "PATH"]);
        assert_eq!(variable_refs("${A:-b}"), vec!["A"]);
        assert_eq!(substitute("$A/x:${A}:$AB", "A", "v"), "v/x:v:$AB");
    }

    #[test]
    fn octal_is_yaml_11s() {
        assert!(is_octal("0755") && is_octal("-017") && is_octal("00"));
        assert!(!is_octal("0") && !is_octal("0x1A") && !is_octal("089") && !is_octal("10"));
    }
}
