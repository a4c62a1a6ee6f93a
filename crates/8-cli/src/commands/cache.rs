//! `imagespec cache prune|clean`: the cache folder, bounded or emptied.

use imagespec_context::cache::{
    cache_dir, existence_file, prune_contexts, prune_locks, records_dir, Bounds,
};

use crate::cli::{CacheArgs, CacheCommand};
use crate::error::CliError;
use crate::printer::Printer;
use crate::status::{ExitStatus, UsageError};

pub(crate) fn run(command: CacheCommand, printer: &Printer) -> crate::error::Result<ExitStatus> {
    let cache = cache_dir()?;
    let (args, clean) = match &command {
        CacheCommand::Prune(a) => (a, false),
        CacheCommand::Clean(a) => (a, true),
    };
    let bounds = match clean {
        true => {
            if args.max_contexts.is_some()
                || args.max_bytes.is_some()
                || args.max_age_days.is_some()
            {
                return Err(UsageError(
                    "`cache clean` removes everything; bounds are for `cache prune`".into(),
                )
                .into());
            }
            Bounds {
                contexts: 0,
                bytes: 0,
                age: std::time::Duration::ZERO,
            }
        }
        false => bounds(args),
    };
    let pruned = prune_contexts(&cache, bounds)?;
    // A lock nobody holds is made again by its image's next build.
    let locks = prune_locks(&cache)?;
    let mut digests = false;
    let (mut remembered, mut records) = (0, 0);
    if clean {
        let dir = cache.join(imagespec_inputs::STAT_CACHE_DIR);
        // Only a folder of imagespec's own (never a link, or another user's).
        if imagespec_core::fsx::is_private_dir(&dir) {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| CliError::io(format!("cannot remove `{}`", dir.display()), e))?;
            digests = true;
        }
        let existence = existence_file(&cache);
        if existence.exists() {
            // Emptied, not removed: a build running now keeps it open.
            remembered = imagespec_engine::Remembered::new(imagespec_engine::RememberOptions {
                path: existence,
                ttl: imagespec_engine::DEFAULT_TTL,
                refresh: false,
            })
            .forget_all()
            .unwrap_or(0);
        }
        records = imagespec_engine::push::forget_records(&records_dir(&cache))?;
    }
    if args.json {
        printer.stdout_json(
            true,
            serde_json::json!({
                "cache": crate::printer::path_text(&cache),
                "removed": {
                    "contexts": pruned.contexts,
                    "bytes": pruned.bytes,
                    "digests": digests,
                    "locks": locks,
                    "remembered": remembered,
                    "push_records": records,
                },
                "kept": {"contexts": pruned.kept, "bytes": pruned.kept_bytes},
            }),
        )?;
    } else {
        let mut also = Vec::new();
        if digests {
            also.push("the digest caches".to_string());
        }
        if clean {
            also.push(format!("{remembered} remembered existence answer(s)"));
            also.push(format!("{records} source-push record(s)"));
        }
        also.push(format!("{locks} unused lock(s)"));
        printer.stdout_line(&format!(
            "removed {} build context(s), {} bytes, {}; kept {} ({} bytes) in {}",
            pruned.contexts,
            pruned.bytes,
            also.join(", "),
            pruned.kept,
            pruned.kept_bytes,
            cache.display()
        ))?;
    }
    Ok(ExitStatus::Success)
}

fn bounds(args: &CacheArgs) -> Bounds {
    let d = Bounds::default();
    Bounds {
        contexts: args.max_contexts.unwrap_or(d.contexts),
        bytes: args.max_bytes.unwrap_or(d.bytes),
        age: args
            .max_age_days
            .map(|days| std::time::Duration::from_secs(days.saturating_mul(24 * 3600)))
            .unwrap_or(d.age),
    }
}
