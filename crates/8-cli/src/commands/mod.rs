//! One module per command; each returns the [`ExitStatus`] it ends with.

mod build;
mod cache;
mod common;
mod completions;
mod context;
mod exists;
mod explain;
mod lint;
mod plugins;
mod schema;
mod tag;

use crate::cli::{Cli, Command};
use crate::printer::Printer;
use crate::status::ExitStatus;

/// Runs a parsed command line.
pub fn run(cli: Cli, printer: &Printer) -> crate::error::Result<ExitStatus> {
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
