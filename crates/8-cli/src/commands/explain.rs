//! `imagespec explain SPEC --against OTHER`: which of the tag's inputs
//! differ from another spec file's, the same spec file's at a git revision,
//! or a pushed image's (read from its `dev.imagespec.inputs` label).

use std::path::{Path, PathBuf};

use imagespec_engine::{Engine, EngineOptions};
use imagespec_identity::record::TagRecord;
use imagespec_insight::explain::{explain, image_record, revision_record};

use super::common::{prepare, Configured, Lints};
use crate::cli::ExplainArgs;
use crate::printer::Printer;
use crate::status::ExitStatus;

/// What `--against` names.
#[derive(Debug, PartialEq, Eq)]
enum Against {
    File(PathBuf),
    Git(String),
    Image(String),
}

/// `git:REV`, `image:REF`, an existing file, else an image reference with
/// a tag or digest, else a (missing) spec file.
fn parse_against(text: &str) -> Against {
    if let Some(rev) = text.strip_prefix("git:") {
        return Against::Git(rev.to_string());
    }
    if let Some(image) = text.strip_prefix("image:") {
        return Against::Image(image.to_string());
    }
    let path = Path::new(text);
    if path.exists() || !looks_like_image(text) {
        return Against::File(path.to_path_buf());
    }
    Against::Image(text.to_string())
}

/// `[host[:port]/]path:tag` or `...@sha256:...`, in the characters image
/// references use, and not named like a spec file.
fn looks_like_image(text: &str) -> bool {
    let spec_like = [".yaml", ".yml", ".json"]
        .iter()
        .any(|ext| text.to_ascii_lowercase().ends_with(ext));
    let chars_ok = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@".contains(c));
    let last = text.rsplit('/').next().unwrap_or(text);
    let tagged = text.contains('@')
        || last
            .split_once(':')
            .is_some_and(|(name, tag)| !name.is_empty() && !tag.is_empty());
    !spec_like && chars_ok && tagged
}

pub(crate) fn run(args: ExplainArgs, printer: &Printer) -> crate::error::Result<ExitStatus> {
    let options = &args.read.load_options()?;
    let configured = match parse_against(&args.against) {
        Against::Image(_) => Configured::registered().with_registry()?,
        _ => Configured::registered(),
    };
    let plugins = configured.plugins()?;
    let engine = Engine::new(&plugins, EngineOptions::default(), 1);
    let job = prepare(&engine, &args.spec, options, printer, Lints::Quiet)?;
    let new = TagRecord::of(&job)?;
    let old = match parse_against(&args.against) {
        Against::File(path) => {
            TagRecord::of(&prepare(&engine, &path, options, printer, Lints::Quiet)?)?
        }
        // Read without the trap warnings: they are about a past version.
        Against::Git(rev) => revision_record(&engine, &args.spec, &rev, options, &printer.masker)?,
        Against::Image(image) => {
            let platform = job
                .spec
                .platforms()
                .first()
                .copied()
                .unwrap_or("linux/amd64")
                .to_string();
            super::common::runtime()?.block_on(image_record(
                &plugins.checkers,
                &image,
                &platform,
            ))?
        }
    };
    let explanation = explain(&new, &old);
    if args.json {
        printer.stdout_json(
            true,
            serde_json::json!({
                "spec": crate::printer::path_text(&args.spec),
                "against": args.against,
                "tag": explanation.tag,
                "changed": explanation.changed,
                "changes": explanation.changes,
            }),
        )?;
    } else {
        printer.stdout_line(explanation.render().trim_end())?;
    }
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn against_forms() {
        assert_eq!(parse_against("git:HEAD~1"), Against::Git("HEAD~1".into()));
        assert_eq!(
            parse_against("image:localhost:5000/x:abc"),
            Against::Image("localhost:5000/x:abc".into())
        );
        assert_eq!(
            parse_against("localhost:5000/x:abc"),
            Against::Image("localhost:5000/x:abc".into())
        );
        assert_eq!(
            parse_against("ghcr.io/o/x@sha256:0123"),
            Against::Image("ghcr.io/o/x@sha256:0123".into())
        );
        for file in ["old.yaml", "specs/old.yml", "x.json", "plain", "a b:c"] {
            assert_eq!(parse_against(file), Against::File(file.into()), "{file}");
        }
    }
}
