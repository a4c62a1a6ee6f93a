//! `imagespec context`: the build context, written atomically into a new folder.

use std::path::Path;

use imagespec_core::context::{Materialize, WrittenContext};
use imagespec_core::knobs::PythonDefaults;
use imagespec_core::BuildJob;

use super::{locate, prepare, Lints};
use crate::cli::ContextArgs;
use crate::printer::Printer;
use crate::status::ExitStatus;

pub(crate) fn run(args: ContextArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let options = args.read.load_options()?;
    let job = prepare(
        &args.spec,
        &options,
        printer,
        Lints::strict(args.strict.strict),
    )?;
    let defaults = args.python.resolve()?;
    let how = match args.copy {
        true => Materialize::Copy,
        false => Materialize::Link,
    };
    let written = write(&job, &defaults, &args.output, &args.spec, how)?;
    if args.json {
        printer.stdout_json(
            true,
            serde_json::json!({
                "spec": crate::printer::path_text(&args.spec),
                "id": written.identity.id,
                "tag": written.identity.tag,
                "image_name": written.identity.image_name,
                "context": crate::printer::path_text(&written.dir),
                "files": written.files,
                "warnings": written.warnings,
            }),
        )?;
    } else {
        printer.stdout_line(&written.dir.display().to_string())?;
    }
    Ok(ExitStatus::Success)
}

/// Writes a job's Docker build context (whatever builder the spec names,
/// the context is a Docker one, so its checks are the Docker context's).
pub(crate) fn write(
    job: &BuildJob,
    defaults: &PythonDefaults,
    output: &Path,
    spec_file: &Path,
    how: Materialize,
) -> anyhow::Result<WrittenContext> {
    imagespec_core::builder::check_chain(job).map_err(|e| locate(e, &job.spec, spec_file))?;
    imagespec_core::builder::context_checks(job).map_err(|e| locate(e, &job.spec, spec_file))?;
    Ok(
        imagespec_core::context::write_context_with(job, defaults, output, how)
            .map_err(|e| locate(e, &job.spec, spec_file))?,
    )
}
