//! The command line's arguments (clap). What each command does is in
//! [`crate::commands`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use imagespec_core::knobs::{ENV_DEFAULT_PYTHON, ENV_FLYTEKIT_REQUIREMENT};
use imagespec_core::spec::LoadOptions;

/// Build flytekit-compatible container images from declarative specs.
#[derive(Debug, Parser)]
#[command(name = "imagespec", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Fix flytekit's traps, at the price of its tags: read a
    /// `source_copy_mode` string as the mode it names, apply ignore files
    /// under a relative source_root, and walk copied folders in sorted order.
    /// flytekit will not find images named this way.
    #[arg(long, global = true, env = ENV_FIX_QUIRKS, value_parser = clap::builder::FalseyValueParser::new())]
    pub fix_flytekit_quirks: bool,
    /// For `loaded_modules` specs: a file listing the module files the calling
    /// Python process has loaded (`module.__file__`, one a line), which is what
    /// flytekit copies. Without it, nothing is loaded, as when pyflyte reads a spec.
    #[arg(long, global = true, env = ENV_LOADED_MODULES, value_name = "FILE")]
    pub loaded_modules: Option<PathBuf>,
    /// Follow links in `copy` entries and under source_root wherever they
    /// lead, as flytekit does. Without it, a link out of the spec's folder
    /// (or source_root) is refused: its target would go into the image.
    #[arg(long, global = true, env = ENV_ALLOW_OUTSIDE_LINKS, value_parser = clap::builder::FalseyValueParser::new())]
    pub allow_outside_links: bool,
    /// Hash every source tree and `copy` entry, without the stat cache that
    /// remembers the digests of unchanged files (in the cache folder,
    /// `IMAGESPEC_CACHE_DIR`).
    #[arg(long, global = true, env = ENV_NO_CACHE, value_parser = clap::builder::FalseyValueParser::new())]
    pub no_cache: bool,
}

/// Environment variable for `--no-cache`.
pub const ENV_NO_CACHE: &str = "IMAGESPEC_NO_CACHE";

/// Environment variable for `--allow-outside-links`.
pub const ENV_ALLOW_OUTSIDE_LINKS: &str = "IMAGESPEC_ALLOW_OUTSIDE_LINKS";

/// Environment variable for `--fix-flytekit-quirks`.
pub const ENV_FIX_QUIRKS: &str = "IMAGESPEC_FIX_FLYTEKIT_QUIRKS";
/// Environment variable for `--loaded-modules`.
pub const ENV_LOADED_MODULES: &str = "IMAGESPEC_LOADED_MODULES";

impl Cli {
    /// How specs are read, from the global options.
    pub fn load_options(&self) -> anyhow::Result<LoadOptions> {
        let loaded_modules = match &self.loaded_modules {
            None => None,
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot read the loaded-modules list `{}`: {e}",
                        path.display()
                    )
                })?;
                Some(
                    text.lines()
                        .filter(|l| !l.is_empty())
                        .map(str::to_string)
                        .collect(),
                )
            }
        };
        if self.fix_flytekit_quirks {
            tracing::warn!(
                "--fix-flytekit-quirks: tags are computed from what the spec means, not from what flytekit \
                 does with it, so they differ from flytekit's: flytekit will not find these images and will \
                 build its own"
            );
        }
        let digest_cache = match self.no_cache {
            true => None,
            false => match imagespec_core::cache::cache_dir() {
                Ok(dir) => Some(dir.join(imagespec_core::inputs::STAT_CACHE_DIR)),
                Err(e) => {
                    tracing::debug!("no stat cache: {e}");
                    None
                }
            },
        };
        Ok(LoadOptions {
            fix_flytekit_quirks: self.fix_flytekit_quirks,
            loaded_modules,
            allow_outside_links: self.allow_outside_links,
            digest_cache,
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the image name flytekit computes for a spec.
    Tag(TagArgs),
    /// Write a spec's build context (Dockerfile and files) into a new folder.
    Context(ContextArgs),
    /// Build a spec's image (its nested base first) and push it when it has a registry.
    Build(BuildArgs),
    /// Tell whether the images of specs exist (exit 0: all exist, 3: some
    /// missing, 4: some unknown).
    Exists(ExistsArgs),
    /// List the builders, installers and registry checkers built in.
    Plugins(PluginsArgs),
    /// Tell which inputs changed the tag, against another spec, a git revision or a pushed image.
    Explain(crate::commands::explain::ExplainArgs),
}

#[derive(Debug, Args)]
pub struct PluginsArgs {
    /// Print JSON: builders (name, priority), installers (name, role, priority), checkers.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExistsArgs {
    /// Spec files, checked concurrently.
    #[arg(required = true)]
    pub specs: Vec<PathBuf>,
    /// Print a JSON array: spec, image_name, status (exists/missing/unknown), digest, reason.
    #[arg(long)]
    pub json: bool,
    #[cfg(feature = "docker")]
    #[command(flatten)]
    pub docker: imagespec_docker::DockerArgs,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Spec files; their nested bases are built first, each image once.
    #[arg(required = true)]
    pub specs: Vec<PathBuf>,
    /// Build at most this many images at once (default: the number of CPUs).
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Print what would be built, skipped or pushed, and why; build nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Build only; push nothing (also IMAGESPEC_PUSH=false or FLYTE_PUSH_IMAGE_SPEC=false).
    #[arg(long)]
    pub no_push: bool,
    /// Write the build context, keep it, print its path, and build nothing.
    #[arg(long)]
    pub context_only: bool,
    /// Write the build context into this new folder and keep it.
    #[arg(long, value_name = "DIR")]
    pub keep_context: Option<PathBuf>,
    /// Print the result as JSON (image name, whether pushed, digest).
    #[arg(long)]
    pub json: bool,
    /// Build and push even when the image exists (also FLYTE_FORCE_PUSH_IMAGE_SPEC).
    #[arg(long)]
    pub force_push: bool,
    /// Fail when the registry cannot tell whether the image exists (also
    /// FLYTE_IMG_FAST_FAIL). Without it, such an image is built.
    #[arg(long)]
    pub fast_fail: bool,
    /// flytekit's behaviour: when the registry cannot tell whether the image
    /// exists, assume it does and build nothing (with a warning).
    #[arg(long, conflicts_with = "fast_fail")]
    pub assume_exists_when_unknown: bool,
    #[command(flatten)]
    pub python: PythonArgs,
    #[cfg(feature = "docker")]
    #[command(flatten)]
    pub docker: imagespec_docker::DockerArgs,
}

#[derive(Debug, Args)]
pub struct ContextArgs {
    /// The spec file.
    pub spec: PathBuf,
    /// The folder to create (it must not exist, or be empty).
    #[arg(long, short)]
    pub output: PathBuf,
    /// Print a JSON object with id, tag, image_name and the files written.
    #[arg(long)]
    pub json: bool,
    /// Copy the source files (reflinks where the file system has them)
    /// rather than hard-linking them. A hard link is the tree's own file:
    /// editing it in the context edits the tree.
    #[arg(long)]
    pub copy: bool,
    #[command(flatten)]
    pub python: PythonArgs,
}

/// The values flytekit takes from the Python process running it.
#[derive(Debug, Clone, Args)]
pub struct PythonArgs {
    /// Python version for specs that set none (default: python3 on PATH).
    #[arg(long, env = ENV_DEFAULT_PYTHON, value_name = "X.Y")]
    pub default_python: Option<String>,
    /// Requirement added when no flytekit package is listed (default: the
    /// flytekit installed in python3 on PATH, else flytekit==1.16.31).
    #[arg(long, env = ENV_FLYTEKIT_REQUIREMENT, value_name = "REQ")]
    pub flytekit_requirement: Option<String>,
}

impl PythonArgs {
    /// The values, asking `python3` for those not given.
    pub fn resolve(&self) -> imagespec_core::Result<imagespec_core::knobs::PythonDefaults> {
        imagespec_core::knobs::PythonDefaults::resolve(
            self.default_python.clone(),
            self.flytekit_requirement.clone(),
        )
    }
}

#[derive(Debug, Args)]
pub struct TagArgs {
    /// The spec file (YAML as `pyflyte run --image` reads it, or JSON).
    pub spec: PathBuf,
    /// Print a JSON object with id, tag, image_name and the hashed inputs.
    #[arg(long)]
    pub json: bool,
}
