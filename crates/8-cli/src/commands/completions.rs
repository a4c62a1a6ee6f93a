//! `imagespec completions SHELL`: a completion script (clap_complete).

use crate::cli::CompletionsArgs;
use crate::printer::Printer;
use crate::status::ExitStatus;

pub(crate) fn run(args: CompletionsArgs, printer: &Printer) -> crate::error::Result<ExitStatus> {
    let mut command = crate::cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "imagespec", &mut script);
    printer.stdout_line(String::from_utf8_lossy(&script).trim_end())?;
    Ok(ExitStatus::Success)
}
