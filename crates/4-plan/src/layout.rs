//! flytekit's Dockerfile layout (`DOCKER_FILE_TEMPLATE` of its default
//! builder), as a [`BuildPlan`] whose slots the chosen installers fill:
//!
//! ```text
//! helper stages          ← installers (FROM <image> AS <alias>)
//! FROM <base>
//! WORKDIR / ; USER root ; apt packages
//! certificates           ← installers
//! the flytekit user, owning /root and /home (chown of what it does not own yet)
//! Python                 ← the Python installer (it also says where Python lives)
//! ENV PATH=<python>:$PATH, runtime variables ← installers, flytekit's, the spec's env
//! packages               ← the packages installer
//! ENV for nvidia ; ENTRYPOINT
//! with commands:    COPY ./src /root ; COPY each `copy` entry ; RUN <commands> (mounts ← installers)
//! WORKDIR /root ; SHELL bash ; USER flytekit ; ~/.profile
//! without commands: COPY ./src /root ; COPY each `copy` entry (last, so a
//!                   source-only change reruns only them)
//! ENV _F_IMG_ID
//! ```
//!
//! A pure function of the job: nothing here reads a file.

use crate::installer::{self, Installers, Role};
use crate::model::{
    env, sh, BuildPlan, BuildSecret, ContextFile, EnvVar, FileContent, Mount, PlanBuilder,
    SecretSource, Stage, Step, Word,
};
use imagespec_core::error::{Error, PluginKind, Result};
use imagespec_core::knobs::PythonDefaults;
use imagespec_core::spec::SpecRef;
use imagespec_core::PyValue;
use imagespec_identity::job::BuildJob;

/// flytekit's default base image.
pub const DEFAULT_BASE_IMAGE: &str = "debian:bookworm-slim";
/// The user the image runs as.
pub const IMAGE_USER: &str = "flytekit";

/// Makes the build plan of a prepared job: flytekit's Dockerfile layout,
/// with the steps and files of the installers chosen among `installers`.
pub fn plan(
    job: &BuildJob,
    installers: &Installers<'_>,
    defaults: &PythonDefaults,
) -> Result<BuildPlan> {
    let spec = &job.spec;
    let mut b = PlanBuilder::new(job, defaults);
    let chosen = installer::selected(installers, spec.view());
    let packages = chosen.iter().find(|i| i.role() == Role::Packages);
    if packages.is_none() {
        return Err(Error::MissingPlugin {
            kind: PluginKind::PackagesInstaller,
            needed_for: match spec.requirements() {
                Some(req) => format!("the requirements `{req}`"),
                None => "the spec".to_string(),
            },
            asked: spec.requirements().map(|r| {
                std::path::Path::new(r)
                    .file_name()
                    .map_or(r.to_string(), |n| n.to_string_lossy().into_owned())
            }),
        });
    }
    for inst in &chosen {
        tracing::debug!(installer = inst.name(), "planning");
        inst.contribute(spec.view(), &mut b)?;
    }
    let Some(python) = b.python.clone() else {
        return Err(Error::MissingPlugin {
            kind: PluginKind::PythonInstaller,
            needed_for: "the spec".into(),
            asked: None,
        });
    };

    let base = match &job.inputs.base {
        Some(base) => base.name.clone(),
        None => spec
            .builder_config_str(imagespec_core::spec::CONFIG_BASE_IMAGE)
            .unwrap_or(DEFAULT_BASE_IMAGE)
            .to_string(),
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
        // An empty entry is left out: flytekit's joined text has nothing there.
        script.extend(
            spec.apt_packages()
                .iter()
                .filter(|p| !p.is_empty())
                .map(|p| Word::Arg(p.clone())),
        );
        let mut mounts = vec![Mount::Cache {
            target: "/var/cache/apt".into(),
            id: "apt".into(),
        }];
        mounts.extend(crate::model::spec_secret_mounts(spec.view()));
        steps.push(Step::Run { mounts, script });
    }
    steps.append(&mut b.certificates);
    steps.push(Step::Run {
        mounts: vec![],
        script: vec![sh(&format!(
            "id -u {IMAGE_USER} || useradd --create-home --shell /bin/bash {IMAGE_USER}"
        ))],
    });
    // flytekit's `chown -R flytekit /root && chown -R flytekit /home`, for
    // the files that need it only: chown copies every file it touches into
    // the new layer, so on a base that already holds /root (a nested base's
    // venv and source) `chown -R` doubled its size. Links are changed
    // themselves (`-h`), as `chown -R` does. A base without `find` gets
    // flytekit's `chown -R`.
    steps.push(Step::Run {
        mounts: vec![],
        script: vec![sh(&format!(
            "find /root /home ! -user {IMAGE_USER} -exec chown -h {IMAGE_USER} {{}} + \
             || chown -R {IMAGE_USER} /root /home"
        ))],
    });
    steps.append(&mut b.python_steps);

    let mut vars = vec![env("PATH", &format!("{}:$PATH", python.bin_dir))];
    vars.append(&mut b.runtime_env);
    vars.extend([
        env("FLYTE_SDK_RICH_TRACEBACKS", "0"),
        env("SSL_CERT_DIR", "/etc/ssl/certs"),
    ]);
    vars.extend(user_env(spec.view()));
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

    // The source and `copy` entries: where flytekit puts them when `commands`
    // may read them; else after every other step but the id, so a source-only
    // change reruns nothing but its COPY.
    let mut copies = Vec::new();
    let mut files = Vec::new();
    if let Some(source) = &job.inputs.source {
        // flytekit creates `src/` even when no file is chosen, so that
        // `COPY ./src` finds it.
        files.push(ContextFile {
            path: "src".into(),
            content: FileContent::Folder,
        });
        files.extend(source.files.iter().map(|f| ContextFile {
            path: format!("src/{}", f.rel),
            content: FileContent::Copy(f.path.clone()),
        }));
        copies.push(Step::Copy {
            chown: Some(IMAGE_USER.into()),
            src: "./src".into(),
            dst: "/root".into(),
        });
    }
    if let Some(copy) = &job.inputs.copy {
        let context = copy.context.clone().map_err(Error::Spec)?;
        for entry in &context.entries {
            copies.push(Step::Copy {
                chown: Some(IMAGE_USER.into()),
                src: entry.src.clone(),
                dst: entry.dst.clone(),
            });
        }
        files.extend(context.dirs.iter().map(|d| ContextFile {
            path: d.clone(),
            content: FileContent::Folder,
        }));
        files.extend(context.files.iter().map(|f| ContextFile {
            path: f.rel.clone(),
            content: FileContent::Copy(f.path.clone()),
        }));
    }
    let copies_last = spec.commands().is_empty();
    if !copies_last {
        steps.append(&mut copies);
    } else if job.inputs.source.is_some() && copies.len() > 1 && !source_and_copy_overlap(job) {
        // The source last of all: the `copy` entries' layers then stay
        // cached when only the source changes. Only when they write to
        // different folders under /root, so that the order decides nothing.
        copies.rotate_left(1);
    }
    if !spec.commands().is_empty() {
        let mut mounts = std::mem::take(&mut b.command_mounts);
        mounts.extend(crate::model::spec_secret_mounts(spec.view()));
        steps.push(Step::Run {
            mounts,
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
    ]);
    steps.append(&mut copies);
    steps.extend([
        Step::Comment {
            text: "Set last, so that a change of the spec's id invalidates no other layer.".into(),
        },
        Step::Env {
            vars: vec![env("_F_IMG_ID", &job.identity.id)],
        },
    ]);

    for (field, texts) in [
        (
            "pip_extra_args",
            spec.pip_extra_args().into_iter().collect::<Vec<_>>(),
        ),
        (
            "commands",
            spec.commands().iter().map(String::as_str).collect(),
        ),
    ] {
        if texts
            .iter()
            .any(|t| !imagespec_core::redact::urls_with_credentials(t).is_empty())
        {
            // The lint `credentials-in-url` says it to the user.
            b.note(format!(
                "{field} holds a URL with credentials: they are written into the Dockerfile \
                 and stay in the image's history; put the index in pip_index or \
                 pip_extra_index_url (imagespec passes those credentials as a build secret), \
                 or the credentials in a file mounted with pip_secret_mounts"
            ));
        }
    }
    let mut secrets: Vec<BuildSecret> = job
        .inputs
        .secrets
        .iter()
        .enumerate()
        .map(|(i, s)| BuildSecret {
            id: crate::model::secret_id(i),
            source: SecretSource::File(s.path.clone()),
        })
        .collect();
    secrets.extend(b.url_secrets.iter().map(|(url, id)| BuildSecret {
        id: id.clone(),
        source: SecretSource::Text(imagespec_core::redact::SecretText::new(url.clone())),
    }));

    files.append(&mut b.files);
    let mut stages = std::mem::take(&mut b.stages);
    stages.push(Stage {
        from: base,
        alias: None,
        steps,
    });
    Ok(BuildPlan {
        syntax: spec
            .builder_config_str(imagespec_core::spec::CONFIG_SYNTAX)
            .map(str::to_string),
        stages,
        files,
        warnings: b.warnings,
        secrets,
    })
}

/// Whether the source and the `copy` entries may write the same path: they
/// share a first component under /root, or an entry goes elsewhere.
fn source_and_copy_overlap(job: &BuildJob) -> bool {
    let first = |p: &str| p.split('/').find(|c| !c.is_empty()).map(str::to_string);
    let source: std::collections::BTreeSet<String> = job
        .inputs
        .source
        .iter()
        .flat_map(|s| s.files.iter().filter_map(|f| first(&f.rel)))
        .collect();
    let Some(Ok(context)) = job.inputs.copy.as_ref().map(|c| c.context.as_ref()) else {
        return true;
    };
    context
        .entries
        .iter()
        .any(|e| match e.dst.strip_prefix("/root/").and_then(first) {
            Some(top) => source.contains(&top),
            None => true,
        })
}

/// flytekit: `{"PYTHONPATH": "/root"}` updated with the spec's env (a spec's
/// `PYTHONPATH` key replaces the value in place), each written with `str()`.
/// The spec's keys are unique Python values already.
fn user_env(spec: SpecRef<'_>) -> Vec<EnvVar> {
    let pythonpath = PyValue::Str("PYTHONPATH".into());
    let mut vars: Vec<EnvVar> = vec![env("PYTHONPATH", "/root")];
    for (k, v) in spec.env() {
        if k.py_eq(&pythonpath) {
            vars[0].value = v.py_str();
        } else {
            vars.push(EnvVar {
                name: k.py_str(),
                value: v.py_str(),
            });
        }
    }
    vars
}
