//! flytekit's traps, as the CLI has warned about them: the [`crate::lint`]
//! lints of the spec itself that flytekit's reading of plain YAML causes
//! (YAML 1.1 scalars, `source_copy_mode` strings, loaded modules, ignore
//! files under a relative source_root), each as one message. A thin view
//! kept for the CLI until it reports lints itself.

use serde::Serialize;

use crate::lint::lint_spec;
use crate::spec::ImageSpec;

/// The lint codes that are flytekit's traps (and were warnings before lints).
pub const TRAP_CODES: [&str; 10] = [
    "python-version-float",
    "python-version-type",
    "yaml11-bool",
    "yaml11-octal",
    "yaml11-other",
    "source-copy-mode-string",
    "source-copy-mode-value",
    "loaded-modules-copies-nothing",
    "loaded-modules-relative-root",
    "relative-source-root-ignores",
];

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
    lint_spec(spec)
        .into_iter()
        .filter(|l| TRAP_CODES.contains(&l.code))
        .map(|l| {
            let mut fix = l.fix.chars();
            let fix = match fix.next() {
                Some(first) => first.to_uppercase().chain(fix).collect::<String>(),
                None => String::new(),
            };
            Trap {
                field: l.field,
                line: l.line,
                message: format!("{}. {fix}", l.message),
            }
        })
        .collect()
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
        let t: Vec<&Trap> = t.iter().filter(|t| t.field == "source_copy_mode").collect();
        assert!(t[0].message.contains("EVERY file"), "{t:?}");
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
    fn yaml_scalars_are_traps_too() {
        let t = traps("name: a\npython_version: 3.10\nenv:\n  FLAG: yes\n  PORT: 8080\n");
        let fields: Vec<&str> = t.iter().map(|t| t.field.as_str()).collect();
        assert_eq!(fields, ["python_version", "env.FLAG"], "{t:?}");
        assert_eq!(t[1].line, Some(4));
    }

    #[test]
    fn a_clean_spec_has_none() {
        assert!(traps("name: a\npackages: [six]\n").is_empty());
    }
}
