//! `imagespec context`: the build context, written atomically into a new folder.

use imagespec_context::Materialize;
use imagespec_engine::{Engine, EngineOptions};

use super::common::{prepare, Configured, Lints};
use crate::cli::ContextArgs;
use crate::printer::Printer;
use crate::status::ExitStatus;

pub(crate) fn run(args: ContextArgs, printer: &Printer) -> crate::error::Result<ExitStatus> {
    let options = args.read.load_options()?;
    let configured = Configured::registered();
    let plugins = configured.plugins()?;
    let engine = Engine::new(
        &plugins,
        EngineOptions {
            defaults: args.python.defaults(),
            ..EngineOptions::default()
        },
        1,
    );
    let job = prepare(
        &engine,
        &args.spec,
        &options,
        printer,
        Lints::strict(args.strict.strict),
    )?;
    let how = match args.copy {
        true => Materialize::Copy,
        false => Materialize::Link,
    };
    // Whatever builder the spec names, the context is a Docker one, so its
    // checks are the Docker context's.
    let written = engine.write_context(&job, &args.output, how)?;
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
