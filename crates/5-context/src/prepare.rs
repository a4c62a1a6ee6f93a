//! The last stage before a builder: a [`BuildContext`], ready.
//!
//! What every builder that builds from a context would otherwise do itself,
//! done once here: a missing secret file is named before anything is
//! written; the label recording what the tag hashed is made (before the
//! context links the files, which moves their ctimes); imagespec's own
//! secrets (index URLs with credentials) are put in memory files; the
//! context is written (the folder the user asked to keep, else the spec's
//! folder kept between builds under the cache, else a temporary folder) and
//! rechecked against the tag, as flytekit's builder does. The builder then
//! only runs its engine.

use std::path::PathBuf;

use crate::write::{sync_plan, write_plan_with, Materialize};
use imagespec_core::builder::{BuildContext, BuildSecret};
use imagespec_core::error::{Error, Result};
use imagespec_identity::job::BuildJob;
use imagespec_identity::record::{TagRecord, INPUTS_LABEL};
use imagespec_plan::{BuildPlan, SecretSource};

/// Where a context goes.
#[derive(Debug, Clone, Default)]
pub struct ContextOptions {
    /// Write it here and keep it (`--keep-context`), instead of the cache's
    /// kept folder or a temporary one.
    pub keep_context: Option<PathBuf>,
    /// The cache folder, whose `contexts/` keeps one context per spec
    /// between builds (`None`: a temporary folder each time).
    pub cache: Option<PathBuf>,
}

/// Writes the context of `job` as `plan` lays it out, with its secrets and
/// labels, and rechecks the job's inputs against its tag.
pub fn prepare(job: &BuildJob, plan: &BuildPlan, options: &ContextOptions) -> Result<BuildContext> {
    // A missing secret file is named before anything is written.
    job.inputs.secret_files()?;
    let labels = labels(job);
    let mut held: Vec<Box<dyn std::any::Any + Send + Sync>> = Vec::new();
    let secrets = secret_files(plan, &mut held)?;

    let kept = match (&options.keep_context, &options.cache) {
        (None, Some(cache)) => crate::cache::kept_context(cache, job),
        _ => None,
    };
    let dir = match (&options.keep_context, kept) {
        (Some(dir), _) => {
            // Copies: a hard link would change the tree's ctimes, and so
            // defeat the stat cache on the next run.
            write_plan_with(job, plan, dir, Materialize::Copy)?;
            dir.clone()
        }
        (None, Some((dir, lock))) => {
            // The spec's own folder, kept between builds: only changed files
            // are copied, and BuildKit, whose session key is the folder's
            // path, resends only those. The lock keeps another build of the
            // spec out of it until this one ends.
            held.push(Box::new(lock));
            sync_plan(job, plan, &dir)?;
            crate::cache::record_size(&dir);
            dir
        }
        (None, None) => {
            let t = tempfile::Builder::new()
                .prefix("imagespec-build-")
                .tempdir()
                .map_err(|e| Error::io("create a temporary folder in", std::env::temp_dir(), e))?;
            let dir = t.path().join("context");
            // Removed by an interrupted process too.
            held.push(Box::new(imagespec_core::cleanup::register(t.path())));
            write_plan_with(job, plan, &dir, Materialize::Copy)?;
            held.push(Box::new(t));
            dir
        }
    };
    let mut context = BuildContext::new(dir);
    context.secrets = secrets;
    context.labels = labels;
    context.kept = options.keep_context.clone();
    for guard in held {
        context.hold(guard);
    }
    Ok(context)
}

/// The context [`prepare`] would make, described, not written: for showing
/// the commands a build would run (`build --dry-run --show command`).
pub fn planned(plan: &BuildPlan) -> BuildContext {
    let mut context = BuildContext::new(PathBuf::from("<context>"));
    context.planned = true;
    context.secrets = plan
        .secrets
        .iter()
        .map(|s| BuildSecret {
            id: s.id.clone(),
            path: match &s.source {
                SecretSource::File(path) => path.clone(),
                SecretSource::Text(_) => PathBuf::from("<a private file holding the secret>"),
            },
        })
        .collect();
    // The record itself is made at build time (it hashes every file).
    context.labels = vec![(
        INPUTS_LABEL.to_string(),
        "<record of the tag inputs>".to_string(),
    )];
    context
}

/// What the tag hashed, for `imagespec explain --against image:REF` (hashes
/// only; no field value). An image without it still builds, with a warning.
fn labels(job: &BuildJob) -> Vec<(String, String)> {
    match TagRecord::of(job).and_then(|r| r.to_label()) {
        Ok(label) => vec![(INPUTS_LABEL.to_string(), label)],
        Err(e) => {
            tracing::warn!(
                "{}: built without the {INPUTS_LABEL} label: {e}",
                job.identity.image_name
            );
            Vec::new()
        }
    }
}

/// The secret files the build mounts: a file the spec names, as it is; a
/// secret imagespec holds (an index URL with credentials) in an anonymous
/// memory file (`memfd`) that the engine's client inherits and opens as
/// `/proc/self/fd/N`. No such secret is ever written to a disk, so no kill
/// can leave it behind. The memory files are held until the context drops.
fn secret_files(
    plan: &BuildPlan,
    held: &mut Vec<Box<dyn std::any::Any + Send + Sync>>,
) -> Result<Vec<BuildSecret>> {
    let mut out = Vec::new();
    for secret in &plan.secrets {
        let path = match &secret.source {
            SecretSource::File(path) => path.clone(),
            SecretSource::Text(text) => {
                let fd = memory_file(text.expose().as_bytes()).map_err(|e| {
                    Error::Other(format!(
                        "cannot hold the secret `{}` for the build: {e}",
                        secret.id
                    ))
                })?;
                use std::os::fd::AsRawFd as _;
                let path = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
                held.push(Box::new(fd));
                path
            }
        };
        out.push(BuildSecret {
            id: secret.id.clone(),
            path,
        });
    }
    Ok(out)
}

/// An anonymous memory file holding `bytes`, inherited by the processes
/// started while it is open (no close-on-exec).
fn memory_file(bytes: &[u8]) -> std::io::Result<std::os::fd::OwnedFd> {
    use rustix::fs::{memfd_create, MemfdFlags};
    use std::io::Write as _;
    let fd = memfd_create("imagespec-secret", MemfdFlags::empty())?;
    let mut file = std::fs::File::from(fd);
    file.write_all(bytes)?;
    Ok(file.into())
}
