//! The command line: arguments and the commands they run.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use imagespec_core::knobs::{ENV_DEFAULT_PYTHON, ENV_FLYTEKIT_REQUIREMENT};
use imagespec_core::spec::LoadOptions;
use imagespec_core::ImageSpec;

use crate::output;

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
}

/// Environment variable for `--fix-flytekit-quirks`.
pub const ENV_FIX_QUIRKS: &str = "IMAGESPEC_FIX_FLYTEKIT_QUIRKS";
/// Environment variable for `--loaded-modules`.
pub const ENV_LOADED_MODULES: &str = "IMAGESPEC_LOADED_MODULES";

impl Cli {
    /// How specs are read, from the global options.
    pub fn load_options(&self) -> Result<LoadOptions> {
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
        Ok(LoadOptions {
            fix_flytekit_quirks: self.fix_flytekit_quirks,
            loaded_modules,
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
    #[command(flatten)]
    pub docker: DockerArgs,
}

/// Exit code of `exists` when an image is missing.
pub const EXIT_MISSING: u8 = 3;
/// Exit code of `exists` when the check could not tell.
pub const EXIT_UNKNOWN: u8 = 4;

/// Settings of the Docker builder; each also reads its environment variable.
#[derive(Debug, Clone, Args)]
pub struct DockerArgs {
    /// The docker client to run.
    #[arg(long, env = "IMAGESPEC_DOCKER", value_name = "PATH")]
    pub docker: Option<String>,
    /// The buildx builder (`docker buildx build --builder`).
    #[arg(long, env = "IMAGESPEC_BUILDX_BUILDER", value_name = "NAME")]
    pub buildx_builder: Option<String>,
    /// `auto` (buildx when present), `buildx`, or `builtin` (the engine's BuildKit).
    #[arg(long, env = "IMAGESPEC_BUILDKIT", value_name = "MODE")]
    pub buildkit: Option<String>,
    /// The engine to talk to (sets DOCKER_HOST for docker).
    #[arg(long, env = "DOCKER_HOST", value_name = "URL")]
    pub docker_host: Option<String>,
    /// The docker context to use.
    #[arg(long, env = "DOCKER_CONTEXT", value_name = "NAME")]
    pub docker_context: Option<String>,
}

impl DockerArgs {
    /// Hands the settings to builder plugins, which read them from the environment.
    /// Called before any thread starts.
    fn export(&self) {
        let pairs = [
            ("IMAGESPEC_DOCKER", &self.docker),
            ("IMAGESPEC_BUILDX_BUILDER", &self.buildx_builder),
            ("IMAGESPEC_BUILDKIT", &self.buildkit),
            ("DOCKER_HOST", &self.docker_host),
            ("DOCKER_CONTEXT", &self.docker_context),
        ];
        for (key, value) in pairs {
            if let Some(v) = value {
                std::env::set_var(key, v);
            }
        }
    }
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
    /// Fail when the registry cannot tell whether the image exists, instead of
    /// assuming it does (also FLYTE_IMG_FAST_FAIL).
    #[arg(long)]
    pub fast_fail: bool,
    #[command(flatten)]
    pub python: PythonArgs,
    #[command(flatten)]
    pub docker: DockerArgs,
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
    /// flytekit installed in python3 on PATH, else `flytekit`).
    #[arg(long, env = ENV_FLYTEKIT_REQUIREMENT, value_name = "REQ")]
    pub flytekit_requirement: Option<String>,
}

#[derive(Debug, Args)]
pub struct TagArgs {
    /// The spec file (YAML as `pyflyte run --image` reads it, or JSON).
    pub spec: PathBuf,
    /// Print a JSON object with id, tag, image_name and the hashed inputs.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub python: PythonArgs,
}

/// Loads a spec and warns about the flytekit traps it falls into.
pub fn load(path: &std::path::Path, options: &LoadOptions) -> Result<ImageSpec> {
    let spec = imagespec_core::spec::load_file_with(path, options)?;
    for trap in imagespec_core::traps::flytekit_traps(&spec) {
        let at = match trap.line {
            Some(line) => format!("{}:{line}", path.display()),
            None => path.display().to_string(),
        };
        tracing::warn!("{at}: field `{}`: {}", trap.field, trap.message);
    }
    Ok(spec)
}

/// Loads a spec and runs every check that building it, and its nested bases,
/// with their builders would make.
pub fn load_checked(path: &std::path::Path, options: &LoadOptions) -> Result<ImageSpec> {
    let spec = load(path, options)?;
    imagespec_core::builder::check_chain(&spec).map_err(|e| locate(e, &spec, path))?;
    Ok(spec)
}

/// Adds the spec file and the field's line to a spec error.
pub fn locate(
    e: imagespec_core::Error,
    spec: &ImageSpec,
    path: &std::path::Path,
) -> imagespec_core::Error {
    match e {
        imagespec_core::Error::Spec(se) => {
            let line = spec.line_of(&se.location.field);
            imagespec_core::Error::Spec(se.in_file(path).at_line(line))
        }
        other => other,
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let options = cli.load_options()?;
    match cli.command {
        Command::Tag(args) => tag(args, &options),
        Command::Context(args) => context(args, &options),
        Command::Build(args) => build(args, &options),
        Command::Exists(args) => exists(args, &options),
        Command::Plugins(args) => plugins(args),
    }
}

fn plugins(args: PluginsArgs) -> Result<ExitCode> {
    let builders: Vec<serde_json::Value> = imagespec_core::builder::registry()?
        .iter()
        .map(|r| serde_json::json!({"name": r.builder.name(), "priority": r.priority}))
        .collect();
    let installers: Vec<serde_json::Value> = imagespec_core::installer::registry()?
        .iter()
        .map(|r| {
            serde_json::json!({"name": r.installer.name(), "role": r.installer.role(), "priority": r.priority})
        })
        .collect();
    let checkers: Vec<&str> = imagespec_core::existence::checker()
        .map(|c| c.name())
        .into_iter()
        .collect();
    if args.json {
        output::stdout_json(&serde_json::json!({
            "builders": builders,
            "installers": installers,
            "checkers": checkers,
        }))?;
    } else {
        for b in &builders {
            output::stdout_line(&format!(
                "builder\t{}\t{}",
                b["name"].as_str().unwrap_or(""),
                b["priority"]
            ))?;
        }
        for i in &installers {
            output::stdout_line(&format!(
                "installer\t{}\t{}\t{}",
                i["name"].as_str().unwrap_or(""),
                i["role"].as_str().unwrap_or(""),
                i["priority"]
            ))?;
        }
        for c in &checkers {
            output::stdout_line(&format!("checker\t{c}"))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn exists(args: ExistsArgs, options: &LoadOptions) -> Result<ExitCode> {
    args.docker.export();
    let specs = args
        .specs
        .iter()
        .map(|p| load(p, options).map(|s| (p.clone(), s)))
        .collect::<Result<Vec<_>>>()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let results = runtime.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for (index, (path, spec)) in specs.into_iter().enumerate() {
            set.spawn(async move {
                let image = spec
                    .identity()
                    .map_err(|e| locate(e, &spec, &path))?
                    .image_name;
                let builder = imagespec_core::builder::for_spec(&spec)
                    .map_err(|e| locate(e, &spec, &path))?;
                let existence = builder.existence(&spec).await?;
                Ok::<_, imagespec_core::Error>((index, path, image, existence))
            });
        }
        let mut out = Vec::new();
        while let Some(joined) = set.join_next().await {
            out.push(joined.map_err(|e| imagespec_core::Error::Other(e.to_string()))??);
        }
        out.sort_by_key(|r| r.0);
        Ok::<_, imagespec_core::Error>(out)
    })?;
    let mut code = ExitCode::SUCCESS;
    let (mut any_missing, mut any_unknown) = (false, false);
    let mut rows = Vec::new();
    for (_, path, image, existence) in &results {
        match existence {
            imagespec_core::existence::Existence::Missing { .. } => any_missing = true,
            imagespec_core::existence::Existence::Unknown { .. } => any_unknown = true,
            imagespec_core::existence::Existence::Exists { .. } => {}
        }
        let reason = match existence {
            imagespec_core::existence::Existence::Missing { reason, .. }
            | imagespec_core::existence::Existence::Unknown { reason } => Some(reason.clone()),
            imagespec_core::existence::Existence::Exists { .. } => None,
        };
        rows.push(serde_json::json!({
            "spec": path,
            "image_name": image,
            "status": existence.status(),
            "digest": existence.digest(),
            "reason": reason,
        }));
        if !args.json {
            let detail = existence
                .digest()
                .map(str::to_string)
                .or(reason)
                .unwrap_or_default();
            output::stdout_line(&format!("{image}\t{}\t{detail}", existence.status()))?;
        }
    }
    if args.json {
        output::stdout_json(&rows)?;
    }
    if any_unknown {
        code = ExitCode::from(EXIT_UNKNOWN);
    } else if any_missing {
        code = ExitCode::from(EXIT_MISSING);
    }
    Ok(code)
}

fn build(args: BuildArgs, load_options: &LoadOptions) -> Result<ExitCode> {
    args.docker.export();
    let specs = args
        .specs
        .iter()
        .map(|p| load_checked(p, load_options))
        .collect::<Result<Vec<_>>>()?;
    let defaults = imagespec_core::knobs::PythonDefaults::resolve(
        args.python.default_python.clone(),
        args.python.flytekit_requirement.clone(),
    )?;
    // Every spec (and nested base) must name a builder this program has.
    for (spec, path) in specs.iter().zip(&args.specs) {
        let mut s = Some(spec);
        while let Some(cur) = s {
            imagespec_core::builder::for_spec(cur).map_err(|e| locate(e, spec, path))?;
            s = match cur.base_image() {
                Some(imagespec_core::BaseImage::Spec(base)) => Some(base),
                _ => None,
            };
        }
    }
    if (args.context_only || args.keep_context.is_some()) && specs.len() != 1 {
        anyhow::bail!("--context-only and --keep-context take exactly one spec");
    }
    let options = imagespec_core::builder::BuildOptions {
        push: !args.no_push && imagespec_core::builder::BuildOptions::push_from_env(),
        defaults,
        keep_context: args.keep_context.clone(),
        context_only: args.context_only,
        force_push: args.force_push
            || imagespec_core::existence::env_flag(imagespec_core::existence::ENV_FORCE_PUSH),
        fast_fail: args.fast_fail
            || imagespec_core::existence::env_flag(imagespec_core::existence::ENV_FAST_FAIL),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    if args.context_only {
        let spec = &specs[0];
        let builder =
            imagespec_core::builder::for_spec(spec).map_err(|e| locate(e, spec, &args.specs[0]))?;
        let outcome = runtime
            .block_on(builder.build_image(spec, &options))
            .map_err(|e| locate(e, spec, &args.specs[0]))?;
        let dir = outcome.context.clone().unwrap_or_default();
        if args.json {
            output::stdout_json(
                &serde_json::json!({"image_name": outcome.image_name, "context": dir}),
            )?;
        } else {
            output::stdout_line(&dir.display().to_string())?;
        }
        return Ok(ExitCode::SUCCESS);
    }

    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let engine = imagespec_core::engine::Engine::registered(options, jobs)?;
    let report = runtime.block_on(engine.run(&specs, args.dry_run))?;
    {
        use std::io::Write;
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\n{}", report.table());
    }
    if args.json {
        output::stdout_json(&serde_json::json!({"ok": report.ok(), "images": report.entries}))?;
    } else {
        for e in report.requested() {
            let name = e.real_name.as_deref().unwrap_or(&e.image_name);
            if args.dry_run {
                output::stdout_line(&format!("{name}\t{}\t{}", e.action.label(), e.reason))?;
            } else if !matches!(
                e.action,
                imagespec_core::engine::Action::Failed
                    | imagespec_core::engine::Action::NotAttempted
            ) {
                output::stdout_line(name)?;
            }
        }
    }
    for e in report.entries.iter().filter(|e| {
        matches!(
            e.action,
            imagespec_core::engine::Action::Failed | imagespec_core::engine::Action::NotAttempted
        )
    }) {
        use std::io::Write;
        let hint = e
            .error
            .as_ref()
            .and_then(|f| crate::plugins::feature_hint(&f.0))
            .map(|h| format!("\n  hint: {h}"))
            .unwrap_or_default();
        let _ = writeln!(
            std::io::stderr().lock(),
            "error: {}: {}{hint}",
            e.image_name,
            e.reason
        );
    }
    let invalid_spec = report
        .entries
        .iter()
        .any(|e| e.error.as_ref().is_some_and(|f| f.0.is_invalid_spec()));
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else if invalid_spec {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    })
}

fn context(args: ContextArgs, options: &LoadOptions) -> Result<ExitCode> {
    // The context is a Docker build context, whatever builder the spec names.
    let spec = load(&args.spec, options)?;
    spec.check().map_err(|e| locate(e, &spec, &args.spec))?;
    imagespec_core::builder::check_chain(&spec).map_err(|e| locate(e, &spec, &args.spec))?;
    let defaults = imagespec_core::knobs::PythonDefaults::resolve(
        args.python.default_python.clone(),
        args.python.flytekit_requirement.clone(),
    )?;
    let written = imagespec_core::context::write_context(&spec, &defaults, &args.output)
        .map_err(|e| locate(e, &spec, &args.spec))?;
    if args.json {
        output::stdout_json(&serde_json::json!({
            "id": written.identity.id,
            "tag": written.identity.tag,
            "image_name": written.identity.image_name,
            "context": written.dir,
            "files": written.files,
            "warnings": written.warnings,
        }))?;
    } else {
        output::stdout_line(&written.dir.display().to_string())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn tag(args: TagArgs, options: &LoadOptions) -> Result<ExitCode> {
    let spec = load_checked(&args.spec, options)?;
    let identity = spec.identity().map_err(|e| locate(e, &spec, &args.spec))?;
    // flytekit's image_name() after its engine ran: the name the spec's
    // builder answers with (noop: its base_image), else the computed name.
    let real_name = imagespec_core::builder::dependent_name(&spec, &identity.image_name)
        .map_err(|e| locate(e, &spec, &args.spec))?;
    if args.json {
        let mut doc = serde_json::json!({
            "id": identity.id,
            "tag": identity.tag,
            "image_name": identity.image_name,
            "spec": args.spec,
            "inputs": identity.inputs,
        });
        if real_name != identity.image_name {
            doc["real_name"] = serde_json::Value::String(real_name);
        }
        output::stdout_json(&doc)?;
    } else {
        output::stdout_line(&real_name)?;
    }
    Ok(ExitCode::SUCCESS)
}
