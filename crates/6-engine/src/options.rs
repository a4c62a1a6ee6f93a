//! How a run goes.

use std::path::PathBuf;

use imagespec_context::prepare::ContextOptions;
use imagespec_core::existence::Policy;
use imagespec_core::knobs::{Defaults, PythonDefaults};

/// How a run goes: what the command line (or a program) decided, read once.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Push images whose spec has a registry.
    pub push: bool,
    /// The values flytekit takes from its Python process (asked when a
    /// plan first needs them).
    pub defaults: Defaults,
    /// Where contexts go.
    pub context: ContextOptions,
    /// What to do when an image exists or its existence cannot be told (a
    /// typed spec's own `_is_force_push` and `_fast_fail` add to it).
    pub policy: Policy,
    /// Print nothing but errors (`-q`).
    pub quiet: bool,
    /// Where the locks that keep two processes from building one image at
    /// once live (`None`: no locking).
    pub lock_dir: Option<PathBuf>,
    /// The engine-free source push: when only the source or `copy` files
    /// changed since an image imagespec pushed for the same spec, write the
    /// change as a layer and push it without an engine. `None`: always the
    /// engine, and nothing is remembered.
    pub source_push: Option<SourcePush>,
    /// Remembered existence: registries' positive answers kept for a time
    /// to live (`None`: every check asks the registry).
    pub remember: Option<crate::remembered::RememberOptions>,
}

/// How the engine-free source push goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePush {
    /// Where it remembers what it pushed (the cache folder's `pushed/`).
    pub records: PathBuf,
    /// Layers of source changes on top of one full source layer before a
    /// full one is written again.
    pub max_layers: u32,
    /// `SOURCE_DATE_EPOCH`: every entry's time, and the image's `created`.
    pub epoch: Option<u64>,
    /// `--engine`: the engine builds every image; what it pushes is still
    /// remembered, so the next source push starts from the newest image.
    pub engine_only: bool,
    /// The tag of the repository's shared build
    /// ([`imagespec_core::builder::SHARED_BUILD_TAG`], with
    /// `--registry-cache`): when imagespec has pushed no image of the spec
    /// from here, the image under it is the earlier image, if its inputs
    /// label and id are the spec's but for the source; its source layer is
    /// then replaced whole.
    pub shared_tag: Option<String>,
}

/// The default of [`SourcePush::max_layers`].
pub const MAX_SOURCE_LAYERS: u32 = 8;

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            push: true,
            defaults: PythonDefaults {
                default_python: "3.12".into(),
                flytekit_requirement: format!(
                    "flytekit=={}",
                    imagespec_core::knobs::FLYTEKIT_VERSION
                ),
            }
            .into(),
            context: ContextOptions::default(),
            policy: Policy::default(),
            quiet: false,
            lock_dir: None,
            source_push: None,
            remember: None,
        }
    }
}
