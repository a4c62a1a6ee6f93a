//! `imagespec`: turn an image spec into an image name, a build context, an image.
//!
//! Exit codes: 0 success, 1 failure, 2 invalid spec, 3 (`exists`) an image
//! is missing, 4 (`exists`) a check could not tell, 5 lint findings (`lint`,
//! or `--strict`), 64 usage error, 130 interrupted. Logs go to stderr (`-v`,
//! `-q` or `IMAGESPEC_LOG`); stdout carries only what the command was asked
//! for. With `--json`, a failure is a JSON error object on stdout too.
//!
//! One module per command ([`commands`]); [`printer::Printer`] is everything
//! printed; [`status::ExitStatus`] is how the program ends.
//!
//! The command line is a library too: a crate that registers its own builders
//! or installers with `inventory::submit!` makes its own binary whose `main`
//! calls [`main`] (see `examples/custom-builder`).

mod cli;
mod commands;
mod diagnostic;
pub mod error;
pub mod fields;
mod plugins;
pub mod printer;
mod progress;
pub mod status;
mod style;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

pub use cli::EXIT_CODES;

pub use cli::command;

/// Runs the `imagespec` command line with the plugins this crate's features
/// enable, plus any registered by the crates linked into the calling binary.
pub fn main() -> ExitCode {
    plugins::link();
    let long_version = plugins::long_version();
    let color = cli::ColorChoice::from_args(std::env::args_os());
    let command = cli::Cli::command()
        .long_version(long_version)
        .color(match color.enabled() {
            true => clap::ColorChoice::Always,
            false => clap::ColorChoice::Never,
        });
    let args = match command
        .try_get_matches()
        .and_then(|m| cli::Cli::from_arg_matches(&m))
    {
        Ok(args) => args,
        Err(e) => return usage_error(e),
    };
    let printer = printer::Printer {
        quiet: args.quiet,
        verbose: args.verbose,
        color: args.color.enabled(),
        json: args.command.json(),
        command: args.command.name(),
        masker: Default::default(),
    };
    printer.init_logging();
    // SIGINT, SIGTERM: remove what is half-written, then end as interrupted.
    let _ = ctrlc::set_handler(|| {
        imagespec_core::cleanup::remove_all();
        std::process::exit(130);
    });
    let result = commands::run(args, &printer);
    // Interrupted: what failed because of it (a build whose docker was
    // ended) is not reported; the handler removes what was half-written and
    // exits with 130.
    if imagespec_core::cleanup::interrupted() {
        std::thread::sleep(std::time::Duration::from_secs(30));
        return ExitCode::from(130);
    }
    match result {
        Ok(status) => status.into(),
        Err(e) => {
            printer.report(&e);
            e.status().into()
        }
    }
}

/// `--help` and `--version` end with 0; anything else clap refuses is a
/// usage error (64), as JSON too when `--json` was on the command line.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return match e.kind() {
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => status::ExitStatus::Usage.into(),
            _ => ExitCode::SUCCESS,
        };
    }
    let _ = e.print();
    let argv: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if argv.iter().any(|a| a == "--json") {
        let command = argv
            .iter()
            .find(|a| !a.starts_with('-'))
            .map(String::as_str)
            .unwrap_or("");
        let rendered = e.render().to_string();
        let message = rendered
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("error: ")
            .to_string();
        printer::print_usage_error_json(command, &message);
    }
    status::ExitStatus::Usage.into()
}
