//! `imagespec tag`: the image name flytekit computes.

use imagespec_core::spec::LoadOptions;

use super::{locate, prepare};
use crate::cli::TagArgs;
use crate::printer::Printer;
use crate::status::ExitStatus;

pub(crate) fn run(
    args: TagArgs,
    options: &LoadOptions,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    let job = prepare(&args.spec, options)?;
    imagespec_core::builder::check_chain(&job).map_err(|e| locate(e, &job.spec, &args.spec))?;
    let identity = &job.identity;
    // flytekit's image_name() after its engine ran: the name the spec's
    // builder answers with (noop: its base_image), else the computed name.
    let real_name = imagespec_core::builder::dependent_name(&job)
        .map_err(|e| locate(e, &job.spec, &args.spec))?;
    if args.json {
        let mut doc = serde_json::json!({
            "id": identity.id,
            "tag": identity.tag,
            "image_name": identity.image_name,
            "spec": args.spec,
            "inputs": identity.inputs,
        });
        if real_name != identity.image_name {
            doc["real_name"] = serde_json::Value::String(real_name);
        }
        printer.stdout_json(&doc)?;
    } else {
        printer.stdout_line(&real_name)?;
    }
    Ok(ExitStatus::Success)
}
