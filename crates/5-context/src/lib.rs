//! The fifth stage: the build context a builder receives.
//!
//! [`write`] writes a plan into a folder (hard links, reflinks or copies,
//! in parallel; a kept folder brought up to date by content) and rechecks
//! the job's inputs against its tag, as flytekit's builder does;
//! [`cache`] is the cache folder (locks, kept contexts and their bounds);
//! [`prepare::prepare`] does all a build needs before its builder runs and
//! hands back a `BuildContext` (folder, secrets in memory files, labels).
//!
//! [`layer`] writes a layer of the spec's files without an engine, for the
//! engine-free source push.
//!
//! Modules, in the order they build on each other: `cache`, `layer` →
//! `write` → `prepare`.

pub mod cache;
pub mod layer;
pub mod prepare;
pub mod write;

pub use prepare::{planned, prepare, ContextOptions};
pub use write::{
    populate, sync_plan, write_context, write_context_with, write_plan, write_plan_with, Linked,
    Materialize, WrittenContext,
};
