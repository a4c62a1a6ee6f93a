//! flytekit's traps: places where a spec means something else to flytekit
//! (and so to imagespec, which computes flytekit's tag) than its author most
//! likely meant. Each is a warning with the field, what flytekit does, and
//! what to write instead; `--fix-flytekit-quirks` removes most of them at the
//! price of flytekit's tags.

use serde::Serialize;

use crate::spec::{BaseImage, CopyMode, ImageSpec};
use imagespec_pycompat::PyValue;

/// One trap a spec falls into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trap {
    /// The field, as a dotted path (`base_image.source_copy_mode`).
    pub field: String,
    /// The line of the field in the spec file, when known.
    pub line: Option<usize>,
    /// What happens, and what to write instead.
    pub message: String,
}

/// The traps `spec` and its nested bases fall into.
pub fn flytekit_traps(spec: &ImageSpec) -> Vec<Trap> {
    let mut out = Vec::new();
    collect(spec, "", &mut out);
    out
}

fn collect(spec: &ImageSpec, prefix: &str, out: &mut Vec<Trap>) {
    let mut push = |field: &str, message: String| {
        out.push(Trap {
            field: format!("{prefix}{field}"),
            line: spec.line_of(field),
            message,
        })
    };
    let fix = spec.load_options().fix_flytekit_quirks;
    let mode = spec.source_copy_mode();
    if let Some(PyValue::Str(s)) = spec.source_copy_mode_raw() {
        let meant = CopyMode::parse(s);
        let message = match meant {
            Some(CopyMode::All) => format!(
                "`{s}` stays the string '{s}' when pyflyte reads YAML; flytekit copies every file for any string, \
                 so the files are the same, but the tag hashes the string, not CopyFileDetection.ALL: a Python \
                 ImageSpec(source_copy_mode=CopyFileDetection.ALL) gets another tag"
            ),
            Some(other) => format!(
                "`{s}` stays the string '{s}' when pyflyte reads YAML, and no string equals a CopyFileDetection \
                 member, so flytekit copies EVERY file under source_root (not {}); imagespec does the same to keep \
                 flytekit's tag. Remove source_root (or the field) to copy nothing, or pass --fix-flytekit-quirks \
                 to read it as the mode (the tag then differs from flytekit's)",
                match other {
                    CopyMode::NoCopy => "no files",
                    _ => "the loaded modules",
                }
            ),
            None => format!(
                "`{s}` is no copy mode; flytekit copies every file under source_root for any string. \
                 Write `all` (or remove the field)"
            ),
        };
        push("source_copy_mode", message);
    } else if let Some(v) = spec
        .source_copy_mode_raw()
        .filter(|v| CopyMode::from_py(v).is_none())
    {
        push(
            "source_copy_mode",
            format!(
                "`{}` is no copy mode; flytekit copies every file under source_root for it. Write `all`",
                v.repr()
            ),
        );
    }
    if let Some(root) = spec.source_root() {
        let relative = !root.starts_with('/');
        match mode {
            Some(CopyMode::LoadedModules) => match &spec.load_options().loaded_modules {
                None => push(
                    "source_root",
                    format!(
                        "source_root `{root}` without source_copy_mode means loaded_modules: flytekit copies the \
                         modules the process has imported from under it, and pyflyte reads the spec before it \
                         imports your workflow, so NOTHING is copied (src/ stays empty). Write \
                         `source_copy_mode: all` to copy the folder"
                    ),
                ),
                Some(_) if relative && !fix => push(
                    "source_root",
                    format!(
                        "with a relative source_root (`{root}`), flytekit's loaded_modules matches no module \
                         (os.path.commonpath cannot compare an absolute module path with a relative folder), so \
                         nothing is copied. Give source_root as an absolute path"
                    ),
                ),
                Some(_) => {}
            },
            Some(CopyMode::All) if relative && !fix => {
                let dir = spec.resolve(root);
                let mut ignores = Vec::new();
                if dir.join(".dockerignore").is_file() {
                    ignores.push(".dockerignore patterns are matched against paths that keep the `{root}/` prefix, so root-anchored patterns (`docs/`, `*.log`) match nothing, while `**/...` patterns still do");
                }
                if in_git_work_tree(&dir) {
                    ignores.push(".gitignore rules are not applied at all");
                }
                if !ignores.is_empty() {
                    push(
                        "source_root",
                        format!(
                            "with a relative source_root (`{root}`) flytekit 1.16 does not apply ignore files as \
                             intended: {}. imagespec copies what flytekit copies. Give source_root as an absolute \
                             path, or pass --fix-flytekit-quirks (the tag then differs from flytekit's)",
                            ignores.join("; ").replace("{root}", root)
                        ),
                    );
                }
            }
            _ => {}
        }
    }
    if let Some(BaseImage::Spec(base)) = spec.base_image() {
        collect(base, &format!("{prefix}base_image."), out);
    }
}

fn in_git_work_tree(dir: &std::path::Path) -> bool {
    if !crate::inputs::maybe_in_git(dir) {
        return false;
    }
    std::process::Command::new("git")
        .args(["rev-parse", "--is-inside-work-tree"])
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{load_str, SpecFormat};

    fn traps(yaml: &str) -> Vec<Trap> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/.dockerignore"), "docs/\n").unwrap();
        let spec = load_str(yaml, SpecFormat::Yaml, None, dir.path()).unwrap();
        flytekit_traps(&spec)
    }

    #[test]
    fn a_mode_string_copies_everything() {
        let t = traps("name: a\nsource_root: src\nsource_copy_mode: no_copy\n");
        assert!(t[0].message.contains("EVERY file"), "{t:?}");
        assert_eq!(t[0].field, "source_copy_mode");
        assert_eq!(t[0].line, Some(3));
    }

    #[test]
    fn loaded_modules_copies_nothing() {
        let t = traps("name: a\nsource_root: src\n");
        assert_eq!(t.len(), 1, "{t:?}");
        assert!(t[0].message.contains("NOTHING is copied"), "{t:?}");
    }

    #[test]
    fn ignore_files_under_a_relative_root() {
        let t = traps("name: a\nsource_root: src\nsource_copy_mode: all\n");
        assert!(
            t.iter().any(|t| t.message.contains("`src/` prefix")),
            "{t:?}"
        );
    }

    #[test]
    fn a_clean_spec_has_none() {
        assert!(traps("name: a\npackages: [six]\n").is_empty());
    }
}
