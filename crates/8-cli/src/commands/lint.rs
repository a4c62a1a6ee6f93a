//! `imagespec lint`: the YAML and flytekit traps each spec falls into.

use imagespec_engine::{Engine, EngineOptions};

use super::common::{lint_line, prepare, Configured, Lints};
use crate::cli::LintArgs;
use crate::printer::Printer;
use crate::status::ExitStatus;

pub(crate) fn run(args: LintArgs, printer: &Printer) -> crate::error::Result<ExitStatus> {
    if args.list {
        for (code, summary) in imagespec_insight::lint::CODES {
            printer.stdout_line(&format!("{code}\t{summary}"))?;
        }
        return Ok(ExitStatus::Success);
    }
    let options = args.read.load_options()?;
    let configured = Configured::registered();
    let plugins = configured.plugins()?;
    let engine = Engine::new(&plugins, EngineOptions::default(), 1);
    let mut specs = Vec::new();
    let mut total = 0;
    for path in &args.specs {
        let job = prepare(&engine, path, &options, printer, Lints::Quiet)?;
        let found = imagespec_insight::lint::lint(&job);
        total += found.len();
        if !args.json {
            for lint in &found {
                printer.stdout_line(&lint_line(
                    &super::common::shown_path(&job.spec, path),
                    lint,
                ))?;
            }
        }
        specs.push(serde_json::json!({"spec": crate::printer::path_text(path), "lints": found}));
    }
    let status = match total {
        0 => ExitStatus::Success,
        _ => ExitStatus::LintFindings,
    };
    if args.json {
        printer.stdout_json(
            status == ExitStatus::Success,
            serde_json::json!({"specs": specs}),
        )?;
    } else if total > 0 {
        printer.stderr(&format!(
            "{total} finding(s) in {} spec(s)\n",
            args.specs.len()
        ));
    }
    Ok(status)
}
