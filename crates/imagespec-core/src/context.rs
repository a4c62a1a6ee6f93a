//! Writing a build context: the Dockerfile and every file it needs, into a
//! fresh folder, atomically.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::identity::Identity;
use crate::job::BuildJob;
use crate::knobs::PythonDefaults;
use crate::plan::{self, BuildPlan, FileContent};
use crate::render;

/// A written build context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WrittenContext {
    /// The folder.
    pub dir: PathBuf,
    /// Its files, relative and sorted, the Dockerfile included.
    pub files: Vec<String>,
    /// The image's identity, checked again after writing.
    pub identity: Identity,
    /// Warnings made while planning.
    pub warnings: Vec<String>,
}

/// Plans, renders and writes the build context of a job into `output`,
/// which must not exist yet (or be an empty folder). Everything is written
/// into a temporary folder beside it first, and renamed into place only when
/// complete: a failure leaves nothing behind.
pub fn write_context(
    job: &BuildJob,
    defaults: &PythonDefaults,
    output: &Path,
) -> Result<WrittenContext> {
    let plan = plan::plan(job, defaults)?;
    write_plan(job, &plan, output)
}

/// Writes a plan made from `job` into `output` (see [`write_context`]), and
/// fails with [`Error::TagChanged`] if the job's inputs no longer give its
/// tag once everything is written (flytekit's guard: the one time the
/// inputs are read again).
pub fn write_plan(job: &BuildJob, plan: &BuildPlan, output: &Path) -> Result<WrittenContext> {
    let dockerfile = render::render(plan)?;
    if output.exists() {
        let empty = output.is_dir()
            && std::fs::read_dir(output)
                .map_err(|e| Error::io("read", output, e))?
                .next()
                .is_none();
        if !empty {
            return Err(Error::Other(format!(
                "`{}` already exists and is not an empty folder; choose a new output folder",
                output.display()
            )));
        }
    }
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| Error::io("create", &parent, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".imagespec-context-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io("create a temporary folder in", &parent, e))?;
    let in_progress = crate::cleanup::register(tmp.path());
    let files = populate(tmp.path(), plan, &dockerfile)?;
    job.recheck()?;

    if output.exists() {
        std::fs::remove_dir(output)
            .map_err(|e| Error::io("replace the empty folder", output, e))?;
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, output).map_err(|e| {
        let _ = std::fs::remove_dir_all(&kept);
        Error::io("move the context into", output, e)
    })?;
    drop(in_progress);
    Ok(WrittenContext {
        dir: output.to_path_buf(),
        files,
        identity: job.identity.clone(),
        warnings: plan.warnings.clone(),
    })
}

/// Writes the Dockerfile and the plan's files into `dir`; returns the paths
/// of the files (not folders), sorted.
pub fn populate(dir: &Path, plan: &BuildPlan, dockerfile: &str) -> Result<Vec<String>> {
    let mut written = vec!["Dockerfile".to_string()];
    let path = dir.join("Dockerfile");
    std::fs::write(&path, dockerfile).map_err(|e| Error::io("write", &path, e))?;
    for f in &plan.files {
        if crate::cleanup::interrupted() {
            return Err(Error::Other("interrupted".into()));
        }
        let dst = dir.join(&f.path);
        if let Some(p) = dst.parent() {
            std::fs::create_dir_all(p).map_err(|e| Error::io("create", p, e))?;
        }
        match &f.content {
            FileContent::Folder => {
                std::fs::create_dir_all(&dst).map_err(|e| Error::io("create", &dst, e))?;
                continue;
            }
            FileContent::Text(text) => {
                std::fs::write(&dst, text).map_err(|e| Error::io("write", &dst, e))?
            }
            FileContent::Copy(src) => {
                std::fs::copy(src, &dst).map_err(|e| Error::io("copy", src, e))?;
            }
        }
        written.push(f.path.clone());
    }
    written.sort();
    written.dedup();
    Ok(written)
}
