//! One module per command; each returns the [`ExitStatus`] it ends with.

mod build;
mod context;
mod exists;
pub(crate) mod explain;
mod plugins;
mod tag;

use std::path::Path;

use imagespec_core::spec::LoadOptions;
use imagespec_core::{BuildJob, ImageSpec};

use crate::cli::{Cli, Command};
use crate::printer::Printer;
use crate::status::ExitStatus;

/// Runs a parsed command line.
pub fn run(cli: Cli, printer: Printer) -> anyhow::Result<ExitStatus> {
    let options = cli.load_options()?;
    match cli.command {
        Command::Tag(args) => tag::run(args, &options, printer),
        Command::Context(args) => context::run(args, &options, printer),
        Command::Build(args) => build::run(args, &options, printer),
        Command::Exists(args) => exists::run(args, &options, printer),
        Command::Plugins(args) => plugins::run(args, printer),
        Command::Explain(args) => explain::run(args, &options, printer),
    }
}

/// Loads a spec and warns about the flytekit traps it falls into.
pub(crate) fn load(path: &Path, options: &LoadOptions) -> anyhow::Result<ImageSpec> {
    let spec = imagespec_core::spec::load_file_with(path, options)?;
    for trap in imagespec_core::traps::flytekit_traps(&spec) {
        let at = match trap.line {
            Some(line) => format!("{}:{line}", path.display()),
            None => path.display().to_string(),
        };
        tracing::warn!(
            "{at}: field `{}`: {}",
            imagespec_core::safety::printable(&trap.field),
            imagespec_core::safety::printable(&trap.message)
        );
    }
    Ok(spec)
}

/// Loads and prepares a spec (its inputs read and its identity computed,
/// nested bases first), errors located in its file.
pub(crate) fn prepare(path: &Path, options: &LoadOptions) -> anyhow::Result<BuildJob> {
    let spec = load(path, options)?;
    Ok(imagespec_core::builder::prepare(&spec).map_err(|e| locate(e, &spec, path))?)
}

/// [`prepare`] for every spec file, in order.
pub(crate) fn prepare_all(
    paths: &[std::path::PathBuf],
    options: &LoadOptions,
) -> anyhow::Result<Vec<BuildJob>> {
    paths.iter().map(|p| prepare(p, options)).collect()
}

/// Adds the spec file and the field's line to a spec error.
pub(crate) fn locate(
    e: imagespec_core::Error,
    spec: &ImageSpec,
    path: &Path,
) -> imagespec_core::Error {
    match e {
        imagespec_core::Error::Spec(se) => {
            let line = spec.line_of(&se.location.field);
            imagespec_core::Error::Spec(se.in_file(path).at_line(line))
        }
        other => other,
    }
}

/// A multi-threaded runtime for the commands that wait on registries and builds.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Hands the Docker options to the Docker builder, once, at start-up.
#[cfg(feature = "docker")]
pub(crate) fn configure_docker(args: &imagespec_docker::DockerArgs) -> anyhow::Result<()> {
    imagespec_docker::configure(imagespec_docker::DockerSettings::from_args(args)?);
    Ok(())
}
