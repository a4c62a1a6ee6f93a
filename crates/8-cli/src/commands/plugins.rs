//! `imagespec plugins`: the builders, installers and registry checkers built in.

use crate::cli::PluginsArgs;
use crate::printer::Printer;
use crate::status::ExitStatus;

pub(crate) fn run(args: PluginsArgs, printer: &Printer) -> crate::error::Result<ExitStatus> {
    let builders: Vec<serde_json::Value> = imagespec_core::builder::registry()?
        .all()
        .iter()
        .map(|r| serde_json::json!({"name": r.plugin.name(), "priority": r.priority}))
        .collect();
    let installers: Vec<serde_json::Value> = imagespec_plan::installer::registry()?
        .all()
        .iter()
        .map(|r| {
            serde_json::json!({"name": r.plugin.name(), "role": r.plugin.role(), "priority": r.priority})
        })
        .collect();
    let checkers: Vec<&str> = imagespec_core::existence::registry()?.names();
    if args.json {
        printer.stdout_json(
            true,
            serde_json::json!({
                "builders": builders,
                "installers": installers,
                "checkers": checkers,
            }),
        )?;
    } else {
        for b in &builders {
            printer.stdout_line(&format!(
                "builder\t{}\t{}",
                b["name"].as_str().unwrap_or(""),
                b["priority"]
            ))?;
        }
        for i in &installers {
            printer.stdout_line(&format!(
                "installer\t{}\t{}\t{}",
                i["name"].as_str().unwrap_or(""),
                i["role"].as_str().unwrap_or(""),
                i["priority"]
            ))?;
        }
        for c in &checkers {
            printer.stdout_line(&format!("checker\t{c}"))?;
        }
    }
    Ok(ExitStatus::Success)
}
