//! `imagespec tag`: the image name flytekit computes.

use imagespec_engine::{Engine, EngineOptions};

use super::common::{prepare, Configured, Lints};
use crate::cli::TagArgs;
use crate::printer::Printer;
use crate::status::ExitStatus;

pub(crate) fn run(args: TagArgs, printer: &Printer) -> crate::error::Result<ExitStatus> {
    let options = args.read.load_options()?;
    let configured = Configured::registered();
    let plugins = configured.plugins()?;
    let engine = Engine::new(&plugins, EngineOptions::default(), 1);
    let job = prepare(
        &engine,
        &args.spec,
        &options,
        printer,
        Lints::strict(args.strict.strict),
    )?;
    // What only a build refuses (cuda, the lock-file rules, python_exec with
    // conda, a copy entry outside the context) does not stop flytekit's
    // `image_name()`: the name is printed, with the reason it cannot be built.
    let mut warnings = Vec::new();
    match engine.check(&job) {
        Ok(()) => {}
        Err(e @ imagespec_core::Error::Spec(_)) => {
            printer.warning(&format!(
                "{e}\n  (flytekit names this spec; it cannot be built as it is)"
            ));
            warnings.push(e.to_string());
        }
        Err(e) => return Err(e.into()),
    }
    let identity = &job.identity;
    // flytekit's image_name() after its engine ran: the name the spec's
    // builder answers with (noop: its base_image), else the computed name.
    let real_name = engine
        .dependent_name(&job)
        .map_err(|e| job.spec.locate(e))?;
    if args.json {
        let mut doc = serde_json::json!({
            "spec": crate::printer::path_text(&args.spec),
            "id": identity.id,
            "tag": identity.tag,
            "image_name": identity.image_name,
            "real_name": null,
            "spec_id": identity.spec_id,
            "inputs": identity.inputs,
            "build_refused": warnings,
        });
        if real_name != identity.image_name {
            doc["real_name"] = serde_json::Value::String(real_name);
        }
        printer.stdout_json(true, doc)?;
    } else {
        printer.stdout_line(&real_name)?;
    }
    Ok(ExitStatus::Success)
}
