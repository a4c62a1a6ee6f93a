//! `imagespec`: turn an image spec into an image name, a build context, an image.
//!
//! Exit codes: 0 success, 1 failure, 2 invalid spec (or invalid command line).
//! Logs go to stderr (`-v`, `-q` or `IMAGESPEC_LOG`); stdout carries only what
//! the command was asked for.

mod cli;
mod output;
mod plugins;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    output::init_logging(args.verbose, args.quiet);
    plugins::link();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => output::report(&e),
    }
}
