//! `imagespec explain SPEC --against OTHER`: which of the tag's inputs
//! differ from another spec file's, the same spec file's at a git revision,
//! or a pushed image's (read from its `dev.imagespec.inputs` label).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use imagespec_core::explain::{explain, TagRecord, INPUTS_LABEL};
use imagespec_core::spec::LoadOptions;

use super::{prepare, Lints};
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

pub(crate) fn run(args: ExplainArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let options = &args.read.load_options()?;
    let job = prepare(&args.spec, options, printer, Lints::Quiet)?;
    let new = TagRecord::of(&job)?;
    let old = match parse_against(&args.against) {
        Against::File(path) => TagRecord::of(&prepare(&path, options, printer, Lints::Quiet)?)?,
        Against::Git(rev) => git_record(&args.spec, &rev, options, printer)?,
        Against::Image(image) => {
            let platform = job
                .spec
                .platforms()
                .first()
                .copied()
                .unwrap_or("linux/amd64")
                .to_string();
            image_record(&image, &platform)?
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

/// The record in a pushed image's label.
fn image_record(image: &str, platform: &str) -> anyhow::Result<TagRecord> {
    #[cfg(feature = "registry")]
    imagespec_registry::validate_env()?;
    let Some(checker) = imagespec_core::existence::checker()? else {
        return Err(imagespec_core::Error::MissingPlugin {
            kind: imagespec_core::PluginKind::Checker,
            needed_for: format!("reading the labels of `{image}`"),
        }
        .into());
    };
    let labels = super::runtime()?.block_on(checker.labels(image, platform))?;
    let Some(label) = labels.get(INPUTS_LABEL) else {
        bail!("`{image}`: this image was not built by imagespec (no {INPUTS_LABEL} label)");
    };
    TagRecord::from_label(label).with_context(|| format!("`{image}`"))
}

/// The record of the spec file at git revision `rev`: the revision's tree
/// is written from its blobs as stored (no `export-subst`, no
/// `export-ignore`, no filter) into a temporary folder, removed after, and
/// the spec read from the same place in it. Its files are read there too,
/// absolute paths into the repository included, while the spec keeps the
/// paths it holds (its hash sees them as written).
fn git_record(
    spec: &Path,
    rev: &str,
    options: &LoadOptions,
    printer: &Printer,
) -> anyhow::Result<TagRecord> {
    use imagespec_core::git::Git;
    let spec_abs = spec
        .canonicalize()
        .with_context(|| format!("cannot find `{}`", spec.display()))?;
    let dir = spec_abs.parent().unwrap_or(Path::new("/"));
    let top = Git::new(dir)
        .toplevel()
        .with_context(|| format!("`{}` is not in a git work tree", spec.display()))?
        .canonicalize()?;
    let rel = spec_abs
        .strip_prefix(&top)
        .context("the spec file is not under its git work tree")?
        .to_path_buf();
    let repo = Git::new(&top);
    let commit = repo.commit(rev)?;
    let tmp = tempfile::Builder::new()
        .prefix("imagespec-explain-")
        .tempdir()
        .context("cannot create a temporary folder")?;
    let _in_progress = imagespec_core::cleanup::register(tmp.path());
    let tree = tmp.path().join("tree");
    std::fs::create_dir(&tree)?;
    repo.materialize(&commit, &tree).with_context(|| {
        format!(
            "cannot read the tree of `{}`",
            imagespec_core::safety::printable(rev)
        )
    })?;
    let old_spec = tree.join(&rel);
    if !old_spec.is_file() {
        bail!(
            "`{}` does not exist at `{}`",
            rel.display(),
            imagespec_core::safety::printable(rev)
        );
    }
    // A base dir given for the spec maps into the tree as well.
    let base_dir = options
        .base_dir
        .as_ref()
        .map(|b| match b.strip_prefix(&top) {
            Ok(rest) => tree.join(rest),
            Err(_) => b.clone(),
        });
    let options = LoadOptions {
        // Its files live in a folder that is removed: nothing to remember.
        digest_cache: None,
        base_dir,
        read_root: Some((top.clone(), tree.clone())),
        project_root: Some(tree.clone()),
        ..options.clone()
    };
    // Loaded without the trap warnings: they are about a past version.
    let job = imagespec_core::spec::load_file_with(&old_spec, &options)
        .map_err(anyhow::Error::from)
        .and_then(|spec| {
            printer
                .masker
                .add(&imagespec_core::redact::Secrets::of_spec(&spec));
            imagespec_core::builder::prepare(spec.view())
                .map_err(|e| super::locate(e, &spec, &old_spec).into())
        })
        .inspect(|job| printer.masker.add(&job.secrets()))
        .with_context(|| format!("the spec at `{}`", imagespec_core::safety::printable(rev)))?;
    Ok(TagRecord::of(&job)?)
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
