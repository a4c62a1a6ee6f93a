//! One module per command; each returns the [`ExitStatus`] it ends with.

mod build;
mod cache;
mod completions;
mod context;
mod exists;
mod explain;
mod lint;
mod plugins;
mod schema;
mod tag;

use std::path::Path;

use imagespec_core::lint::Lint;
use imagespec_core::redact::Secrets;
use imagespec_core::spec::LoadOptions;
use imagespec_core::{BuildJob, Loaded};

use crate::cli::{Cli, Command};
use crate::printer::Printer;
use crate::status::{ExitStatus, LintFailure};

/// Runs a parsed command line.
pub fn run(cli: Cli, printer: &Printer) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Tag(args) => tag::run(args, printer),
        Command::Context(args) => context::run(args, printer),
        Command::Build(args) => build::run(*args, printer),
        Command::Exists(args) => exists::run(args, printer),
        Command::Explain(args) => explain::run(args, printer),
        Command::Lint(args) => lint::run(args, printer),
        Command::Schema(_) => schema::run(printer),
        Command::Plugins(args) => plugins::run(args, printer),
        Command::Cache(command) => cache::run(command, printer),
        Command::Completions(args) => completions::run(args, printer),
    }
}

/// What to do with lint findings while preparing a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lints {
    /// Print them as warnings.
    Warn,
    /// Print them as warnings, then fail (exit 5) if there are any.
    Strict,
    /// Say nothing (the caller reports them).
    Quiet,
}

impl Lints {
    pub(crate) fn strict(strict: bool) -> Lints {
        match strict {
            true => Lints::Strict,
            false => Lints::Warn,
        }
    }
}

/// Loads and prepares a spec (its inputs read and its identity computed,
/// nested bases first), errors located in its file, lint findings handled
/// as `lints` says.
pub(crate) fn prepare(
    path: &Path,
    options: &LoadOptions,
    printer: &Printer,
    lints: Lints,
) -> anyhow::Result<BuildJob> {
    let job = {
        // Listing and hashing a big tree takes a while: a spinner on a terminal.
        let _reading =
            tracing::info_span!("reading", progress = true, spec = %path.display()).entered();
        let spec = imagespec_core::spec::load_file_with(path, options)?;
        // What the spec holds is masked from here on, its own errors included.
        printer.masker.add(&Secrets::of_spec(&spec));
        let job =
            imagespec_core::builder::prepare(spec.view()).map_err(|e| locate(e, &spec, path))?;
        printer.masker.add(&job.secrets());
        job
    };
    if lints != Lints::Quiet {
        let found = imagespec_core::lint::lint(&job);
        for lint in &found {
            printer.warning(&lint_line(&shown_path(&job.spec, path), lint));
        }
        if lints == Lints::Strict && !found.is_empty() {
            return Err(LintFailure {
                file: path.display().to_string(),
                count: found.len(),
            }
            .into());
        }
    }
    Ok(job)
}

/// [`prepare`] for every spec file, in order.
pub(crate) fn prepare_all(
    paths: &[std::path::PathBuf],
    options: &LoadOptions,
    printer: &Printer,
    lints: Lints,
) -> anyhow::Result<Vec<BuildJob>> {
    paths
        .iter()
        .map(|p| prepare(p, options, printer, lints))
        .collect()
}

/// One finding: `file:line: field `x` [code]: message`, then `  instead: fix`.
pub(crate) fn lint_line(path: &Path, lint: &Lint) -> String {
    let at = match lint.line {
        Some(line) => format!("{}:{line}", path.display()),
        None => path.display().to_string(),
    };
    let effect = match lint.changes_tag {
        true => "\n  (fixing it changes the tag: the image is built again under a new name)",
        false => "",
    };
    format!(
        "{at}: field `{}` [{}]: {}\n  instead: {}{effect}",
        lint.field, lint.code, lint.message, lint.fix
    )
}

/// Adds the spec file and the field's line to a spec error.
pub(crate) fn locate(
    e: imagespec_core::Error,
    spec: &Loaded,
    path: &Path,
) -> imagespec_core::Error {
    match e {
        imagespec_core::Error::Spec(se) => {
            let line = spec.origin.line_of(&se.location.field);
            imagespec_core::Error::Spec(se.in_file(&shown_path(spec, path)).at_line(line))
        }
        other => other,
    }
}

/// How messages name a spec's file: `--display-name` when given, else the path.
pub(crate) fn shown_path(spec: &Loaded, path: &Path) -> std::path::PathBuf {
    match &spec.options.display_name {
        Some(name) => std::path::PathBuf::from(name),
        None => path.to_path_buf(),
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
