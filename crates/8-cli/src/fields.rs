//! What each field means: what flytekit does with it and what imagespec
//! adds. The core's field table ([`FIELDS`](imagespec_core::spec::FIELDS))
//! says what a field holds and how the tag sees it; this adds the meaning.
//! From the two come the JSON Schema (`imagespec schema`,
//! `docs/spec.schema.json`) and the field section of
//! `docs/spec-reference.md`; a test checks that both list the same fields in
//! the same order. The meanings live here, not in the core, because what
//! flytekit does with a field names the tools it uses (uv, micromamba), and
//! the core names no plugin.

use imagespec_core::spec::{field, Field};
use serde_json::{json, Value};

/// One field's meaning.
#[derive(Debug, Clone, Copy)]
pub struct FieldDoc {
    /// The field's name.
    pub name: &'static str,
    /// Its type in a typed dump (`yaml.dump(image_spec)`), when that differs.
    pub typed: Option<&'static str>,
    /// What flytekit does with it.
    pub flytekit: &'static str,
    /// What imagespec checks or adds (extensions are named as such).
    pub imagespec: &'static str,
    /// Schema keywords added to what the field's kind gives (examples,
    /// defaults, known keys).
    refine: Option<fn() -> Value>,
}

/// Every field, in flytekit's declaration order.
pub const FIELD_DOCS: &[FieldDoc] = &[
    FieldDoc {
        name: "name",
        typed: None,
        flytekit: "The image's repository name; lower-cased by `__post_init__`. Default `flytekit`.",
        imagespec: "Must be a valid repository name (docker refuses others). A typed dump is not lower-cased (no `__post_init__`): an upper-case name is refused.",
        refine: None,
    },
    FieldDoc {
        name: "python_version",
        typed: None,
        flytekit: "The Python micromamba installs (`python=X.Y`). Unset: the Python of the process running flytekit, which the tag does not see.",
        imagespec: "Unset: `--default-python` / `IMAGESPEC_DEFAULT_PYTHON`, else `python3` on PATH. Lints: `python-version-float` (`3.10` is the float 3.1), `python-version-unset`.",
        refine: Some(|| json!({"examples": ["3.12"]})),
    },
    FieldDoc {
        name: "builder",
        typed: None,
        flytekit: "The builder plugin: `default` (Docker) or `noop`, or a plugin's; unset: the registered builder with the highest priority.",
        imagespec: "`default` (Docker/BuildKit), `podman` (Podman/buildah), `noop`, or a builder compiled in (`imagespec plugins`); a name this binary lacks is an error naming the cargo feature. Unset: `--builder` / `IMAGESPEC_BUILDER`, else Docker when an engine answers, else Podman when it is installed. flytekit knows no `podman` builder, so a spec that names it builds only through imagespec.",
        refine: None,
    },
    FieldDoc {
        name: "source_root",
        typed: None,
        flytekit: "The folder whose files go to `/root`; which files, `source_copy_mode` says. Without `source_copy_mode`, the mode becomes `LOADED_MODULES`.",
        imagespec: "Relative to the spec file's folder (or `--base-dir`). A link under it that leads outside it is refused unless `--allow-outside-links`. Lints: `source-copy-mode-string`, `relative-source-root-ignores`, `loaded-modules-copies-nothing`.",
        refine: None,
    },
    FieldDoc {
        name: "env",
        typed: None,
        flytekit: "Environment variables, written as `ENV` lines in order; values with `str()` (`yes` is `True`).",
        imagespec: "Written quoted, so no value can add an instruction. `$VAR` still expands at build time, as in any Dockerfile. Lints: `yaml11-bool`, `yaml11-octal`, `env-variable-reference`, `credentials-in-env`.",
        refine: None,
    },
    FieldDoc {
        name: "registry",
        typed: None,
        flytekit: "`host[:port][/path]`, lower-cased; the image is pushed there and looked up there.",
        imagespec: "Checked with flytekit's pattern. Existence checks work on every OCI registry (tokens, docker credentials and helpers, retries).",
        refine: None,
    },
    FieldDoc {
        name: "packages",
        typed: None,
        flytekit: "Python packages, installed with `uv pip install`; flytekit is added when none is listed.",
        imagespec: "Not allowed beside a lock file. Lints: `unpinned-flytekit`, `duplicate-package`, `credentials-in-url`.",
        refine: None,
    },
    FieldDoc {
        name: "conda_packages",
        typed: None,
        flytekit: "Packages installed by micromamba.",
        imagespec: "Not allowed with `python_exec`.",
        refine: None,
    },
    FieldDoc {
        name: "conda_channels",
        typed: None,
        flytekit: "The channels micromamba uses.",
        imagespec: "Not allowed with `python_exec`.",
        refine: None,
    },
    FieldDoc {
        name: "requirements",
        typed: None,
        flytekit: "A requirements file (its stripped content's sha1 enters the tag), or a `uv.lock` / `poetry.lock` (by file name, with `pyproject.toml` beside it) installed with `uv sync` / `poetry install`.",
        imagespec: "Relative to the spec file's folder (or `--base-dir`). Lints: `unpinned-flytekit`, `duplicate-package`, `credentials-in-url`.",
        refine: None,
    },
    FieldDoc {
        name: "apt_packages",
        typed: None,
        flytekit: "Debian packages, installed with apt.",
        imagespec: "A name that could add a shell word or an instruction is refused.",
        refine: None,
    },
    FieldDoc {
        name: "cuda",
        typed: None,
        flytekit: "Refused by the default builder (\"not supported\").",
        imagespec: "Refused by the Docker builder, as flytekit refuses it; use a CUDA `base_image`. A `noop` spec may carry it.",
        refine: None,
    },
    FieldDoc {
        name: "cudnn",
        typed: None,
        flytekit: "Refused by the default builder.",
        imagespec: "As `cuda`.",
        refine: None,
    },
    FieldDoc {
        name: "base_image",
        typed: Some("string, or a typed ImageSpec"),
        flytekit: "The image to build on (default `debian:bookworm-slim`), or an ImageSpec built first; the child's tag hashes the name the base was built as (its `id` hashes the nested spec's fields).",
        imagespec: "Extension: a nested spec as a plain mapping (pyflyte writes `FROM {'name': ...}` for it). Nested bases are built first, each once.",
        refine: None,
    },
    FieldDoc {
        name: "platform",
        typed: None,
        flytekit: "`linux/amd64` by default (`linux/arm64` for a `localhost:` registry on an arm64 host); several comma-separated.",
        imagespec: "An image exists only when it has every platform asked for.",
        refine: Some(|| json!({"default": "linux/amd64", "examples": ["linux/amd64,linux/arm64"]})),
    },
    FieldDoc {
        name: "pip_index",
        typed: None,
        flytekit: "`--index-url` of the install step.",
        imagespec: "A URL with credentials reaches the build as a BuildKit secret, never the Dockerfile or the image, and is masked in all output. Lint: `credentials-in-url` (the tag still hashes it).",
        refine: None,
    },
    FieldDoc {
        name: "pip_extra_index_url",
        typed: None,
        flytekit: "`--extra-index-url` each.",
        imagespec: "Credentials as for `pip_index`.",
        refine: None,
    },
    FieldDoc {
        name: "pip_secret_mounts",
        typed: Some("list of `!!python/tuple` pairs"),
        flytekit: "Secret files mounted during the install step.",
        imagespec: "Visible during the apt, Python, package and `commands` steps only; content masked in all output. Extension: `[src, dst]` lists in plain YAML (pyflyte refuses them).",
        refine: None,
    },
    FieldDoc {
        name: "pip_extra_args",
        typed: None,
        flytekit: "Extra arguments for the install command.",
        imagespec: "Split as a shell would; nothing in it can end the instruction.",
        refine: None,
    },
    FieldDoc {
        name: "registry_config",
        typed: None,
        flytekit: "A registry configuration file.",
        imagespec: "As flytekit.",
        refine: None,
    },
    FieldDoc {
        name: "entrypoint",
        typed: None,
        flytekit: "The image's ENTRYPOINT.",
        imagespec: "`[]` removes the base image's.",
        refine: None,
    },
    FieldDoc {
        name: "commands",
        typed: None,
        flytekit: "Shell commands run after the source is copied, joined with `&&` in one RUN.",
        imagespec: "An empty command, a comment, a trailing backslash, a heredoc or a first command starting with `-` is refused. Lint: `commands-rerun-on-source-change`.",
        refine: None,
    },
    FieldDoc {
        name: "tag_format",
        typed: None,
        flytekit: "A Python format string with `{spec_hash}`, e.g. `{spec_hash}-dev`.",
        imagespec: "Formatted exactly as Python's `str.format`.",
        refine: None,
    },
    FieldDoc {
        name: "source_copy_mode",
        typed: Some("`!!python/object/apply:flytekit.constants.CopyFileDetection [N]`"),
        flytekit: "Compared with `CopyFileDetection`: `LOADED_MODULES` (1), `ALL` (2), `NO_COPY` (3). Any string (plain YAML) copies every file.",
        imagespec: "As flytekit; `--fix-flytekit-quirks` reads `all`/`no_copy`/`loaded_modules` as the members (tags then differ). Lint: `source-copy-mode-string`.",
        refine: Some(|| json!({"examples": ["all"]})),
    },
    FieldDoc {
        name: "copy",
        typed: None,
        flytekit: "Files and folders copied to `/root/<path>`.",
        imagespec: "Relative, without `..`, `$`, glob characters, quotes or a leading `-`; not `Dockerfile`; a link out of the spec's folder is refused unless `--allow-outside-links`.",
        refine: None,
    },
    FieldDoc {
        name: "python_exec",
        typed: None,
        flytekit: "The base image's Python to use instead of micromamba (packages go into a venv).",
        imagespec: "As flytekit.",
        refine: None,
    },
    FieldDoc {
        name: "runtime_packages",
        typed: None,
        flytekit: "Packages installed when the container starts.",
        imagespec: "As flytekit.",
        refine: None,
    },
    FieldDoc {
        name: "builder_options",
        typed: None,
        flytekit: "Options for the builder.",
        imagespec: "Passed to the builder plugin.",
        refine: None,
    },
    FieldDoc {
        name: "builder_config",
        typed: None,
        flytekit: "`uv_image`, `micromamba_image`: the helper images.",
        imagespec: "Extension: `base_image` (the base when the spec names none) and `dockerfile_syntax` (adds a `# syntax=` line).",
        refine: Some(|| {
            json!({"properties": {
                "uv_image": {"type": "string"},
                "micromamba_image": {"type": "string"},
                "base_image": {"type": "string"},
                "dockerfile_syntax": {"type": "string"}
            }})
        }),
    },
];

impl FieldDoc {
    /// The core's entry for this field.
    pub fn field(&self) -> &'static Field {
        field(self.name).expect("every documented field is in the core's table")
    }

    /// The field's JSON Schema: its kind's, refined, with its description.
    pub fn json_schema(&self) -> Value {
        let mut schema = self.field().kind.json_schema();
        if let (Some(refine), Value::Object(map)) = (self.refine, &mut schema) {
            if let Value::Object(extra) = refine() {
                map.extend(extra);
            }
        }
        schema["description"] = Value::String(format!("{} {}", self.flytekit, self.imagespec));
        schema
    }
}

/// The JSON Schema of a spec file (plain YAML or JSON), for editors.
pub fn json_schema() -> Value {
    let properties: serde_json::Map<String, Value> = FIELD_DOCS
        .iter()
        .map(|f| (f.name.to_string(), f.json_schema()))
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/imagespec/imagespec/docs/spec.schema.json",
        "title": "imagespec / flytekit ImageSpec",
        "description": "A container image spec as `pyflyte run --image spec.yaml` reads it (flytekit 1.16 ImageSpec). Every field may be absent or null; an empty list or mapping is not the same as an absent one (it changes the tag).",
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    })
}

/// The field section of `docs/spec-reference.md`.
pub fn reference_markdown() -> String {
    let mut out = String::new();
    for f in FIELD_DOCS {
        out.push_str(&format!("### `{}`\n\n", f.name));
        out.push_str(&format!("- **Type:** {}", f.field().kind.plain()));
        match f.typed {
            Some(typed) => out.push_str(&format!("; typed YAML: {typed}\n")),
            None => out.push('\n'),
        }
        out.push_str(&format!("- **In the tag:** {}\n", f.field().hashed.text()));
        out.push_str(&format!("- **flytekit:** {}\n", f.flytekit));
        out.push_str(&format!("- **imagespec:** {}\n\n", f.imagespec));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_covers_exactly_the_fields_in_order() {
        let names: Vec<&str> = FIELD_DOCS.iter().map(|f| f.name).collect();
        let core: Vec<&str> = imagespec_core::spec::FIELDS
            .iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(names, core);
    }

    #[test]
    fn the_schema_lists_every_field_and_no_other() {
        let schema = json_schema();
        let props = schema["properties"].as_object().unwrap();
        assert_eq!(props.len(), imagespec_core::spec::FIELDS.len());
        assert_eq!(schema["additionalProperties"], false);
        assert!(props.values().all(|p| p["description"].is_string()));
    }
}
