//! The command line: arguments and the commands they run.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use imagespec_core::knobs::{ENV_DEFAULT_PYTHON, ENV_FLYTEKIT_REQUIREMENT};
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
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the image name flytekit computes for a spec.
    Tag(TagArgs),
    /// Write a spec's build context (Dockerfile and files) into a new folder.
    Context(ContextArgs),
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

/// Loads a spec and runs every check that building it would make.
pub fn load_checked(path: &std::path::Path) -> Result<ImageSpec> {
    let spec = imagespec_core::spec::load_file(path)?;
    spec.check().map_err(|e| locate(e, &spec, path))?;
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
    match cli.command {
        Command::Tag(args) => tag(args),
        Command::Context(args) => context(args),
    }
}

fn context(args: ContextArgs) -> Result<ExitCode> {
    let spec = load_checked(&args.spec)?;
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

fn tag(args: TagArgs) -> Result<ExitCode> {
    let spec = load_checked(&args.spec)?;
    let identity = spec.identity().map_err(|e| locate(e, &spec, &args.spec))?;
    if args.json {
        output::stdout_json(&serde_json::json!({
            "id": identity.id,
            "tag": identity.tag,
            "image_name": identity.image_name,
            "spec": args.spec,
            "inputs": identity.inputs,
        }))?;
    } else {
        output::stdout_line(&identity.image_name)?;
    }
    Ok(ExitCode::SUCCESS)
}
