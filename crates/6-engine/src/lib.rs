//! The build engine: many specs at once, nested bases first, each image once.
//!
//! flytekit's `ImageBuildEngine` builds a nested base before its child, builds
//! each spec once per process, and maps the name a builder returns to the
//! name dependents use. This engine does the same for a whole run as one
//! graph, and runs independent builds concurrently (up to `jobs`).
//!
//! - Nodes are keyed by image name: specs that share a base (or are equal)
//!   share a node, so it is checked and built once.
//! - A child waits for its base; the base's real name (what its builder
//!   returned, else its image name) becomes the child's `base_image`, as
//!   flytekit's engine does, and so enters the child's tag.
//! - A failure fails its dependents (not attempted) and nothing else; the
//!   report has every image's outcome.
//!
//! Modules, in the order they build on each other: `plugins`, `options`,
//! `report`, `remembered` (existence answers kept for a while) → `push`
//! (the engine-free source push) → `engine`.

pub mod engine;
pub mod options;
pub mod plugins;
pub mod push;
pub mod remembered;
pub mod report;

pub use engine::{Engine, Shown};
pub use options::{EngineOptions, SourcePush, MAX_SOURCE_LAYERS};
pub use plugins::Plugins;
pub use remembered::{RememberOptions, Remembered, DEFAULT_TTL};
pub use report::{Action, BuildPath, Entry, Failure, Report};
