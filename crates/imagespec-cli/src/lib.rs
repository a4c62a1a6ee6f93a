//! `imagespec`: turn an image spec into an image name, a build context, an image.
//!
//! Exit codes: 0 success, 1 failure, 2 invalid spec (or invalid command line);
//! `exists` adds 3 (an image is missing) and 4 (a check could not tell).
//! Logs go to stderr (`-v`, `-q` or `IMAGESPEC_LOG`); stdout carries only what
//! the command was asked for.
//!
//! One module per command ([`commands`]); [`printer::Printer`] is everything
//! printed; [`status::ExitStatus`] is how the program ends.
//!
//! The command line is a library too: a crate that registers its own builders
//! or installers with `inventory::submit!` makes its own binary whose `main`
//! calls [`main`] (see `examples/custom-builder`).

mod cli;
mod commands;
mod plugins;
pub mod printer;
pub mod status;

use std::process::ExitCode;

use clap::Parser;

/// Runs the `imagespec` command line with the plugins this crate's features
/// enable, plus any registered by the crates linked into the calling binary.
pub fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let printer = printer::Printer {
        quiet: args.quiet,
        verbose: args.verbose,
    };
    printer.init_logging();
    plugins::link();
    // SIGINT, SIGTERM: remove what is half-written, then end as interrupted.
    let _ = ctrlc::set_handler(|| {
        imagespec_core::cleanup::remove_all();
        std::process::exit(130);
    });
    match commands::run(args, printer) {
        Ok(status) => status.into(),
        Err(e) => {
            printer.report(&e);
            status::ExitStatus::of_error(&e).into()
        }
    }
}
