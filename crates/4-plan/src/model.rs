//! The typed build plan: stages, steps, mounts and the files of the
//! context, and the [`PlanBuilder`] that installers fill in.

use std::path::PathBuf;

use serde::Serialize;

use imagespec_core::knobs::PythonDefaults;
use imagespec_core::redact::SecretText;
use imagespec_core::spec::SpecRef;
use imagespec_identity::identity::Identity;
use imagespec_identity::job::BuildJob;
use imagespec_inputs::Inputs;

/// Everything needed to write a build context.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuildPlan {
    /// A `# syntax=` directive, off unless `builder_config` asks for one.
    pub syntax: Option<String>,
    /// The stages, the last one being the image.
    pub stages: Vec<Stage>,
    /// The files of the context besides the Dockerfile.
    pub files: Vec<ContextFile>,
    /// Warnings the plan produced (as flytekit's `warnings.warn`).
    pub warnings: Vec<String>,
    /// The secrets the build hands to its `RUN --mount=type=secret` steps.
    pub secrets: Vec<BuildSecret>,
}

/// A secret of the build: the id its mounts name, and where its content is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuildSecret {
    /// The `id=` of its mounts (and of the builder's `--secret`).
    pub id: String,
    /// Its content.
    pub source: SecretSource,
}

/// Where a secret's content is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretSource {
    /// A file on the build machine (a `pip_secret_mounts` source).
    File(PathBuf),
    /// A value imagespec took out of the spec: an index URL with credentials.
    Text(SecretText),
}

/// One `FROM` and its steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stage {
    /// The image it starts from.
    pub from: String,
    /// `AS alias`.
    pub alias: Option<String>,
    /// Its instructions.
    pub steps: Vec<Step>,
}

/// One Dockerfile instruction.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    /// `# text`
    Comment { text: String },
    /// `WORKDIR path`
    Workdir { path: String },
    /// `USER name`
    User { name: String },
    /// `RUN [--mount=...] script`
    Run {
        mounts: Vec<Mount>,
        script: Vec<Word>,
    },
    /// `ENV k=v ...`
    Env { vars: Vec<EnvVar> },
    /// `ENTRYPOINT [...]`
    Entrypoint { args: Vec<String> },
    /// `SHELL [...]`
    Shell { args: Vec<String> },
    /// `COPY [--chown=user] src dst`
    Copy {
        chown: Option<String>,
        src: String,
        dst: String,
    },
}

/// One `name=value` of an `ENV`. The value keeps `$VAR` expansion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

/// A piece of a shell script.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "text", rename_all = "snake_case")]
pub enum Word {
    /// Shell text written as is (flytekit's template text, a user's command).
    Shell(String),
    /// One argument: written as is when that is safe, else single-quoted.
    Arg(String),
}

/// A `RUN --mount`, with flytekit's option order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Mount {
    /// `type=cache,sharing=locked,mode=0777,target=T,id=I`
    Cache { target: String, id: String },
    /// `from=STAGE,source=S,target=T`
    From {
        from: String,
        source: String,
        target: String,
    },
    /// `type=bind,target=T,src=S`
    Bind { target: String, src: String },
    /// `type=secret,id=I,target=T`
    Secret { id: String, target: String },
}

/// A file of the build context.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContextFile {
    /// Its path in the context, `/`-separated.
    pub path: String,
    /// Where its bytes come from.
    pub content: FileContent,
}

/// The bytes of a context file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileContent {
    /// Generated text.
    Text(String),
    /// A copy of a file on disk.
    Copy(PathBuf),
    /// An empty folder (`src/` when every source file is ignored).
    Folder,
}

/// Where Python lives in the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PythonRuntime {
    /// The interpreter.
    pub exec: String,
    /// Prepended to `PATH`.
    pub bin_dir: String,
}

/// Where in flytekit's layout an installer's steps go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    /// After the apt step: making the CA certificates available.
    Certificates,
    /// The Python interpreter.
    Python,
    /// The Python packages.
    Packages,
}

/// What installers add to a plan.
#[derive(Debug)]
pub struct PlanBuilder<'a> {
    job: &'a BuildJob,
    defaults: &'a PythonDefaults,
    pub python: Option<PythonRuntime>,
    pub stages: Vec<Stage>,
    pub certificates: Vec<Step>,
    pub python_steps: Vec<Step>,
    pub package_steps: Vec<Step>,
    pub runtime_env: Vec<EnvVar>,
    pub command_mounts: Vec<Mount>,
    pub files: Vec<ContextFile>,
    pub warnings: Vec<String>,
    /// Index URLs holding credentials, each with the id of the secret that
    /// carries it, in the spec's order.
    pub url_secrets: Vec<(String, String)>,
}

impl<'a> PlanBuilder<'a> {
    pub fn new(job: &'a BuildJob, defaults: &'a PythonDefaults) -> Self {
        PlanBuilder {
            job,
            defaults,
            python: None,
            stages: Vec::new(),
            certificates: Vec::new(),
            python_steps: Vec::new(),
            package_steps: Vec::new(),
            runtime_env: Vec::new(),
            command_mounts: Vec::new(),
            files: Vec::new(),
            warnings: Vec::new(),
            url_secrets: index_url_secrets(job.spec.view()),
        }
    }
    /// The spec being planned.
    pub fn spec(&self) -> SpecRef<'a> {
        self.job.spec.view()
    }
    /// What its files hold.
    pub fn inputs(&self) -> &'a Inputs {
        &self.job.inputs
    }
    /// Its identity.
    pub fn identity(&self) -> &'a Identity {
        &self.job.identity
    }
    /// The values flytekit takes from its Python process.
    pub fn defaults(&self) -> &'a PythonDefaults {
        self.defaults
    }
    /// Adds a helper stage (`FROM image AS alias`) before the image's own.
    pub fn add_stage(&mut self, alias: impl Into<String>, image: impl Into<String>) {
        self.stages.push(Stage {
            from: image.into(),
            alias: Some(alias.into()),
            steps: Vec::new(),
        });
    }
    /// Adds steps to a slot of the layout.
    pub fn add_steps(&mut self, slot: Slot, steps: impl IntoIterator<Item = Step>) {
        let target = match slot {
            Slot::Certificates => &mut self.certificates,
            Slot::Python => &mut self.python_steps,
            Slot::Packages => &mut self.package_steps,
        };
        target.extend(steps);
    }
    /// Says where Python lives (the Python installer does).
    pub fn set_python(&mut self, runtime: PythonRuntime) {
        self.python = Some(runtime);
    }
    /// Where Python lives, once the Python installer said it.
    pub fn python(&self) -> Option<&PythonRuntime> {
        self.python.as_ref()
    }
    /// Adds variables to the image's environment, after `PATH` (flytekit's
    /// "Configure user space" block).
    pub fn add_runtime_env(&mut self, vars: impl IntoIterator<Item = EnvVar>) {
        self.runtime_env.extend(vars);
    }
    /// Adds mounts to the step that runs the spec's `commands`.
    pub fn add_command_mounts(&mut self, mounts: impl IntoIterator<Item = Mount>) {
        self.command_mounts.extend(mounts);
    }
    /// Adds a file to the context.
    pub fn add_file(&mut self, path: impl Into<String>, content: FileContent) {
        self.files.push(ContextFile {
            path: path.into(),
            content,
        });
    }
    /// An index URL (`pip_index`, an entry of `pip_extra_index_url`) as one
    /// argument of a RUN script. A URL with credentials is not written: the
    /// script reads it from a secret at build time, so that the credentials
    /// reach neither the Dockerfile nor the image's history. The steps that
    /// use it must carry [`PlanBuilder::secret_mounts`].
    pub fn index_url(&self, url: &str) -> Word {
        match self.url_secrets.iter().find(|(u, _)| u == url) {
            Some((_, id)) => Word::Shell(format!("\"$(cat {})\"", secret_target(id))),
            None => Word::Arg(url.to_string()),
        }
    }
    /// The secret mounts of a step that installs packages: each
    /// `pip_secret_mounts` entry (flytekit's `secret_N`), then the index
    /// URLs with credentials.
    pub fn secret_mounts(&self) -> Vec<Mount> {
        let mut mounts = spec_secret_mounts(self.spec());
        mounts.extend(self.url_secrets.iter().map(|(_, id)| Mount::Secret {
            id: id.clone(),
            target: secret_target(id),
        }));
        mounts
    }
    /// Records a warning (also logged).
    pub fn warn(&mut self, message: impl Into<String>) {
        let message = message.into();
        tracing::warn!("{message}");
        self.warnings.push(message);
    }

    /// Records a warning that a lint reports too (so a program that lints,
    /// as the command line does, says it once): kept in `warnings`, logged
    /// at debug level only.
    pub fn note(&mut self, message: impl Into<String>) {
        let message = message.into();
        tracing::debug!("{message}");
        self.warnings.push(message);
    }
}

// ---- helpers for installers ------------------------------------------------

/// A bind mount of a context file at the same relative path.
pub fn bind_mount(file: &str) -> Mount {
    Mount::Bind {
        target: file.into(),
        src: file.into(),
    }
}

/// `--mount=type=secret,id=secret_N,target=DST` for each `pip_secret_mounts`
/// entry (the ids the builder's `--secret` options use). imagespec puts them
/// on every step that may need one: apt, the Python install, the packages
/// and the spec's `commands`.
pub fn spec_secret_mounts(spec: SpecRef<'_>) -> Vec<Mount> {
    spec.pip_secret_mounts()
        .iter()
        .enumerate()
        .map(|(i, m)| Mount::Secret {
            id: secret_id(i),
            target: m.dst.clone(),
        })
        .collect()
}

/// The id of the secret carrying the `n`-th index URL with credentials.
fn index_secret_id(n: usize) -> String {
    format!("imagespec_index_{n}")
}

/// Where a RUN step sees a secret of imagespec's own.
fn secret_target(id: &str) -> String {
    format!("/run/secrets/{id}")
}

/// The spec's index URLs that hold credentials, each with its secret's id
/// (one per distinct URL).
fn index_url_secrets(spec: SpecRef<'_>) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    let urls = spec
        .pip_index()
        .into_iter()
        .chain(spec.pip_extra_index_url().iter().map(String::as_str));
    for url in urls {
        let has = imagespec_core::redact::url_credentials(url).is_some_and(|u| !u.is_empty());
        if has && !found.iter().any(|(u, _)| u == url) {
            found.push((url.to_string(), index_secret_id(found.len())));
        }
    }
    found
}

/// The secret id of the `index`-th `pip_secret_mounts` entry (flytekit's `secret_N`).
pub fn secret_id(index: usize) -> String {
    format!("secret_{index}")
}

/// Shorthand for shell text.
pub fn sh(text: &str) -> Word {
    Word::Shell(text.to_string())
}

/// Shorthand for an environment variable.
pub fn env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: value.into(),
    }
}
