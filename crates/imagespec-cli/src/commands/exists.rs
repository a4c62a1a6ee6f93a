//! `imagespec exists`: whether each spec's image exists, asked concurrently.

use imagespec_core::existence::Existence;

use super::{locate, prepare_all, runtime, Lints};
use crate::cli::ExistsArgs;
use crate::printer::Printer;
use crate::status::ExitStatus;

pub(crate) fn run(args: ExistsArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let options = args.read.load_options()?;
    #[cfg(feature = "registry")]
    imagespec_registry::validate_env()?;
    #[cfg(feature = "docker")]
    super::configure_docker(&imagespec_docker::DockerArgs::from(args.docker.clone()))?;
    let jobs =
        args.specs
            .iter()
            .cloned()
            .zip(prepare_all(&args.specs, &options, printer, Lints::Quiet)?);
    let results = runtime()?.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for (index, (path, job)) in jobs.enumerate() {
            use tracing::Instrument;
            let span = tracing::info_span!(
                "checking",
                progress = true,
                image = %job.identity.image_name
            );
            set.spawn(
                async move {
                    let builder = imagespec_core::builder::for_spec(job.spec.view().spec)
                        .map_err(|e| locate(e, &job.spec, &path))?;
                    let existence = builder.existence(&job).await?;
                    Ok::<_, imagespec_core::Error>((
                        index,
                        path,
                        job.identity.image_name,
                        existence,
                    ))
                }
                .instrument(span),
            );
        }
        let mut out = Vec::new();
        while let Some(joined) = set.join_next().await {
            out.push(joined.map_err(|e| imagespec_core::Error::Other(e.to_string()))??);
        }
        out.sort_by_key(|r| r.0);
        Ok::<_, imagespec_core::Error>(out)
    })?;
    let (mut any_missing, mut any_unknown) = (false, false);
    let mut rows = Vec::new();
    for (_, path, image, existence) in &results {
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
