//! The typed build plan: stages, steps, mounts and the files of the context.
//!
//! [`plan`] turns a checked spec into a [`BuildPlan`] with flytekit's
//! Dockerfile layout; the chosen installers fill in the Python and package
//! steps. Nothing here renders text: [`crate::render`] does, in one place.

use std::path::PathBuf;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::hash::Identity;
use crate::installer::{self, Role};
use crate::knobs::PythonDefaults;
use crate::source;
use crate::spec::{BaseImage, CopyMode, ImageSpec};

/// flytekit's default base image.
pub const DEFAULT_BASE_IMAGE: &str = "debian:bookworm-slim";
/// flytekit's `DEFAULT_UV_IMAGE`.
pub const DEFAULT_UV_IMAGE: &str = "ghcr.io/astral-sh/uv:0.5.1";
/// flytekit's `DEFAULT_MICROMAMBA_IMAGE`.
pub const DEFAULT_MICROMAMBA_IMAGE: &str = "mambaorg/micromamba:2.0.3-debian12-slim";
/// `builder_config` key for the uv helper image.
pub const CONFIG_UV_IMAGE: &str = "uv_image";
/// `builder_config` key for the micromamba helper image.
pub const CONFIG_MICROMAMBA_IMAGE: &str = "micromamba_image";
/// `builder_config` key for the base image used when the spec names none.
pub const CONFIG_BASE_IMAGE: &str = "base_image";
/// `builder_config` key that turns on a `# syntax=` directive (e.g. `docker/dockerfile:1.5`).
pub const CONFIG_SYNTAX: &str = "dockerfile_syntax";
/// Stage alias of the uv helper image.
pub const UV_STAGE: &str = "uv";
/// Stage alias of the micromamba helper image.
pub const MICROMAMBA_STAGE: &str = "micromamba";
/// The user the image runs as.
pub const IMAGE_USER: &str = "flytekit";
/// Where package installers put a venv (with `python_exec`, or from a lock file).
pub const VENV: &str = "/root/.venv";

/// Everything needed to write a build context.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuildPlan {
    /// The image's identity when the plan was made.
    pub identity: Identity,
    /// A `# syntax=` directive, off unless `builder_config` asks for one.
    pub syntax: Option<String>,
    /// The stages, the last one being the image.
    pub stages: Vec<Stage>,
    /// The files of the context besides the Dockerfile.
    pub files: Vec<ContextFile>,
    /// Warnings the plan produced (as flytekit's `warnings.warn`).
    pub warnings: Vec<String>,
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
    /// The interpreter (`UV_PYTHON`).
    pub exec: String,
    /// Prepended to `PATH`.
    pub bin_dir: String,
}

/// What installers add to a plan.
#[derive(Debug)]
pub struct PlanBuilder<'a> {
    spec: &'a ImageSpec,
    defaults: &'a PythonDefaults,
    python: Option<PythonRuntime>,
    python_steps: Vec<Step>,
    package_steps: Vec<Step>,
    files: Vec<ContextFile>,
    warnings: Vec<String>,
}

impl<'a> PlanBuilder<'a> {
    /// The spec being planned.
    pub fn spec(&self) -> &'a ImageSpec {
        self.spec
    }
    /// The values flytekit takes from its Python process.
    pub fn defaults(&self) -> &'a PythonDefaults {
        self.defaults
    }
    /// Adds steps to the slot of a role.
    pub fn add_steps(&mut self, role: Role, steps: impl IntoIterator<Item = Step>) {
        match role {
            Role::Python => self.python_steps.extend(steps),
            Role::Packages => self.package_steps.extend(steps),
        }
    }
    /// Says where Python lives (the Python installer does).
    pub fn set_python(&mut self, runtime: PythonRuntime) {
        self.python = Some(runtime);
    }
    /// Adds a file to the context.
    pub fn add_file(&mut self, path: impl Into<String>, content: FileContent) {
        self.files.push(ContextFile {
            path: path.into(),
            content,
        });
    }
    /// Copies a lock file the spec names (`uv.lock`, `poetry.lock`) and the
    /// `pyproject.toml` beside it into the context, and returns their bind
    /// mounts, in flytekit's order.
    pub fn add_lock_files(&mut self, lock_name: &str) -> Vec<Mount> {
        let lock = self.spec.resolve(
            crate::installer::requirements_file_named(self.spec, lock_name).unwrap_or(lock_name),
        );
        let pyproject = lock.with_file_name("pyproject.toml");
        self.add_file(lock_name, FileContent::Copy(lock));
        self.add_file("pyproject.toml", FileContent::Copy(pyproject));
        vec![bind_mount(lock_name), bind_mount("pyproject.toml")]
    }

    /// Records a warning (also logged).
    pub fn warn(&mut self, message: impl Into<String>) {
        let message = message.into();
        tracing::warn!("{message}");
        self.warnings.push(message);
    }
}

// ---- helpers for installers ------------------------------------------------

/// flytekit's uv cache mount.
pub fn uv_cache_mount() -> Mount {
    Mount::Cache {
        target: "/root/.cache/uv".into(),
        id: "uv".into(),
    }
}

/// flytekit's mount of the uv binary from the uv helper stage.
pub fn uv_binary_mount() -> Mount {
    Mount::From {
        from: UV_STAGE.into(),
        source: "/uv".into(),
        target: "/usr/bin/uv".into(),
    }
}

/// A bind mount of a context file at the same relative path.
pub fn bind_mount(file: &str) -> Mount {
    Mount::Bind {
        target: file.into(),
        src: file.into(),
    }
}

/// `--mount=type=secret,id=secret_N,target=DST` for each `pip_secret_mounts` entry.
pub fn secret_mounts(spec: &ImageSpec) -> Vec<Mount> {
    spec.pip_secret_mounts()
        .iter()
        .enumerate()
        .map(|(i, m)| Mount::Secret {
            id: secret_id(i),
            target: m.dst.clone(),
        })
        .collect()
}

/// The secret id of the `index`-th `pip_secret_mounts` entry (for `--secret id=...`).
pub fn secret_id(index: usize) -> String {
    format!("secret_{index}")
}

/// The install arguments common to every package installer, in flytekit's
/// order: `--index-url`, each `--extra-index-url`, then `pip_extra_args`.
pub fn pip_install_args(spec: &ImageSpec) -> Vec<Word> {
    let mut w = Vec::new();
    if let Some(index) = spec.pip_index().filter(|s| !s.is_empty()) {
        w.push(Word::Shell("--index-url".into()));
        w.push(Word::Arg(index.into()));
    }
    for url in spec.pip_extra_index_url() {
        w.push(Word::Shell("--extra-index-url".into()));
        w.push(Word::Arg(url.clone()));
    }
    if let Some(extra) = spec.pip_extra_args().filter(|s| !s.is_empty()) {
        // Several arguments by design, as in flytekit.
        w.push(Word::Shell(extra.into()));
    }
    w
}

/// `ENV PATH="<venv>/bin:$PATH" UV_PYTHON=<venv>/bin/python`, after a venv install.
pub fn venv_env() -> Step {
    Step::Env {
        vars: vec![
            EnvVar {
                name: "PATH".into(),
                value: format!("{VENV}/bin:$PATH"),
            },
            EnvVar {
                name: "UV_PYTHON".into(),
                value: format!("{VENV}/bin/python"),
            },
        ],
    }
}

/// Shorthand for shell text.
pub fn sh(text: &str) -> Word {
    Word::Shell(text.to_string())
}

// ---- the plan ---------------------------------------------------------------

fn helper_image(spec: &ImageSpec, key: &str, default: &str) -> String {
    spec.builder_config_str(key).unwrap_or(default).to_string()
}

fn env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: value.into(),
    }
}

/// Makes the build plan of a spec: flytekit's Dockerfile layout, with the
/// chosen installers' steps and files. Checks the spec first; reads the files
/// it names (for the tag and the file lists) but writes nothing.
pub fn plan(spec: &ImageSpec, defaults: &PythonDefaults) -> Result<BuildPlan> {
    spec.check()?;
    crate::spec::check_dockerfile_text(spec)?;
    let identity = spec.identity()?;
    let mut b = PlanBuilder {
        spec,
        defaults,
        python: None,
        python_steps: Vec::new(),
        package_steps: Vec::new(),
        files: Vec::new(),
        warnings: Vec::new(),
    };
    if installer::select(spec, Role::Packages)?.is_none() {
        return Err(Error::MissingPlugin {
            kind: crate::error::PluginKind::PackagesInstaller,
            needed_for: match spec.requirements() {
                Some(req) => format!("the requirements `{req}`"),
                None => "the spec".to_string(),
            },
        });
    }
    for inst in installer::selected(spec)? {
        tracing::debug!(installer = inst.name(), "planning");
        inst.contribute(spec, &mut b)?;
    }
    let python = match (&b.python, spec.python_exec()) {
        (_, Some(_)) => PythonRuntime {
            exec: format!("{VENV}/bin/python"),
            bin_dir: format!("{VENV}/bin"),
        },
        (Some(p), None) => p.clone(),
        (None, None) => {
            return Err(Error::MissingPlugin {
                kind: crate::error::PluginKind::PythonInstaller,
                needed_for: "a spec without `python_exec` (set it to use the base image's Python)"
                    .into(),
            })
        }
    };

    let base = match (spec.base_image(), &identity.inputs.base_image) {
        (Some(BaseImage::Spec(_)), Some(name)) => name.clone(),
        (Some(BaseImage::Name(name)), _) => name.clone(),
        _ => helper_image(spec, CONFIG_BASE_IMAGE, DEFAULT_BASE_IMAGE),
    };

    let mut steps = vec![
        Step::Workdir { path: "/".into() },
        Step::User {
            name: "root".into(),
        },
    ];
    if !spec.apt_packages().is_empty() {
        let mut script = vec![sh(
            "apt-get update && apt-get install -y --no-install-recommends",
        )];
        script.extend(spec.apt_packages().iter().map(|p| Word::Arg(p.clone())));
        steps.push(Step::Run {
            mounts: vec![Mount::Cache {
                target: "/var/cache/apt".into(),
                id: "apt".into(),
            }],
            script,
        });
    }
    steps.push(Step::Run {
        mounts: vec![Mount::From {
            from: MICROMAMBA_STAGE.into(),
            source: "/etc/ssl/certs/ca-certificates.crt".into(),
            target: "/tmp/ca-certificates.crt".into(),
        }],
        script: vec![sh(
            "[ -f /etc/ssl/certs/ca-certificates.crt ] || mkdir -p /etc/ssl/certs/ && cp /tmp/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt",
        )],
    });
    steps.push(Step::Run {
        mounts: vec![],
        script: vec![sh(
            "id -u flytekit || useradd --create-home --shell /bin/bash flytekit",
        )],
    });
    steps.push(Step::Run {
        mounts: vec![],
        script: vec![sh("chown -R flytekit /root && chown -R flytekit /home")],
    });
    steps.append(&mut b.python_steps);

    // flytekit: {"PYTHONPATH": "/root"} updated with the spec's env (a spec's
    // PYTHONPATH replaces the value in place).
    let mut user_env: Vec<EnvVar> = vec![env("PYTHONPATH", "/root")];
    for (k, v) in spec.env() {
        let (name, value) = (k.py_str(), v.py_str());
        match user_env.iter_mut().find(|e| e.name == name) {
            Some(slot) => slot.value = value,
            None => user_env.push(EnvVar { name, value }),
        }
    }
    let mut vars = vec![
        env("PATH", &format!("{}:$PATH", python.bin_dir)),
        env("UV_PYTHON", &python.exec),
        env("UV_COMPILE_BYTECODE", "1"),
        env("UV_LINK_MODE", "copy"),
        env("FLYTE_SDK_RICH_TRACEBACKS", "0"),
        env("SSL_CERT_DIR", "/etc/ssl/certs"),
    ];
    vars.extend(user_env);
    steps.push(Step::Comment {
        text: "Configure user space".into(),
    });
    steps.push(Step::Env { vars });
    steps.append(&mut b.package_steps);
    steps.push(Step::Comment {
        text: "Adds nvidia just in case it exists".into(),
    });
    steps.push(Step::Env {
        vars: vec![
            env("PATH", "$PATH:/usr/local/nvidia/bin:/usr/local/cuda/bin"),
            env(
                "LD_LIBRARY_PATH",
                "/usr/local/nvidia/lib64:$LD_LIBRARY_PATH",
            ),
        ],
    });
    if let Some(args) = spec.entrypoint() {
        steps.push(Step::Entrypoint {
            args: args.to_vec(),
        });
    }

    let mut files = Vec::new();
    if let (Some(mode), Some(_)) = (spec.source_copy_mode(), spec.source_root()) {
        if mode != CopyMode::NoCopy {
            // flytekit creates `src/` even when no file survives the ignore
            // rules, so that `COPY ./src` finds it.
            files.push(ContextFile {
                path: "src".into(),
                content: FileContent::Folder,
            });
            // The files the tag's digest covered (listed once, in identity()).
            for f in identity.source_files.iter().cloned() {
                files.push(ContextFile {
                    path: format!("src/{}", f.rel),
                    content: FileContent::Copy(f.path),
                });
            }
            steps.push(Step::Copy {
                chown: Some(IMAGE_USER.into()),
                src: "./src".into(),
                dst: "/root".into(),
            });
        }
    }
    if !spec.copy().is_empty() {
        let copied = source::copy_context(spec)?;
        for entry in spec.copy() {
            // flytekit: `Path(src).as_posix()`, to `/root/<it>/` for a folder
            // and to `/root/<its parent>/` for a file.
            let rel = source::copy_entry_rel(entry);
            let dst = if spec.resolve(entry).is_dir() {
                format!("/root/{rel}/")
            } else {
                match rel.rfind('/') {
                    Some(i) => format!("/root/{}/", &rel[..i]),
                    None => "/root/./".to_string(),
                }
            };
            steps.push(Step::Copy {
                chown: Some(IMAGE_USER.into()),
                src: rel,
                dst,
            });
        }
        for dir in copied.dirs {
            files.push(ContextFile {
                path: dir,
                content: FileContent::Folder,
            });
        }
        for f in copied.files {
            files.push(ContextFile {
                path: f.rel,
                content: FileContent::Copy(f.path),
            });
        }
    }
    if !spec.commands().is_empty() {
        steps.push(Step::Run {
            mounts: vec![uv_cache_mount(), uv_binary_mount()],
            script: vec![Word::Shell(spec.commands().join(" && "))],
        });
    }
    steps.extend([
        Step::Workdir {
            path: "/root".into(),
        },
        Step::Shell {
            args: vec!["/bin/bash".into(), "-c".into()],
        },
        Step::User {
            name: IMAGE_USER.into(),
        },
        Step::Run {
            mounts: vec![],
            script: vec![sh(
                "mkdir -p $HOME && echo \"export PATH=$PATH\" >> $HOME/.profile",
            )],
        },
        Step::Comment {
            text: "Set last, so that a change of the spec's id invalidates no other layer.".into(),
        },
        Step::Env {
            vars: vec![env("_F_IMG_ID", &identity.id)],
        },
    ]);

    files.append(&mut b.files);
    let stages = vec![
        Stage {
            from: helper_image(spec, CONFIG_UV_IMAGE, DEFAULT_UV_IMAGE),
            alias: Some(UV_STAGE.into()),
            steps: vec![],
        },
        Stage {
            from: helper_image(spec, CONFIG_MICROMAMBA_IMAGE, DEFAULT_MICROMAMBA_IMAGE),
            alias: Some(MICROMAMBA_STAGE.into()),
            steps: vec![],
        },
        Stage {
            from: base,
            alias: None,
            steps,
        },
    ];
    Ok(BuildPlan {
        identity,
        syntax: spec.builder_config_str(CONFIG_SYNTAX).map(str::to_string),
        stages,
        files,
        warnings: b.warnings,
    })
}
