//! imagespec-core: the spec model, the one-way pipeline from a spec to a
//! build context, and the plugin traits. It names no plugin.
//!
//! ```text
//!                      imagespec-cli  (lib + binary `imagespec`; cargo features pick plugins)
//!                     /        |          |          \
//!   builders: imagespec-docker, imagespec-noop     checker: imagespec-registry
//!   installers: imagespec-uv, imagespec-poetry, imagespec-micromamba
//!                     \   (uv, poetry share imagespec-python-install)  /
//!                            imagespec-core   (this crate: names no plugin)
//!                                  |
//!                            imagespec-pycompat (PyYAML, Python values, fnmatch; no images)
//! ```
//!
//! Data flows one way, each stage once per spec:
//!
//! ```text
//! spec file ──spec::load──▶ ImageSpec ──Inputs::collect──▶ Inputs ──Identity::compute──▶ Identity
//!                           (checked)   (the only reader     (files,       (id, tag, name;
//!                                        of the spec's files) digests)      pure)
//!                                              └──────────── BuildJob ───────────┘
//!                                                               │
//!                 installers ──▶ plan::plan(job, defaults) ──▶ BuildPlan ──render──▶ Dockerfile
//!                                (pure)                                  (pure)
//!                                                               │
//!        context::write_context: the files, then the one re-check of the inputs (flytekit's guard)
//!                                                               │
//!        engine: jobs of all specs as one graph ── builder.check / should_build / build_image
//! ```

pub mod builder;
pub mod cache;
pub mod cleanup;
pub mod context;
pub mod dockerfile;
pub mod engine;
pub mod error;
pub mod existence;
pub mod explain;
pub mod fsx;
pub mod git;
pub mod identity;
pub mod inputs;
pub mod installer;
pub mod job;
pub mod knobs;
pub mod lint;
mod parallel;
pub mod plan;
mod plugin;
pub mod prepare;
pub mod record;
pub mod redact;
pub mod render;
pub mod safety;
pub mod spec;
pub mod text;

/// Python values, as `yaml.safe_load` builds them (from imagespec-pycompat).
pub use imagespec_pycompat::value as pyvalue;
pub use imagespec_pycompat::PyValue;

pub use error::{Error, PluginKind, RenderError, Result, SpecError};
pub use identity::Identity;
pub use inputs::Inputs;
pub use job::BuildJob;
pub use plugin::{Plugin, Registration, Registry};
pub use spec::{BaseImage, CopyMode, ImageSpec, Loaded, Origin, ReadOptions, SpecRef};

/// Re-exported so plugin crates can `inventory::submit!` without depending on inventory.
pub use inventory;
