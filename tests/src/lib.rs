//! Shared helpers for the workspace-level test suites in `tests/tests/`.

pub mod buildkit;
pub mod flytekit;
pub mod pyindex;
pub mod registry;

use std::path::{Path, PathBuf};

use imagespec_core::knobs::PythonDefaults;
use imagespec_engine::{Engine, EngineOptions, Plugins};

/// Keeps the installer plugins linked, so their registrations exist.
pub fn link_plugins() {
    imagespec_uv::link();
    imagespec_poetry::link();
    imagespec_micromamba::link();
}

/// The values the flytekit oracle was recorded with.
pub fn oracle_defaults() -> PythonDefaults {
    PythonDefaults {
        default_python: "3.11".into(),
        flytekit_requirement: "flytekit==1.16.31".into(),
    }
}

/// The folder holding the flytekit oracle cases (copied from flytekit 1.16.31's output).
pub fn oracle_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/oracle")
}

/// One oracle case: its folder and its recorded result.
#[derive(Debug)]
pub struct OracleCase {
    pub name: String,
    pub dir: PathBuf,
    pub result: serde_json::Value,
}

impl OracleCase {
    /// The spec file.
    pub fn spec(&self) -> PathBuf {
        self.dir.join("spec.yaml")
    }
    /// The recorded error, for a case flytekit rejects.
    pub fn error(&self) -> Option<&str> {
        self.result.get("error").and_then(|e| e.as_str())
    }
    /// A recorded string field (`id`, `tag`, `image_name`).
    pub fn field(&self, key: &str) -> Option<&str> {
        self.result.get(key).and_then(|e| e.as_str())
    }
}

/// The folder holding more cases recorded from flytekit 1.16.31 the same way.
pub fn hash_cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hash-cases")
}

/// The oracle cases and the extra recorded cases.
pub fn all_cases() -> Vec<OracleCase> {
    let mut cases = oracle_cases();
    cases.extend(cases_in(&hash_cases_dir()));
    cases
}

/// Every case folder under `oracle_dir()`, sorted by name. A new case needs no new code.
pub fn oracle_cases() -> Vec<OracleCase> {
    let cases = cases_in(&oracle_dir());
    assert!(
        cases.len() >= 25,
        "expected the oracle cases in {}",
        oracle_dir().display()
    );
    cases
}

/// Every case folder under `dir`, sorted by name.
pub fn cases_in(dir: &Path) -> Vec<OracleCase> {
    let mut cases: Vec<OracleCase> = std::fs::read_dir(dir)
        .expect("oracle fixtures exist")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("spec.yaml").is_file())
        .map(|dir| {
            let text =
                std::fs::read_to_string(dir.join("expected/result.json")).expect("result.json");
            OracleCase {
                name: dir.file_name().unwrap().to_string_lossy().into_owned(),
                result: serde_json::from_str(&text).expect("valid result.json"),
                dir,
            }
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

/// The oracle's Dockerfile comparison (`fixtures/oracle/dockerfile_normalize.py`):
/// the instruction list after joining continuations, folding white space,
/// dropping comments and blank lines, upper-casing keywords and `AS`, dropping
/// RUNs with nothing but mounts, and removing `"` and `\` from ENV.
pub fn normalize_dockerfile(text: &str) -> Vec<String> {
    let joined = text.replace("\\\n", " ");
    let mut out = Vec::new();
    for line in joined.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (kw, rest) = line.split_once(' ').unwrap_or((&line, ""));
        let kw = kw.to_uppercase();
        let mut rest = rest.to_string();
        if kw == "FROM" {
            let words: Vec<String> = rest
                .split(' ')
                .map(|w| {
                    if w.eq_ignore_ascii_case("as") {
                        "AS".to_string()
                    } else {
                        w.to_string()
                    }
                })
                .collect();
            rest = words.join(" ");
        }
        if kw == "RUN" {
            let cmd: Vec<&str> = rest
                .split(' ')
                .filter(|w| !w.starts_with("--mount="))
                .collect();
            if cmd.join(" ").trim().is_empty() {
                continue;
            }
        }
        if kw == "ENV" {
            rest = rest.replace(['\\', '"'], "");
        }
        out.push(format!("{kw} {rest}").trim().to_string());
    }
    out
}

/// The pipeline's first stages for a spec, as the CLI runs them, for tests
/// that ask about a spec's name or context.
pub trait SpecExt {
    /// `imagespec_core::builder::prepare`: checks, inputs, identity.
    fn job(&self) -> imagespec_core::Result<imagespec_identity::BuildJob>;
    /// The prepared job's identity.
    fn identity(&self) -> imagespec_core::Result<imagespec_identity::Identity> {
        self.job().map(|j| j.identity)
    }
}

impl SpecExt for imagespec_core::ImageSpec {
    /// A spec made in code: relative paths from the current folder.
    fn job(&self) -> imagespec_core::Result<imagespec_identity::BuildJob> {
        let here = std::env::current_dir().expect("a current folder");
        imagespec_core::Loaded::new(self.clone(), here, Default::default()).job()
    }
}

impl SpecExt for imagespec_core::Loaded {
    fn job(&self) -> imagespec_core::Result<imagespec_identity::BuildJob> {
        engine(&oracle_defaults()).prepare(self.view())
    }
}

/// The plugins linked into the tests (see [`link_plugins`]), collected once.
pub fn plugins() -> &'static Plugins<'static> {
    static PLUGINS: std::sync::OnceLock<Plugins<'static>> = std::sync::OnceLock::new();
    PLUGINS.get_or_init(|| {
        link_plugins();
        Plugins::registered().expect("the registered plugins")
    })
}

/// An engine with the registered plugins and these defaults, as the CLI
/// makes one.
pub fn engine(defaults: &PythonDefaults) -> Engine<'static> {
    Engine::new(
        plugins(),
        EngineOptions {
            defaults: defaults.clone().into(),
            ..EngineOptions::default()
        },
        1,
    )
}

/// What `imagespec context` does: prepare, the Docker context's checks,
/// then the context, written atomically into `output`.
pub fn write_context(
    spec: &imagespec_core::Loaded,
    defaults: &PythonDefaults,
    output: &Path,
) -> imagespec_core::Result<imagespec_context::WrittenContext> {
    let engine = engine(defaults);
    let job = engine.prepare(spec.view())?;
    engine.write_context(&job, output, Default::default())
}

#[cfg(test)]
mod tests {
    use super::normalize_dockerfile;

    #[test]
    fn normalizer_follows_the_oracle_rules() {
        let a = "#syntax=x\nfrom a as b\nRUN --mount=type=cache,x=1 \\\n   \nENV A=\"x y\" B=c\\ d\nRUN  echo   hi\n";
        assert_eq!(
            normalize_dockerfile(a),
            vec!["FROM a AS b", "ENV A=x y B=c d", "RUN echo hi"]
        );
    }
}
