//! A build job: a spec with its inputs read and its identity computed, once.
//!
//! [`BuildJob::prepare`] runs the first stages of the pipeline for a spec
//! and, first, for its nested bases: spec checks → [`Inputs::collect`] →
//! [`Identity::compute`]. Everything later (existence check, plan, build)
//! takes the job, so no stage reads the spec's files again, but for the one
//! re-check after the build context is written ([`BuildJob::recheck`]), as
//! flytekit's builder does.

use std::path::PathBuf;
use std::sync::Arc;

use crate::identity::Identity;
use imagespec_core::error::{Error, Result};
use imagespec_core::spec::{Loaded, SpecRef};
use imagespec_inputs::{InputRequest, Inputs, ResolvedBase};

/// A spec, what its files hold, and its name.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildJob {
    /// The spec, with where it came from and how its files are read.
    pub spec: Loaded,
    /// What its files hold (and its resolved base).
    pub inputs: Inputs,
    /// Its id, tag and image name.
    pub identity: Identity,
    /// The job of its nested base, if its `base_image` is a spec.
    pub base: Option<Arc<BuildJob>>,
}

/// What preparing a job needs from the plugins.
pub struct Preparer<'a> {
    /// The side files the spec's plugins want to know about.
    pub side_files: &'a dyn Fn(SpecRef<'_>) -> Vec<PathBuf>,
    /// The name a built base stands for, when its builder knows it without
    /// building (noop: its `base_image`); `None`: its image name.
    pub real_name: &'a dyn Fn(&BuildJob) -> Result<Option<String>>,
}

impl std::fmt::Debug for Preparer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preparer").finish_non_exhaustive()
    }
}

fn nested(e: Error) -> Error {
    match e {
        Error::Spec(se) => Error::Spec(se.nested_in("base_image")),
        other => other,
    }
}

impl BuildJob {
    /// Checks `spec`, reads its inputs and computes its identity, after
    /// doing the same for its nested bases.
    pub fn prepare(spec: SpecRef<'_>, with: &Preparer<'_>) -> Result<BuildJob> {
        spec.check()?;
        let base = match spec.base() {
            Some(b) => Some(Arc::new(BuildJob::prepare(b, with).map_err(nested)?)),
            None => None,
        };
        let resolved = match &base {
            Some(job) => Some(
                job.resolved_as(
                    (with.real_name)(job)
                        .map_err(nested)?
                        .unwrap_or_else(|| job.identity.image_name.clone()),
                ),
            ),
            None => None,
        };
        BuildJob::from_parts(spec.to_loaded(), resolved, base, (with.side_files)(spec))
    }

    fn from_parts(
        spec: Loaded,
        resolved: Option<ResolvedBase>,
        base: Option<Arc<BuildJob>>,
        side_files: Vec<PathBuf>,
    ) -> Result<BuildJob> {
        let inputs = Inputs::collect(
            spec.view(),
            InputRequest {
                base: resolved,
                side_files,
            },
        )?;
        let identity = Identity::compute(spec.view(), &inputs)?;
        Ok(BuildJob {
            spec,
            inputs,
            identity,
            base,
        })
    }

    /// This job as the base of another, built as `name`.
    fn resolved_as(&self, name: String) -> ResolvedBase {
        let mut built_from = vec![self.spec.spec.clone()];
        if let Some(below) = &self.inputs.base {
            built_from.extend(below.built_from.iter().cloned());
        }
        ResolvedBase { name, built_from }
    }

    /// The same job with its nested base built as `name` (what the base's
    /// builder answered): the base name enters the tag, so the identity is
    /// computed again; no file is read again.
    pub fn with_base_built_as(&self, name: &str) -> Result<BuildJob> {
        let (Some(base), Some(resolved)) = (&self.base, &self.inputs.base) else {
            return Ok(self.clone());
        };
        if resolved.name == name {
            return Ok(self.clone());
        }
        let mut inputs = self.inputs.clone();
        inputs.base = Some(base.resolved_as(name.to_string()));
        let identity = Identity::compute(self.spec.view(), &inputs)?;
        Ok(BuildJob {
            spec: self.spec.clone(),
            inputs,
            identity,
            base: Some(Arc::clone(base)),
        })
    }

    /// flytekit's guard after the build context is written: reads the inputs
    /// again, and fails with [`Error::TagChanged`] when they no longer give
    /// this job's tag.
    pub fn recheck(&self) -> Result<()> {
        let side_files = self.inputs.side_files.keys().cloned().collect();
        let again = BuildJob::from_parts(
            self.spec.clone(),
            self.inputs.base.clone(),
            self.base.clone(),
            side_files,
        )?;
        if again.identity.tag != self.identity.tag {
            return Err(Error::TagChanged {
                before: self.identity.tag.clone(),
                after: again.identity.tag.clone(),
                what: self.identity.changed_inputs(&again.identity),
            });
        }
        Ok(())
    }

    /// What output about this job must not show: the secrets its spec and
    /// its files hold, its nested bases' included.
    pub fn secrets(&self) -> imagespec_core::redact::Secrets {
        let mut out = self.spec.secrets();
        for job in self.chain() {
            out.extend(&job.inputs.masked);
        }
        out
    }

    /// This job, then its nested base's, and so on.
    pub fn chain(&self) -> impl Iterator<Item = &BuildJob> {
        std::iter::successors(Some(self), |j| j.base.as_deref())
    }
}
