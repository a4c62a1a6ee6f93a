//! `imagespec exists`: whether each spec's image exists, asked concurrently.

use imagespec_core::existence::Existence;
use imagespec_core::spec::LoadOptions;

use super::{locate, prepare_all, runtime};
use crate::cli::ExistsArgs;
use crate::printer::Printer;
use crate::status::ExitStatus;

pub(crate) fn run(
    args: ExistsArgs,
    options: &LoadOptions,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    #[cfg(feature = "registry")]
    imagespec_registry::validate_env()?;
    #[cfg(feature = "docker")]
    super::configure_docker(&args.docker)?;
    let jobs = args
        .specs
        .iter()
        .cloned()
        .zip(prepare_all(&args.specs, options)?);
    let results = runtime()?.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for (index, (path, job)) in jobs.enumerate() {
            set.spawn(async move {
                let builder = imagespec_core::builder::for_spec(&job.spec)
                    .map_err(|e| locate(e, &job.spec, &path))?;
                let existence = builder.existence(&job).await?;
                Ok::<_, imagespec_core::Error>((index, path, job.identity.image_name, existence))
            });
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
            "spec": path,
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
    if args.json {
        printer.stdout_json(&rows)?;
    }
    Ok(if any_unknown {
        ExitStatus::Unknown
    } else if any_missing {
        ExitStatus::Missing
    } else {
        ExitStatus::Success
    })
}
