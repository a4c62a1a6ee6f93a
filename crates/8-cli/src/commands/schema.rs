//! `imagespec schema`: the JSON Schema of a spec file, for editors.

use crate::printer::Printer;
use crate::status::ExitStatus;

pub(crate) fn run(printer: &Printer) -> crate::error::Result<ExitStatus> {
    let schema = crate::fields::json_schema();
    printer.stdout_line(&serde_json::to_string_pretty(&schema)?)?;
    Ok(ExitStatus::Success)
}
