//! `imagespec`: turn an image spec into an image name, a build context, an image.
//!
//! Exit codes: 0 success, 1 failure, 2 invalid spec (or invalid command line);
//! `exists` adds 3 (an image is missing) and 4 (a check could not tell).
//! Logs go to stderr (`-v`, `-q` or `IMAGESPEC_LOG`); stdout carries only what
//! the command was asked for.
//!
//! The command line is a library too: a crate that registers its own builders
//! or installers with `inventory::submit!` makes its own binary whose `main`
//! calls [`main`] (see `examples/custom-builder`).

mod cli;
mod output;
mod plugins;

use std::process::ExitCode;

use clap::Parser;

/// Runs the `imagespec` command line with the plugins this crate's features
/// enable, plus any registered by the crates linked into the calling binary.
pub fn main() -> ExitCode {
    let args = cli::Cli::parse();
    output::init_logging(args.verbose, args.quiet);
    plugins::link();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => output::report(&e),
    }
}
