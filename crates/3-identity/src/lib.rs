//! The third stage: a spec's name, as flytekit computes it.
//!
//! [`identity::Identity::compute`] is flytekit's `id`, `tag` and image name,
//! a pure function of a spec and its inputs; [`job::BuildJob`] carries a
//! spec, its inputs and its identity through every later stage, so none
//! computes them again; [`record::TagRecord`] records what the tag hashed
//! (hashes only), for the image's inputs label and `explain`.
//!
//! Modules, in the order they build on each other: `identity` → `job` →
//! `record`.

pub mod identity;
pub mod job;
pub mod record;

pub use identity::{Identity, TagInputs};
pub use job::{BuildJob, Preparer};
pub use record::{TagRecord, INPUTS_LABEL};
