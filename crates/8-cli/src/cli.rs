//! The command line's arguments (clap). What each command does is in
//! [`crate::commands`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use imagespec_core::knobs::{ENV_DEFAULT_PYTHON, ENV_FLYTEKIT_REQUIREMENT};
use imagespec_core::spec::LoadOptions;

/// The exit codes, in full (under `imagespec --help`, and in the README).
macro_rules! exit_codes {
    () => {
        "\
Exit codes:
  0    what was asked for exists (the name, the context, the image, the answer)
  1    failure (a build, a push, a registry, a file system)
  2    invalid spec (the message names the file, the field and the line)
  3    exists: an image is missing
  4    exists: whether an image exists could not be told
  5    lint findings (`lint`, or `--strict` on tag, context and build)
  64   usage error (an unknown flag, a missing argument)
  130  interrupted (what was half-written is removed)"
    };
}

macro_rules! examples {
    () => {
        "\
Examples:
  imagespec tag spec.yaml                      the image name flytekit computes
  imagespec build spec.yaml                    build it (and its nested bases), push it
  imagespec build --dry-run spec.yaml          what would be built, skipped or pushed
  imagespec explain spec.yaml --against git:HEAD
                                               why the tag changed since the last commit
  imagespec lint spec.yaml                     the YAML and flytekit traps it falls into
  imagespec exists spec.yaml                   does the image exist in its registry"
    };
}

/// Build flytekit-compatible container images from declarative specs.
///
/// imagespec reads the spec YAML that `pyflyte run --image spec.yaml` reads,
/// names the image exactly as flytekit 1.16 does, and builds, pushes and
/// checks it with Docker/BuildKit and any OCI registry.
#[derive(Debug, Parser)]
#[command(
    name = "imagespec",
    version,
    about,
    after_help = AFTER_HELP,
    after_long_help = concat!(examples!(), "\n\n", exit_codes!(), "\n\nLogs go to stderr (-v, -q, IMAGESPEC_LOG); stdout carries only what was asked for."),
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Colours on stderr: `auto` (on a terminal, unless NO_COLOR is set),
    /// `always` or `never`.
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,
}

/// When to colour what goes to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set (to anything but empty).
    Auto,
    /// Always, even into a pipe (and despite `NO_COLOR`).
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// The choice on a raw command line (before clap has parsed it, so that
    /// clap's own errors follow it too); the last `--color` wins.
    pub fn from_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> ColorChoice {
        let mut choice = ColorChoice::Auto;
        let mut args = args.into_iter().map(|a| a.to_string_lossy().into_owned());
        while let Some(arg) = args.next() {
            let value = match arg.strip_prefix("--color") {
                Some("") => args.next(),
                Some(rest) if rest.starts_with('=') => Some(rest[1..].to_string()),
                _ => None,
            };
            choice = match value.as_deref() {
                Some("always") => ColorChoice::Always,
                Some("never") => ColorChoice::Never,
                Some("auto") => ColorChoice::Auto,
                _ => choice,
            };
        }
        choice
    }

    /// Whether to colour stderr.
    pub fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::IsTerminal::is_terminal(&std::io::stderr())
            }
        }
    }
}

/// The exit codes, in full.
pub const EXIT_CODES: &str = exit_codes!();

const AFTER_HELP: &str = concat!(
    examples!(),
    "\n\nExit codes: 0 success, 1 failure, 2 invalid spec, 3/4 (exists) missing/unknown,
5 lint findings, 64 usage error, 130 interrupted.
Logs go to stderr (-v, -q, IMAGESPEC_LOG); stdout carries only what was asked for."
);

/// How specs are read: for every command that reads one.
#[derive(Debug, Clone, Args)]
pub struct SpecReadArgs {
    /// Fix flytekit's traps, at the price of its tags: read a
    /// `source_copy_mode` string as the mode it names, apply ignore files
    /// under a relative source_root, and walk copied folders in sorted order.
    /// flytekit will not find images named this way.
    #[arg(long, env = ENV_FIX_QUIRKS, value_parser = clap::builder::FalseyValueParser::new())]
    pub fix_flytekit_quirks: bool,
    /// For `loaded_modules` specs: a file listing the module files the calling
    /// Python process has loaded (`module.__file__`, one a line), which is what
    /// flytekit copies. Without it, nothing is loaded, as when pyflyte reads a spec.
    #[arg(long, env = ENV_LOADED_MODULES, value_name = "FILE")]
    pub loaded_modules: Option<PathBuf>,
    /// Follow links in `copy` entries and under source_root wherever they
    /// lead, as flytekit does. Without it, a link out of the spec's folder
    /// (or source_root) is refused: its target would go into the image.
    #[arg(long, env = ENV_ALLOW_OUTSIDE_LINKS, value_parser = clap::builder::FalseyValueParser::new())]
    pub allow_outside_links: bool,
    /// Read files the spec names outside its project (the git work tree its
    /// folder is in, else its folder), as flytekit does. Without it, such a
    /// path is refused: a spec from elsewhere must not put `~/.ssh` or
    /// `/etc/passwd` into an image.
    #[arg(long, env = ENV_ALLOW_OUTSIDE_PATHS, value_parser = clap::builder::FalseyValueParser::new())]
    pub allow_outside_paths: bool,
    /// Hash every source tree and `copy` entry, without the stat cache that
    /// remembers the digests of unchanged files (in the cache folder,
    /// `IMAGESPEC_CACHE_DIR`).
    #[arg(long, env = ENV_NO_CACHE, value_parser = clap::builder::FalseyValueParser::new())]
    pub no_cache: bool,
    /// Take the spec's relative paths (source_root, requirements, copy, lock
    /// files, pip_secret_mounts) from DIR instead of the spec file's folder.
    /// flytekit takes them from the current folder of its Python process:
    /// `--base-dir .` reads a spec as pyflyte run in this folder does.
    #[arg(long, env = ENV_BASE_DIR, value_name = "DIR")]
    pub base_dir: Option<PathBuf>,
    /// Name the spec NAME in messages instead of its file, without line
    /// numbers (for a spec another program wrote into a temporary file).
    #[arg(long, value_name = "NAME")]
    pub display_name: Option<String>,
}

/// Environment variable for `--base-dir`.
pub const ENV_BASE_DIR: &str = "IMAGESPEC_BASE_DIR";

/// `--strict`, for the commands that lint the specs they read.
#[derive(Debug, Clone, Args)]
pub struct StrictArgs {
    /// Make lint findings (see `imagespec lint`) an error (exit 5) instead of warnings.
    #[arg(long, env = ENV_STRICT, value_parser = clap::builder::FalseyValueParser::new())]
    pub strict: bool,
}

/// Environment variable for `--strict`.
pub const ENV_STRICT: &str = "IMAGESPEC_STRICT";

/// Environment variable for `--no-cache`.
pub const ENV_NO_CACHE: &str = "IMAGESPEC_NO_CACHE";

/// Environment variable for `--allow-outside-paths`.
pub const ENV_ALLOW_OUTSIDE_PATHS: &str = "IMAGESPEC_ALLOW_OUTSIDE_PATHS";

/// Environment variable for `--allow-outside-links`.
pub const ENV_ALLOW_OUTSIDE_LINKS: &str = "IMAGESPEC_ALLOW_OUTSIDE_LINKS";

/// Environment variable for `--fix-flytekit-quirks`.
pub const ENV_FIX_QUIRKS: &str = "IMAGESPEC_FIX_FLYTEKIT_QUIRKS";
/// Environment variable for `--loaded-modules`.
pub const ENV_LOADED_MODULES: &str = "IMAGESPEC_LOADED_MODULES";

impl SpecReadArgs {
    /// How specs are read.
    pub fn load_options(&self) -> crate::error::Result<LoadOptions> {
        let loaded_modules = match &self.loaded_modules {
            None => None,
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    crate::error::CliError::io(
                        format!("cannot read the loaded-modules list `{}`", path.display()),
                        e,
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
            false => match imagespec_context::cache::cache_dir() {
                Ok(dir) => Some(dir.join(imagespec_inputs::STAT_CACHE_DIR)),
                Err(e) => {
                    tracing::debug!("no stat cache: {e}");
                    None
                }
            },
        };
        let base_dir = match &self.base_dir {
            None => None,
            Some(dir) => Some(std::path::absolute(dir).map_err(|e| {
                crate::status::UsageError(format!("--base-dir `{}`: {e}", dir.display()))
            })?),
        };
        if let Some(dir) = &base_dir {
            if !dir.is_dir() {
                return Err(crate::status::UsageError(format!(
                    "--base-dir `{}` is not a folder",
                    dir.display()
                ))
                .into());
            }
        }
        Ok(LoadOptions {
            fix_flytekit_quirks: self.fix_flytekit_quirks,
            loaded_modules,
            allow_outside_links: self.allow_outside_links,
            digest_cache,
            base_dir,
            display_name: self.display_name.clone(),
            read_root: None,
            allow_outside_paths: self.allow_outside_paths,
            project_root: None,
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the image name flytekit computes for a spec.
    #[command(after_help = TAG_HELP)]
    Tag(TagArgs),
    /// Write a spec's build context (Dockerfile and files) into a new folder.
    #[command(after_help = CONTEXT_HELP)]
    Context(ContextArgs),
    /// Build a spec's image (its nested bases first) and push it when it has a registry.
    #[command(after_help = BUILD_HELP)]
    Build(Box<BuildArgs>),
    /// Tell whether the images of specs exist (exit 0: all exist, 3: some
    /// missing, 4: some unknown).
    #[command(after_help = EXISTS_HELP)]
    Exists(ExistsArgs),
    /// Say which inputs changed the tag: fields, requirement lines, source and copy files.
    #[command(after_help = EXPLAIN_HELP)]
    Explain(ExplainArgs),
    /// Find the YAML and flytekit traps a spec falls into, and say what to write instead.
    #[command(after_help = LINT_HELP)]
    Lint(LintArgs),
    /// Print the JSON Schema of a spec file (for editors).
    #[command(after_help = SCHEMA_HELP)]
    Schema(SchemaArgs),
    /// List the builders, installers and registry checkers built in.
    #[command(after_help = PLUGINS_HELP)]
    Plugins(PluginsArgs),
    /// Bound or empty imagespec's cache folder (kept build contexts, digests).
    #[command(after_help = CACHE_HELP, subcommand)]
    Cache(CacheCommand),
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_HELP)]
    Completions(CompletionsArgs),
}

impl Command {
    /// The command's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Tag(_) => "tag",
            Command::Context(_) => "context",
            Command::Build(_) => "build",
            Command::Exists(_) => "exists",
            Command::Explain(_) => "explain",
            Command::Lint(_) => "lint",
            Command::Schema(_) => "schema",
            Command::Plugins(_) => "plugins",
            Command::Cache(_) => "cache",
            Command::Completions(_) => "completions",
        }
    }

    /// Whether the command was asked for JSON (so that an error is JSON too).
    pub fn json(&self) -> bool {
        match self {
            Command::Tag(a) => a.json,
            Command::Context(a) => a.json,
            Command::Build(a) => a.json,
            Command::Exists(a) => a.json,
            Command::Explain(a) => a.json,
            Command::Lint(a) => a.json,
            Command::Plugins(a) => a.json,
            Command::Cache(CacheCommand::Prune(a) | CacheCommand::Clean(a)) => a.json,
            Command::Schema(_) | Command::Completions(_) => false,
        }
    }
}

const TAG_HELP: &str = "\
Examples:
  imagespec tag spec.yaml            registry/name:tag, as flytekit's ImageSpec.image_name()
  imagespec tag spec.yaml --json     id, tag, image name and every hashed input

Exit codes: 0 printed, 1 failure, 2 invalid spec, 5 lint findings under --strict, 64 usage error.";

const CONTEXT_HELP: &str = "\
Examples:
  imagespec context spec.yaml -o ctx           write the context (source files hard-linked)
  imagespec context spec.yaml -o ctx --copy    copy the source files instead
  docker build ctx                             build it yourself

Exit codes: 0 written, 1 failure (nothing is left half-written), 2 invalid spec,
5 lint findings under --strict, 64 usage error.";

const BUILD_HELP: &str = "\
Examples:
  imagespec build spec.yaml                        build and push (skipped when it exists)
  imagespec build a.yaml b.yaml -j 2               two specs, their bases once, two at a time
  imagespec build --dry-run spec.yaml              what would be built, skipped or pushed, and why
  imagespec build --dry-run --show dockerfile,command spec.yaml
                                                   and the Dockerfile and docker command
  imagespec build --no-push spec.yaml              build only
  imagespec build --context-only spec.yaml         write the context, print its folder

Exit codes: 0 every image exists (built, pushed or found), 1 a build or push failed,
2 invalid spec, 5 lint findings under --strict, 64 usage error, 130 interrupted.";

const EXISTS_HELP: &str = "\
Examples:
  imagespec exists spec.yaml           image, status (exists/missing/unknown), digest or reason
  imagespec exists *.yaml --json       one JSON document for all

Exit codes: 0 all exist, 3 one is missing, 4 one could not be told (4 wins over 3),
1 failure, 2 invalid spec, 64 usage error.";

const EXPLAIN_HELP: &str = "\
OTHER is a spec file, `git:REV` (this spec file and its files at a git revision),
or `image:REF` (a pushed image built by imagespec, which records its tag's inputs
in the `dev.imagespec.inputs` label).

Examples:
  imagespec explain spec.yaml --against old.yaml
  imagespec explain spec.yaml --against git:HEAD~1
  imagespec explain spec.yaml --against image:localhost:5765/app:abc123

Exit codes: 0 answered (changed or not), 1 failure, 2 invalid spec, 64 usage error.";

const LINT_HELP: &str = "\
Each finding names the field and line, what happens, and what to write instead.
`tag`, `context` and `build` print the same findings as warnings (`--strict`: an error).

Examples:
  imagespec lint spec.yaml
  imagespec lint spec.yaml --json
  imagespec lint --list                     every lint with a one-line summary

Exit codes: 0 no findings, 5 findings, 1 failure, 2 invalid spec, 64 usage error.";

const SCHEMA_HELP: &str = "\
Examples:
  imagespec schema > spec.schema.json
  # yaml-language-server: $schema=./spec.schema.json     (first line of a spec, for editors)

Exit codes: 0 printed, 64 usage error.";

const PLUGINS_HELP: &str = "\
Examples:
  imagespec plugins
  imagespec plugins --json

Exit codes: 0 printed, 1 failure, 64 usage error.";

const COMPLETIONS_HELP: &str = "\
Examples:
  imagespec completions bash > ~/.local/share/bash-completion/completions/imagespec
  imagespec completions zsh > ~/.zfunc/_imagespec
  imagespec completions fish > ~/.config/fish/completions/imagespec.fish
  imagespec completions powershell >> $PROFILE

Exit codes: 0 printed, 64 usage error.";

const CACHE_HELP: &str = "\
The cache folder is IMAGESPEC_CACHE_DIR, else $XDG_CACHE_HOME/imagespec, else
~/.cache/imagespec. `build` keeps each spec's build context there (so a
rebuild copies only changed files) and prunes the kept contexts after every
build to the default bounds: 32 contexts, 8 GiB, 30 days unused.

Examples:
  imagespec cache prune                           apply the default bounds now
  imagespec cache prune --max-contexts 4 --max-age-days 7
  imagespec cache clean                           remove the kept contexts and the digest caches

Exit codes: 0 done, 1 failure, 64 usage error.";

/// `imagespec cache ...`.
#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Remove kept build contexts beyond the bounds, least recently used
    /// first, and the image locks no build holds.
    Prune(CacheArgs),
    /// Remove every kept build context, the digest caches, the remembered
    /// existence answers and the source-push records (a build in progress
    /// keeps its own context).
    Clean(CacheArgs),
}

#[derive(Debug, Args)]
pub struct CacheArgs {
    /// Keep at most this many build contexts.
    #[arg(long, value_name = "N")]
    pub max_contexts: Option<usize>,
    /// Keep at most this many bytes of build contexts.
    #[arg(long, value_name = "BYTES")]
    pub max_bytes: Option<u64>,
    /// Remove build contexts unused for more days than this.
    #[arg(long, value_name = "DAYS")]
    pub max_age_days: Option<u64>,
    /// Print JSON: what was removed and what is kept.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PluginsArgs {
    /// Print JSON: builders (name, priority), installers (name, role, priority), checkers.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The spec file.
    pub spec: PathBuf,
    /// What to compare with: a spec file; `git:REV`, this spec file (and its
    /// files) at git revision REV; or `image:REF`, a pushed image built by
    /// imagespec (a reference with a tag or digest that is no file works too).
    #[arg(long, value_name = "OTHER")]
    pub against: String,
    /// Print JSON: spec, against, tag {old, new}, changed, changes [{kind, ...}].
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub read: SpecReadArgs,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Spec files.
    #[arg(required_unless_present = "list")]
    pub specs: Vec<PathBuf>,
    /// Print every lint's code and summary, and check nothing.
    #[arg(long, conflicts_with = "json")]
    pub list: bool,
    /// Print a JSON object with the findings of each spec.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub read: SpecReadArgs,
}

#[derive(Debug, Args)]
pub struct ExistsArgs {
    /// Spec files, checked concurrently.
    #[arg(required = true)]
    pub specs: Vec<PathBuf>,
    /// Print a JSON object: for each image its spec, image_name, status
    /// (exists/missing/unknown), digest and reason.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub read: SpecReadArgs,
    #[cfg(feature = "docker")]
    #[command(flatten)]
    pub docker: imagespec_docker::DockerClientArgs,
    #[command(flatten)]
    pub builder: BuilderArgs,
    #[command(flatten)]
    pub remember: RememberArgs,
}

/// Remembered existence: a registry's "it exists" answers kept in the cache
/// folder for a while, so repeated runs ask once per time to live.
#[derive(Debug, Clone, Default, Args)]
pub struct RememberArgs {
    /// Ask the registries even about images seen to exist lately (and
    /// remember their answers).
    #[arg(long, env = "IMAGESPEC_REFRESH", value_parser = clap::builder::BoolishValueParser::new())]
    pub refresh: bool,
    /// How long an "it exists" answer is believed, in seconds (0: never
    /// remember). Only positive answers are kept.
    #[arg(long, env = "IMAGESPEC_EXISTENCE_TTL", value_name = "SECONDS", default_value_t = imagespec_engine::DEFAULT_TTL.as_secs())]
    pub existence_ttl: u64,
}

impl RememberArgs {
    /// The engine's options, with the cache folder's SQLite file.
    pub fn options(&self, cache: &std::path::Path) -> Option<imagespec_engine::RememberOptions> {
        (self.existence_ttl > 0).then(|| imagespec_engine::RememberOptions {
            path: imagespec_context::cache::existence_file(cache),
            ttl: std::time::Duration::from_secs(self.existence_ttl),
            refresh: self.refresh,
        })
    }
}

/// Which builder builds the specs that name none, and its settings.
#[derive(Debug, Clone, Default, Args)]
pub struct BuilderArgs {
    /// The builder of specs whose `builder` field is unset: `default`
    /// (Docker with BuildKit), `podman`, `noop`, or one of yours. Unset: the
    /// first by priority that is available here (Docker when an engine
    /// answers, else Podman when it is installed).
    #[arg(long = "builder", env = "IMAGESPEC_BUILDER", value_name = "NAME")]
    pub name: Option<String>,
    #[cfg(feature = "podman")]
    #[command(flatten)]
    pub podman: imagespec_podman::PodmanArgs,
}

/// What `build --dry-run --show` prints besides the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Show {
    /// Each image's Dockerfile.
    Dockerfile,
    /// The builder command that would run.
    Command,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Spec files; their nested bases are built first, each image once.
    #[arg(required = true)]
    pub specs: Vec<PathBuf>,
    /// Build at most this many images at once (default: the number of CPUs).
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Print what would be built, skipped or pushed, and why (nested bases
    /// too); build nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: also print each image's Dockerfile and/or the builder
    /// command (comma-separated).
    #[arg(long, value_delimiter = ',', requires = "dry_run", value_name = "WHAT")]
    pub show: Vec<Show>,
    /// Build only; push nothing (also IMAGESPEC_PUSH=false or FLYTE_PUSH_IMAGE_SPEC=false).
    #[arg(long)]
    pub no_push: bool,
    /// Write the build context, keep it, print its path, and build nothing.
    #[arg(long, conflicts_with = "dry_run")]
    pub context_only: bool,
    /// Write the build context into this new folder and keep it.
    #[arg(long, value_name = "DIR")]
    pub keep_context: Option<PathBuf>,
    /// Print the result as JSON (each image's action, whether pushed, digest).
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
    /// Build nothing unless the (one) spec's image name is NAME: the name
    /// the caller computed (the flytekit plugin passes flytekit's), so an
    /// image is never pushed under a name the caller would not look for.
    #[arg(long, value_name = "NAME")]
    pub expect_image_name: Option<String>,
    /// Build every image with its builder's engine, even when only its source
    /// or `copy` files changed since imagespec pushed it (by default such a
    /// change is pushed as a layer without an engine).
    #[arg(long)]
    pub engine: bool,
    /// Layers of source changes pushed without an engine on top of an image's
    /// source layer before one full source layer replaces them.
    #[arg(long, env = "IMAGESPEC_SOURCE_LAYERS", value_name = "N", default_value_t = imagespec_engine::MAX_SOURCE_LAYERS)]
    pub max_source_layers: u32,
    #[command(flatten)]
    pub python: PythonArgs,
    #[command(flatten)]
    pub strict: StrictArgs,
    #[command(flatten)]
    pub read: SpecReadArgs,
    #[cfg(feature = "docker")]
    #[command(flatten)]
    pub docker: imagespec_docker::DockerArgs,
    #[command(flatten)]
    pub builder: BuilderArgs,
    #[command(flatten)]
    pub remember: RememberArgs,
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
    #[command(flatten)]
    pub strict: StrictArgs,
    #[command(flatten)]
    pub read: SpecReadArgs,
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
    /// The values, `python3` asked for those not given when first needed.
    pub fn defaults(&self) -> imagespec_core::knobs::Defaults {
        imagespec_core::knobs::Defaults::new(
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
    #[command(flatten)]
    pub strict: StrictArgs,
    #[command(flatten)]
    pub read: SpecReadArgs,
}

/// The command line's definition (for completions, the man page and docs/cli.md).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}
