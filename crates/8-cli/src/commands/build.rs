//! `imagespec build`: every spec and its nested bases as one graph, each
//! image once, bases first, up to `-j N` at once.

use imagespec_context::prepare::ContextOptions;
use imagespec_core::existence::Policy;
use imagespec_engine::{Action, Engine, EngineOptions, Report, Shown, SourcePush};
use imagespec_identity::BuildJob;

use super::common::{
    env_flag, prepare_all, push_from_env, runtime, Configured, Lints, ENV_FAST_FAIL, ENV_FORCE_PUSH,
};
use crate::cli::{BuildArgs, Show};
use crate::printer::Printer;
use crate::status::{ExitStatus, UsageError};

/// The tag of each repository's shared build, when `--registry-cache`
/// shares it (the engine-free source push may start from it).
fn shared_tag(args: &BuildArgs) -> Option<String> {
    #[cfg(feature = "docker")]
    if args.docker.registry_cache {
        return Some(imagespec_core::builder::SHARED_BUILD_TAG.to_string());
    }
    let _ = args;
    None
}

pub(crate) fn run(args: BuildArgs, printer: &Printer) -> crate::error::Result<ExitStatus> {
    if (args.context_only || args.keep_context.is_some()) && args.specs.len() != 1 {
        return Err(
            UsageError("--context-only and --keep-context take exactly one spec".into()).into(),
        );
    }
    let options = args.read.load_options()?;
    #[allow(unused_mut)]
    let mut builder = args.builder.clone();
    // `--registry-cache` is the Docker builder's; podman is told, to refuse it.
    #[cfg(all(feature = "docker", feature = "podman"))]
    {
        builder.podman.registry_cache = args.docker.registry_cache;
    }
    let configured = Configured::registered()
        .with_registry()?
        .with_builder(&builder)?;
    #[cfg(feature = "docker")]
    let configured = configured.with_docker(&args.docker)?;
    let plugins = configured.plugins()?;
    let cache = imagespec_context::cache::cache_dir()?;
    let engine_options = EngineOptions {
        push: !args.no_push && push_from_env(),
        defaults: args.python.defaults(),
        context: ContextOptions {
            keep_context: args.keep_context.clone(),
            cache: Some(cache.clone()),
        },
        policy: Policy {
            force_push: args.force_push || env_flag(ENV_FORCE_PUSH),
            fast_fail: args.fast_fail || env_flag(ENV_FAST_FAIL),
            assume_exists_when_unknown: args.assume_exists_when_unknown,
        },
        quiet: printer.quiet,
        lock_dir: Some(imagespec_context::cache::lock_dir(&cache)),
        source_push: Some(SourcePush {
            records: imagespec_context::cache::records_dir(&cache),
            max_layers: args.max_source_layers,
            epoch: source_date_epoch()?,
            engine_only: args.engine,
            shared_tag: shared_tag(&args),
        }),
        remember: args.remember.options(&cache),
    };
    let parallel = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let engine = Engine::new(&plugins, engine_options, parallel);
    let jobs = prepare_all(
        &engine,
        &args.specs,
        &options,
        printer,
        Lints::strict(args.strict.strict),
    )?;
    if let Some(expected) = &args.expect_image_name {
        expect_name(&engine, &jobs, expected)?;
    }
    if args.context_only {
        return context_only(&args, &engine, &jobs[0], printer);
    }

    let runtime = runtime()?;
    // Every spec and nested base is checked first: an invalid one is an
    // error (exit 2) and nothing is built.
    let report = runtime.block_on(engine.run(&jobs, args.dry_run))?;
    if imagespec_core::cleanup::interrupted() {
        // The signal handler reports and exits (130); what failed because
        // of the interruption is not a failure to report.
        return Ok(ExitStatus::Failure);
    }
    printer.stderr(&format!("\n{}", report.table()));
    let shown = match args.show.is_empty() {
        true => None,
        false => Some(runtime.block_on(show(&args.show, &engine, &jobs, &report))?),
    };
    // Each failure once, on stderr (the JSON document holds them too).
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
    let status = if report.ok() {
        ExitStatus::Success
    } else if invalid_spec {
        ExitStatus::InvalidSpec
    } else {
        ExitStatus::Failure
    };
    if args.json {
        let mut images = serde_json::to_value(&report.entries)?;
        if let (Some(shown), Some(list)) = (&shown, images.as_array_mut()) {
            for (entry, extra) in list.iter_mut().zip(shown) {
                entry["dockerfile"] = serde_json::json!(extra.dockerfile);
                entry["commands"] = serde_json::json!(extra.commands);
            }
        }
        let lints: Vec<serde_json::Value> = jobs
            .iter()
            .zip(&args.specs)
            .map(|(job, path)| {
                serde_json::json!({
                    "spec": crate::printer::path_text(&super::common::shown_path(&job.spec, path)),
                    "lints": imagespec_insight::lint::lint(job),
                })
            })
            .collect();
        let mut body =
            serde_json::json!({"dry_run": args.dry_run, "images": images, "lints": lints});
        if status != ExitStatus::Success {
            let failed: Vec<String> = report
                .entries
                .iter()
                .filter(|e| matches!(e.action, Action::Failed | Action::NotAttempted))
                .map(|e| format!("{}: {}", e.image_name, e.reason))
                .collect();
            body["error"] = crate::printer::error_json(
                status,
                &format!(
                    "{} of {} image(s) failed or were not attempted:\n{}",
                    failed.len(),
                    report.entries.len(),
                    failed.join("\n")
                ),
                Vec::new(),
                None,
            );
        }
        printer.stdout_json(status == ExitStatus::Success, body)?;
    } else {
        print_plain(&args, &report, shown.as_deref(), printer)?;
    }
    Ok(status)
}

/// `--expect-image-name`: the one spec's image name (or the real name its
/// builder answers with) must be the caller's, or nothing is built.
fn expect_name(engine: &Engine<'_>, jobs: &[BuildJob], expected: &str) -> crate::error::Result<()> {
    let [job] = jobs else {
        return Err(UsageError("--expect-image-name takes exactly one spec".into()).into());
    };
    let real = engine.dependent_name(job)?;
    if job.identity.image_name == expected || real == expected {
        return Ok(());
    }
    let e = imagespec_core::SpecError::field(
        "tag",
        format!(
            "image tag changed: the caller names this spec `{expected}`, and its content gives `{}`; \
             not building, since the image would not be found under the caller's name",
            job.identity.image_name
        ),
    )
    .hint("if the spec's files changed since the caller computed the name, run again; else report it with the spec");
    Err(job.spec.locate(e.into()).into())
}

/// `--context-only`: the `context` command, into a kept folder, in the build shape.
fn context_only(
    args: &BuildArgs,
    engine: &Engine<'_>,
    job: &BuildJob,
    printer: &Printer,
) -> crate::error::Result<ExitStatus> {
    let dir = match &args.keep_context {
        Some(dir) => dir.clone(),
        None => tempfile::Builder::new()
            .prefix("imagespec-context-")
            .tempdir()
            .map_err(|e| crate::error::CliError::io("cannot create a temporary folder", e))?
            .keep()
            .join(&job.identity.tag),
    };
    let written = engine.write_context(job, &dir, imagespec_context::Materialize::Copy)?;
    if args.json {
        printer.stdout_json(
            true,
            serde_json::json!({
                "dry_run": false,
                "images": [{
                    "image_name": job.identity.image_name,
                    "requested": true,
                    "action": "context_only",
                    "reason": "--context-only: the context was written and kept; nothing was built",
                    "builder": null,
                    "pushed": false,
                    "context": crate::printer::path_text(&written.dir),
                    "time": 0.0,
                }],
            }),
        )?;
    } else {
        printer.stdout_line(&written.dir.display().to_string())?;
    }
    Ok(ExitStatus::Success)
}

/// The Dockerfile and builder commands of every image of the report, in its order.
async fn show(
    what: &[Show],
    engine: &Engine<'_>,
    jobs: &[BuildJob],
    report: &Report,
) -> crate::error::Result<Vec<Shown>> {
    let all: Vec<&BuildJob> = jobs.iter().flat_map(|j| j.chain()).collect();
    let mut out = Vec::new();
    for entry in &report.entries {
        let shown = match all
            .iter()
            .find(|j| j.identity.image_name == entry.image_name)
        {
            Some(job) => {
                engine
                    .show(
                        job,
                        what.contains(&Show::Dockerfile),
                        what.contains(&Show::Command),
                    )
                    .await?
            }
            None => Shown::default(),
        };
        out.push(shown);
    }
    Ok(out)
}

/// stdout without `--json`: the names (dry run: every image, nested bases
/// too, with its action and reason), and what `--show` asked for.
fn print_plain(
    args: &BuildArgs,
    report: &Report,
    shown: Option<&[Shown]>,
    printer: &Printer,
) -> crate::error::Result<()> {
    if !args.dry_run {
        for e in report.requested() {
            let name = e.real_name.as_deref().unwrap_or(&e.image_name);
            if !matches!(e.action, Action::Failed | Action::NotAttempted) {
                printer.stdout_line(name)?;
            }
        }
        return Ok(());
    }
    for (i, e) in report.entries.iter().enumerate() {
        let name = e.real_name.as_deref().unwrap_or(&e.image_name);
        let role = match e.requested {
            true => "",
            false => " (nested base)",
        };
        printer.stdout_line(&format!("{name}\t{}\t{}{role}", e.summary(), e.reason))?;
        if let Some(extra) = shown.and_then(|s| s.get(i)) {
            if let Some(dockerfile) = &extra.dockerfile {
                printer.stdout_line(&format!("--- Dockerfile of {name}"))?;
                printer.stdout_line(dockerfile.trim_end())?;
            }
            if let Some(commands) = &extra.commands {
                printer.stdout_line(&format!("--- commands for {name}"))?;
                for c in commands {
                    printer.stdout_line(c)?;
                }
            }
        }
    }
    Ok(())
}

/// `SOURCE_DATE_EPOCH`, when set: the time of every entry of a layer pushed
/// without an engine, and of its image.
fn source_date_epoch() -> crate::error::Result<Option<u64>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Err(_) => Ok(None),
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => v.trim().parse().map(Some).map_err(|_| {
            UsageError(format!(
                "SOURCE_DATE_EPOCH `{}` is not a number of seconds",
                imagespec_core::text::single_line(&v)
            ))
            .into()
        }),
    }
}
