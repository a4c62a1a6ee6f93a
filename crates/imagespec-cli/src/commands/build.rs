//! `imagespec build`: every spec and its nested bases as one graph, each
//! image once, bases first, up to `-j N` at once.

use imagespec_core::builder::BuildOptions;
use imagespec_core::engine::{Action, Engine};
use imagespec_core::existence::{env_flag, ENV_FAST_FAIL, ENV_FORCE_PUSH};
use imagespec_core::spec::LoadOptions;

use super::{locate, prepare_all, runtime};
use crate::cli::BuildArgs;
use crate::printer::Printer;
use crate::status::ExitStatus;

pub(crate) fn run(
    args: BuildArgs,
    options: &LoadOptions,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    #[cfg(feature = "registry")]
    imagespec_registry::validate_env()?;
    #[cfg(feature = "docker")]
    super::configure_docker(&args.docker)?;
    let jobs = prepare_all(&args.specs, options)?;
    // Every spec (and nested base) must name a builder this program has, and
    // pass its checks, before anything is built.
    for (job, path) in jobs.iter().zip(&args.specs) {
        for j in job.chain() {
            imagespec_core::builder::for_spec(&j.spec).map_err(|e| locate(e, &job.spec, path))?;
        }
        imagespec_core::builder::check_chain(job).map_err(|e| locate(e, &job.spec, path))?;
    }
    if (args.context_only || args.keep_context.is_some()) && jobs.len() != 1 {
        anyhow::bail!("--context-only and --keep-context take exactly one spec");
    }
    let defaults = args.python.resolve()?;

    if args.context_only {
        // The `context` command, into a kept folder.
        let job = &jobs[0];
        let dir = match &args.keep_context {
            Some(dir) => dir.clone(),
            None => tempfile::Builder::new()
                .prefix("imagespec-context-")
                .tempdir()?
                .keep()
                .join(&job.identity.tag),
        };
        let written = super::context::write(
            job,
            &defaults,
            &dir,
            &args.specs[0],
            imagespec_core::context::Materialize::Copy,
        )?;
        if args.json {
            printer.stdout_json(&serde_json::json!({
                "image_name": job.identity.image_name,
                "context": written.dir,
            }))?;
        } else {
            printer.stdout_line(&written.dir.display().to_string())?;
        }
        return Ok(ExitStatus::Success);
    }

    let build_options = BuildOptions {
        push: !args.no_push && BuildOptions::push_from_env(),
        defaults,
        keep_context: args.keep_context.clone(),
        force_push: args.force_push || env_flag(ENV_FORCE_PUSH),
        fast_fail: args.fast_fail || env_flag(ENV_FAST_FAIL),
        assume_exists_when_unknown: args.assume_exists_when_unknown,
        quiet: printer.quiet,
        lock_dir: Some(imagespec_core::cache::lock_dir(
            &imagespec_core::cache::cache_dir()?,
        )),
    };
    let parallel = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let engine = Engine::registered(build_options, parallel)?;
    let report = runtime()?.block_on(engine.run(&jobs, args.dry_run))?;
    printer.stderr(&format!("\n{}", report.table()));
    if args.json {
        printer.stdout_json(&serde_json::json!({"ok": report.ok(), "images": report.entries}))?;
    } else {
        for e in report.requested() {
            let name = e.real_name.as_deref().unwrap_or(&e.image_name);
            if args.dry_run {
                printer.stdout_line(&format!("{name}\t{}\t{}", e.action.label(), e.reason))?;
            } else if !matches!(e.action, Action::Failed | Action::NotAttempted) {
                printer.stdout_line(name)?;
            }
        }
    }
    for e in report
        .entries
        .iter()
        .filter(|e| matches!(e.action, Action::Failed | Action::NotAttempted))
    {
        let hint = e
            .error
            .as_ref()
            .and_then(|f| crate::plugins::feature_hint(&f.0))
            .map(|h| format!("\n  hint: {h}"))
            .unwrap_or_default();
        printer.error(&format!("{}: {}{hint}", e.image_name, e.reason));
    }
    let invalid_spec = report
        .entries
        .iter()
        .any(|e| e.error.as_ref().is_some_and(|f| f.0.is_invalid_spec()));
    Ok(if report.ok() {
        ExitStatus::Success
    } else if invalid_spec {
        ExitStatus::InvalidSpec
    } else {
        ExitStatus::Failure
    })
}
