//! imagespec-core: the spec model, and the contracts every stage and plugin
//! shares. It names no plugin.
//!
//! The pipeline is one crate per stage, each depending only on those before
//! it (so the compiler forbids an import running back):
//!
//! ```text
//! 1-core      spec::load ──▶ Loaded (ImageSpec + Origin + ReadOptions); ImageBuilder, ExistenceChecker
//! 2-inputs    Inputs::collect ──▶ Inputs (the only reader of a spec's files: digests and hashes, one read)
//! 3-identity  Identity::compute ──▶ Identity;  BuildJob = spec + inputs + identity;  TagRecord
//! 4-plan      plan(job, installers) ──▶ BuildPlan ──render──▶ Dockerfile text (pure)
//! 5-context   prepare(job, plan) ──▶ BuildContext (written, rechecked, secrets, labels)
//! 6-engine    Engine: many jobs as one graph; existence, policy; hands the context to a builder
//! 7-insight   lint, explain
//! 8-cli       the `imagespec` binary (cargo features pick the plugins it links)
//! ```
//!
//! This crate's modules, from the leaves up: `text`, `fsx`, `cleanup`,
//! `parallel`, `redact` (secrets as values), `dockerfile` (BuildKit's
//! parsing rules) → `safety` → `error` → `spec` → `plugin` → `existence` →
//! `builder`, `store` (an image registry, read and written); `knobs` (the
//! values flytekit takes from its Python).

pub mod builder;
pub mod cleanup;
pub mod dockerfile;
pub mod error;
pub mod existence;
pub mod fsx;
pub mod knobs;
pub mod parallel;
pub mod plugin;
pub mod redact;
pub mod safety;
pub mod spec;
pub mod store;
pub mod text;

/// Python values, as `yaml.safe_load` builds them (from imagespec-pycompat).
pub use imagespec_pycompat::value as pyvalue;
pub use imagespec_pycompat::PyValue;

pub use error::{Error, PluginKind, RenderError, Result, SpecError};
pub use plugin::{Plugin, Registration, Registry};
pub use spec::{BaseImage, CopyMode, ImageSpec, Loaded, Origin, ReadOptions, SpecRef};

/// Re-exported so plugin crates can `inventory::submit!` without depending on inventory.
pub use inventory;
