//! `imagespec exists`: whether each spec's image exists, asked concurrently.

use imagespec_core::existence::Existence;

use imagespec_engine::{Engine, EngineOptions};

use super::common::{prepare_all, runtime, Configured, Lints};
use crate::cli::ExistsArgs;
use crate::printer::Printer;
use crate::status::ExitStatus;

pub(crate) fn run(args: ExistsArgs, printer: &Printer) -> crate::error::Result<ExitStatus> {
    let options = args.read.load_options()?;
    let configured = Configured::registered()
        .with_registry()?
        .with_builder(&args.builder)?;
    #[cfg(feature = "docker")]
    let configured =
        configured.with_docker(&imagespec_docker::DockerArgs::from(args.docker.clone()))?;
    let plugins = configured.plugins()?;
    let cache = imagespec_context::cache::cache_dir()?;
    let engine_options = EngineOptions {
        remember: args.remember.options(&cache),
        ..EngineOptions::default()
    };
    let engine = Engine::new(&plugins, engine_options, 1);
    let jobs = prepare_all(&engine, &args.specs, &options, printer, Lints::Quiet)?;
    let answers = runtime()?.block_on(engine.exists(&jobs));
    let mut results = Vec::new();
    for ((path, job), answer) in args.specs.iter().zip(&jobs).zip(answers) {
        results.push((path, &job.identity.image_name, answer?));
    }
    let (mut any_missing, mut any_unknown) = (false, false);
    let mut rows = Vec::new();
    for (path, image, existence) in &results {
        let reason = match existence {
            Existence::Missing { reason, .. } => {
                any_missing = true;
                Some(reason.clone())
            }
            Existence::Unknown { reason } => {
                any_unknown = true;
                Some(reason.clone())
            }
            Existence::Exists { .. } => None,
        };
        rows.push(serde_json::json!({
            "spec": crate::printer::path_text(path),
            "image_name": image,
            "status": existence.status(),
            "digest": existence.digest(),
            "reason": reason,
        }));
        if !args.json {
            let detail = existence
                .digest()
                .map(str::to_string)
                .or(reason)
                .unwrap_or_default();
            printer.stdout_line(&format!("{image}\t{}\t{detail}", existence.status()))?;
        }
    }
    let status = if any_unknown {
        ExitStatus::Unknown
    } else if any_missing {
        ExitStatus::Missing
    } else {
        ExitStatus::Success
    };
    if args.json {
        printer.stdout_json(
            status == ExitStatus::Success,
            serde_json::json!({"images": rows}),
        )?;
    }
    Ok(status)
}
