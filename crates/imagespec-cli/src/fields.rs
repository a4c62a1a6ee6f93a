//! What each field is: its type in plain and typed YAML, whether the tag
//! hashes it, what flytekit does with it and what imagespec adds. One table,
//! from which the JSON Schema (`imagespec schema`, `docs/spec.schema.json`)
//! and the field section of `docs/spec-reference.md` are generated; a test
//! checks that it covers exactly the core's
//! [`FIELDS`](imagespec_core::spec::FIELDS). It lives here, not in the core,
//! because what flytekit does with a field names the tools it uses (uv,
//! micromamba), and the core names no plugin.

use serde_json::{json, Value};

/// One field's documentation.
#[derive(Debug, Clone, Copy)]
pub struct FieldDoc {
    /// The field's name.
    pub name: &'static str,
    /// Its type as plain YAML writes it.
    pub plain: &'static str,
    /// Its type in a typed dump (`yaml.dump(image_spec)`), when that differs.
    pub typed: Option<&'static str>,
    /// How the tag sees it.
    pub in_tag: InTag,
    /// What flytekit does with it.
    pub flytekit: &'static str,
    /// What imagespec checks or adds (extensions are named as such).
    pub imagespec: &'static str,
    /// Its JSON Schema (without the description, which is made from the rest).
    schema: fn() -> Value,
}

/// How the tag sees a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InTag {
    /// Its value, as Python's `repr()`.
    Value,
    /// A digest of the files it names (or of the nested spec's image name).
    Digest,
    /// The id hashes it, the tag does not.
    IdOnly,
    /// Neither the id nor the tag.
    No,
}

impl InTag {
    fn text(self) -> &'static str {
        match self {
            InTag::Value => "yes, its value",
            InTag::Digest => "yes, through a digest of the files it names",
            InTag::IdOnly => "no (the `id` hashes it; the tag does not)",
            InTag::No => "no",
        }
    }
}

fn string() -> Value {
    json!({"type": "string"})
}
fn strings() -> Value {
    json!({"type": "array", "items": {"type": "string"}})
}
fn scalar() -> Value {
    json!({"type": ["string", "number", "integer", "boolean", "null"]})
}
fn any() -> Value {
    json!({})
}
fn mapping() -> Value {
    json!({"type": "object"})
}

/// Every field, in flytekit's declaration order.
pub const FIELD_DOCS: &[FieldDoc] = &[
    FieldDoc {
        name: "name",
        plain: "string",
        typed: None,
        in_tag: InTag::Value,
        flytekit: "The image's repository name; lower-cased by `__post_init__`. Default `flytekit`.",
        imagespec: "Must be a valid repository name (docker refuses others). A typed dump is not lower-cased (no `__post_init__`): an upper-case name is refused.",
        schema: || json!({"type": "string", "default": "flytekit"}),
    },
    FieldDoc {
        name: "python_version",
        plain: "string (a number is read as one: quote it)",
        typed: None,
        in_tag: InTag::Value,
        flytekit: "The Python micromamba installs (`python=X.Y`). Unset: the Python of the process running flytekit, which the tag does not see.",
        imagespec: "Unset: `--default-python` / `IMAGESPEC_DEFAULT_PYTHON`, else `python3` on PATH. Lints: `python-version-float` (`3.10` is the float 3.1), `python-version-unset`.",
        schema: || json!({"type": ["string", "number"], "examples": ["3.12"]}),
    },
    FieldDoc {
        name: "builder",
        plain: "string",
        typed: None,
        in_tag: InTag::No,
        flytekit: "The builder plugin: `default` (Docker) or `noop`, or a plugin's; unset: the registered builder with the highest priority.",
        imagespec: "`default` (Docker/BuildKit), `noop`, or a builder compiled in (`imagespec plugins`); a name this binary lacks is an error naming the cargo feature.",
        schema: string,
    },
    FieldDoc {
        name: "source_root",
        plain: "path",
        typed: None,
        in_tag: InTag::Digest,
        flytekit: "The folder whose files go to `/root`; which files, `source_copy_mode` says. Without `source_copy_mode`, the mode becomes `LOADED_MODULES`.",
        imagespec: "Relative to the spec file's folder (or `--base-dir`). A link under it that leads outside it is refused unless `--allow-outside-links`. Lints: `source-copy-mode-string`, `relative-source-root-ignores`, `loaded-modules-copies-nothing`.",
        schema: string,
    },
    FieldDoc {
        name: "env",
        plain: "mapping of names to scalars",
        typed: None,
        in_tag: InTag::Value,
        flytekit: "Environment variables, written as `ENV` lines in order; values with `str()` (`yes` is `True`).",
        imagespec: "Written quoted, so no value can add an instruction. `$VAR` still expands at build time, as in any Dockerfile. Lints: `yaml11-bool`, `yaml11-octal`, `env-variable-reference`, `credentials-in-env`.",
        schema: || json!({"type": "object", "additionalProperties": scalar()}),
    },
    FieldDoc {
        name: "registry",
        plain: "string",
        typed: None,
        in_tag: InTag::Value,
        flytekit: "`host[:port][/path]`, lower-cased; the image is pushed there and looked up there.",
        imagespec: "Checked with flytekit's pattern. Existence checks work on every OCI registry (tokens, docker credentials and helpers, retries).",
        schema: string,
    },
    FieldDoc {
        name: "packages",
        plain: "list of strings",
        typed: None,
        in_tag: InTag::Value,
        flytekit: "Python packages, installed with `uv pip install`; flytekit is added when none is listed.",
        imagespec: "Not allowed beside a lock file. Lints: `unpinned-flytekit`, `duplicate-package`, `credentials-in-url`.",
        schema: strings,
    },
    FieldDoc {
        name: "conda_packages",
        plain: "list of strings",
        typed: None,
        in_tag: InTag::Value,
        flytekit: "Packages installed by micromamba.",
        imagespec: "Not allowed with `python_exec`.",
        schema: strings,
    },
    FieldDoc {
        name: "conda_channels",
        plain: "list of strings",
        typed: None,
        in_tag: InTag::Value,
        flytekit: "The channels micromamba uses.",
        imagespec: "Not allowed with `python_exec`.",
        schema: strings,
    },
    FieldDoc {
        name: "requirements",
        plain: "path",
        typed: None,
        in_tag: InTag::Digest,
        flytekit: "A requirements file (its stripped content's sha1 enters the tag), or a `uv.lock` / `poetry.lock` (by file name, with `pyproject.toml` beside it) installed with `uv sync` / `poetry install`.",
        imagespec: "Relative to the spec file's folder (or `--base-dir`). Lints: `unpinned-flytekit`, `duplicate-package`, `credentials-in-url`.",
        schema: string,
    },
    FieldDoc {
        name: "apt_packages",
        plain: "list of strings",
        typed: None,
        in_tag: InTag::Value,
        flytekit: "Debian packages, installed with apt.",
        imagespec: "A name that could add a shell word or an instruction is refused.",
        schema: strings,
    },
    FieldDoc {
        name: "cuda",
        plain: "any",
        typed: None,
        in_tag: InTag::Value,
        flytekit: "Refused by the default builder (\"not supported\").",
        imagespec: "Refused by the Docker builder, as flytekit refuses it; use a CUDA `base_image`. A `noop` spec may carry it.",
        schema: any,
    },
    FieldDoc {
        name: "cudnn",
        plain: "any",
        typed: None,
        in_tag: InTag::Value,
        flytekit: "Refused by the default builder.",
        imagespec: "As `cuda`.",
        schema: any,
    },
    FieldDoc {
        name: "base_image",
        plain: "string, or a nested spec (mapping)",
        typed: Some("string, or a typed ImageSpec"),
        in_tag: InTag::Value,
        flytekit: "The image to build on (default `debian:bookworm-slim`), or an ImageSpec built first; the child's tag hashes the name the base was built as (its `id` hashes the nested spec's fields).",
        imagespec: "Extension: a nested spec as a plain mapping (pyflyte writes `FROM {'name': ...}` for it). Nested bases are built first, each once.",
        schema: || json!({"oneOf": [{"type": "string"}, {"$ref": "#"}]}),
    },
    FieldDoc {
        name: "platform",
        plain: "string",
        typed: None,
        in_tag: InTag::Value,
        flytekit: "`linux/amd64` by default (`linux/arm64` for a `localhost:` registry on an arm64 host); several comma-separated.",
        imagespec: "An image exists only when it has every platform asked for.",
        schema: || json!({"type": "string", "default": "linux/amd64"}),
    },
    FieldDoc {
        name: "pip_index",
        plain: "URL",
        typed: None,
        in_tag: InTag::Value,
        flytekit: "`--index-url` of the install step.",
        imagespec: "A URL with credentials reaches the build as a BuildKit secret, never the Dockerfile or the image, and is masked in all output. Lint: `credentials-in-url` (the tag still hashes it).",
        schema: string,
    },
    FieldDoc {
        name: "pip_extra_index_url",
        plain: "list of URLs",
        typed: None,
        in_tag: InTag::Value,
        flytekit: "`--extra-index-url` each.",
        imagespec: "Credentials as for `pip_index`.",
        schema: strings,
    },
    FieldDoc {
        name: "pip_secret_mounts",
        plain: "list of `[src, dst]` pairs",
        typed: Some("list of `!!python/tuple` pairs"),
        in_tag: InTag::No,
        flytekit: "Secret files mounted during the install step.",
        imagespec: "Visible during the apt, Python, package and `commands` steps only; content masked in all output. Extension: `[src, dst]` lists in plain YAML (pyflyte refuses them).",
        schema: || {
            json!({"type": "array", "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}})
        },
    },
    FieldDoc {
        name: "pip_extra_args",
        plain: "string",
        typed: None,
        in_tag: InTag::Value,
        flytekit: "Extra arguments for the install command.",
        imagespec: "Split as a shell would; nothing in it can end the instruction.",
        schema: string,
    },
    FieldDoc {
        name: "registry_config",
        plain: "path",
        typed: None,
        in_tag: InTag::IdOnly,
        flytekit: "A registry configuration file.",
        imagespec: "As flytekit.",
        schema: string,
    },
    FieldDoc {
        name: "entrypoint",
        plain: "list of strings",
        typed: None,
        in_tag: InTag::Value,
        flytekit: "The image's ENTRYPOINT.",
        imagespec: "`[]` removes the base image's.",
        schema: strings,
    },
    FieldDoc {
        name: "commands",
        plain: "list of strings",
        typed: None,
        in_tag: InTag::Value,
        flytekit: "Shell commands run after the source is copied, joined with `&&` in one RUN.",
        imagespec: "An empty command, a comment, a trailing backslash, a heredoc or a first command starting with `-` is refused. Lint: `commands-rerun-on-source-change`.",
        schema: strings,
    },
    FieldDoc {
        name: "tag_format",
        plain: "string",
        typed: None,
        in_tag: InTag::Value,
        flytekit: "A Python format string with `{spec_hash}`, e.g. `{spec_hash}-dev`.",
        imagespec: "Formatted exactly as Python's `str.format`.",
        schema: string,
    },
    FieldDoc {
        name: "source_copy_mode",
        plain: "any (a string is never an enum member)",
        typed: Some("`!!python/object/apply:flytekit.constants.CopyFileDetection [N]`"),
        in_tag: InTag::Value,
        flytekit: "Compared with `CopyFileDetection`: `LOADED_MODULES` (1), `ALL` (2), `NO_COPY` (3). Any string (plain YAML) copies every file.",
        imagespec: "As flytekit; `--fix-flytekit-quirks` reads `all`/`no_copy`/`loaded_modules` as the members (tags then differ). Lint: `source-copy-mode-string`.",
        schema: || json!({"examples": ["all"]}),
    },
    FieldDoc {
        name: "copy",
        plain: "list of paths",
        typed: None,
        in_tag: InTag::Digest,
        flytekit: "Files and folders copied to `/root/<path>`.",
        imagespec: "Relative, without `..`, `$`, glob characters, quotes or a leading `-`; not `Dockerfile`; a link out of the spec's folder is refused unless `--allow-outside-links`.",
        schema: strings,
    },
    FieldDoc {
        name: "python_exec",
        plain: "path",
        typed: None,
        in_tag: InTag::Value,
        flytekit: "The base image's Python to use instead of micromamba (packages go into a venv).",
        imagespec: "As flytekit.",
        schema: string,
    },
    FieldDoc {
        name: "runtime_packages",
        plain: "list of strings",
        typed: None,
        in_tag: InTag::No,
        flytekit: "Packages installed when the container starts.",
        imagespec: "As flytekit.",
        schema: strings,
    },
    FieldDoc {
        name: "builder_options",
        plain: "mapping",
        typed: None,
        in_tag: InTag::Value,
        flytekit: "Options for the builder.",
        imagespec: "Passed to the builder plugin.",
        schema: mapping,
    },
    FieldDoc {
        name: "builder_config",
        plain: "mapping",
        typed: None,
        in_tag: InTag::Value,
        flytekit: "`uv_image`, `micromamba_image`: the helper images.",
        imagespec: "Extension: `base_image` (the base when the spec names none) and `dockerfile_syntax` (adds a `# syntax=` line).",
        schema: || {
            json!({"type": "object", "properties": {
                "uv_image": {"type": "string"},
                "micromamba_image": {"type": "string"},
                "base_image": {"type": "string"},
                "dockerfile_syntax": {"type": "string"}
            }})
        },
    },
];

impl FieldDoc {
    /// The field's JSON Schema, with its description.
    pub fn json_schema(&self) -> Value {
        let mut schema = (self.schema)();
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
        out.push_str(&format!("- **Type:** {}", f.plain));
        match f.typed {
            Some(typed) => out.push_str(&format!("; typed YAML: {typed}\n")),
            None => out.push('\n'),
        }
        out.push_str(&format!("- **In the tag:** {}\n", f.in_tag.text()));
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
        assert_eq!(names, imagespec_core::spec::FIELDS);
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
