//! Reading a spec from YAML (as `pyflyte run --image spec.yaml` reads it) or JSON.

use std::path::{Path, PathBuf};

use std::sync::Arc;

use super::fields::{BaseImage, FieldValue, ImageSpec, Kind, PyDict, SecretMount, FIELDS};
use super::origin::{Loaded, Origin, ReadOptions, TypedScalar};
use crate::error::{Error, SpecError};
use imagespec_pycompat::yaml::{self, Mark, Node, NodeValue, PyEnum, PythonTags};
use imagespec_pycompat::PyValue;

/// The Python classes a typed spec (`yaml.dump(image_spec)`) may name; every
/// other `!!python/` tag is refused, and nothing is instantiated from any.
const TYPED_SPEC_TAGS: PythonTags = PythonTags {
    objects: &[IMAGE_SPEC_CLASS],
    enums: &[PyEnum {
        path: "flytekit.constants.CopyFileDetection",
        class: "CopyFileDetection",
        members: &[("LOADED_MODULES", 1), ("ALL", 2), ("NO_COPY", 3)],
    }],
};

/// flytekit's ImageSpec, as a typed dump names it.
const IMAGE_SPEC_CLASS: &str = "flytekit.image_spec.image_spec.ImageSpec";

/// The syntax of a spec file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecFormat {
    /// YAML 1.1 as PyYAML's `safe_load` reads it.
    Yaml,
    /// JSON as Python's `json.load` reads it.
    Json,
}

impl SpecFormat {
    /// JSON for `.json` files, YAML for everything else.
    pub fn from_path(path: &Path) -> SpecFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => SpecFormat::Json,
            _ => SpecFormat::Yaml,
        }
    }
}

/// Whether `name` is a field.
fn is_field(name: &str) -> bool {
    FIELDS.iter().any(|f| f.name == name)
}

/// Loads a spec file. Relative paths in it resolve against its folder.
pub fn load_file(path: &Path) -> Result<Loaded, Error> {
    load_file_with(path, &ReadOptions::default())
}

/// [`load_file`] with imagespec's read options (quirk fixes, loaded modules).
/// Relative paths resolve against `options.base_dir` when set.
pub fn load_file_with(path: &Path, options: &ReadOptions) -> Result<Loaded, Error> {
    let text = read_spec_file(path)?;
    let base_dir = match (&options.base_dir, path.parent()) {
        (Some(dir), _) => dir.clone(),
        (None, Some(p)) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Some(label) = &options.display_name else {
        return Ok(load_str_with(
            &text,
            SpecFormat::from_path(path),
            Some(path),
            &base_dir,
            options,
        )?);
    };
    // Named by its label, without the lines of a file the user never saw.
    let label = Path::new(label);
    let mut loaded = load_str_with(
        &text,
        SpecFormat::from_path(path),
        Some(label),
        &base_dir,
        options,
    )
    .map_err(|mut e| {
        e.location.line = None;
        e
    })?;
    loaded.origin.forget_lines();
    Ok(loaded)
}

/// The largest spec file imagespec reads.
pub const MAX_SPEC_BYTES: u64 = 1024 * 1024;

/// A spec file's text: a regular file of at most [`MAX_SPEC_BYTES`], in
/// UTF-8 (as pyflyte opens it). Anything else is an invalid spec, with the
/// position of the first byte that is not UTF-8.
fn read_spec_file(path: &Path) -> Result<String, Error> {
    use std::io::Read;
    let invalid = |message: String, hint: &str| {
        Error::Spec(SpecError::field("", message).hint(hint).in_file(path))
    };
    let meta = std::fs::metadata(path).map_err(|e| Error::io("read spec file", path, e))?;
    if !meta.is_file() {
        return Err(invalid(
            "is not a regular file (a FIFO, a device or a folder would never end or never be a spec)".into(),
            "name a spec file",
        ));
    }
    if meta.len() > MAX_SPEC_BYTES {
        return Err(invalid(
            format!(
                "is {} bytes, over the {MAX_SPEC_BYTES} a spec may have",
                meta.len()
            ),
            "a spec is a short YAML file; is this the right file?",
        ));
    }
    let mut bytes = Vec::new();
    crate::fsx::open_regular(path)
        .and_then(|f| f.take(MAX_SPEC_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| Error::io("read spec file", path, e))?;
    if bytes.len() as u64 > MAX_SPEC_BYTES {
        return Err(invalid(
            format!("grew past the {MAX_SPEC_BYTES} bytes a spec may have while it was read"),
            "a spec is a short YAML file; is this the right file?",
        ));
    }
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(Error::Spec(
            SpecError::field("", "is UTF-16 (it starts with a UTF-16 byte-order mark); pyflyte reads spec files as UTF-8")
                .hint("save the file as UTF-8")
                .in_file(path)
                .at_line(Some(1)),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|b| **b == b'\n').count() + 1;
        let column = String::from_utf8_lossy(good.rsplit(|b| *b == b'\n').next().unwrap_or(&[]))
            .chars()
            .count()
            + 1;
        Error::Spec(
            SpecError::field(
                "",
                format!("is not valid UTF-8: the byte at line {line}, column {column} (offset {}) is not", good.len()),
            )
            .hint("save the file as UTF-8")
            .in_file(path)
            .at_line(Some(line)),
        )
    })
}

/// Loads a spec from text. `file` is named in errors; relative paths resolve against `base_dir`.
pub fn load_str(
    text: &str,
    format: SpecFormat,
    file: Option<&Path>,
    base_dir: &Path,
) -> Result<Loaded, SpecError> {
    load_str_with(text, format, file, base_dir, &ReadOptions::default())
}

/// [`load_str`] with imagespec's load options.
pub fn load_str_with(
    text: &str,
    format: SpecFormat,
    file: Option<&Path>,
    base_dir: &Path,
    options: &ReadOptions,
) -> Result<Loaded, SpecError> {
    let located = |e: SpecError| match file {
        Some(f) => e.in_file(f),
        None => e,
    };
    let root = match format {
        SpecFormat::Yaml => yaml::load_with(text, &TYPED_SPEC_TAGS).map_err(|e| {
            // PyYAML's two marks: where it failed, and where the collection
            // it was parsing started (with the field it is under).
            let (field, opened) = match e.within() {
                Some(w) => (
                    // Keys are named only under a known field: a file that
                    // is no spec must not have its content echoed.
                    if w.keys.first().is_some_and(|k| is_field(k)) {
                        w.keys.join(".")
                    } else {
                        String::new()
                    },
                    format!(
                        " ({} that starts at line {}, column {})",
                        w.what, w.start.line, w.start.column
                    ),
                ),
                None => (String::new(), String::new()),
            };
            let mark = e
                .mark()
                .map(|m| format!(" at line {}, column {}", m.line, m.column));
            located(
                SpecError::field(
                    field,
                    format!(
                        "invalid YAML{}: {}{opened}",
                        mark.unwrap_or_default(),
                        e.message()
                    ),
                )
                .at_line(e.mark().map(|m| m.line)),
            )
        })?,
        SpecFormat::Json => {
            let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
                located(SpecError::field("", format!("invalid JSON: {e}")).at_line(Some(e.line())))
            })?;
            Some(json_to_node(&value))
        }
    };
    let Some(root) = root else {
        return Err(located(
            SpecError::field("", "the spec file is empty")
                .hint("write a mapping with at least `name: ...`"),
        ));
    };
    let loader = Loader {
        fix_quirks: options.fix_flytekit_quirks,
        text: (format == SpecFormat::Yaml).then_some(text),
    };
    let (spec, mut origin) = loader.spec(&root).map_err(located)?;
    origin.file = file.map(Path::to_path_buf);
    Ok(Loaded {
        spec,
        origin,
        base_dir: base_dir.to_path_buf(),
        options: Arc::new(options.clone()),
    })
}

fn json_to_node(v: &serde_json::Value) -> Node {
    use serde_json::Value;
    let value = match v {
        Value::Null => NodeValue::Scalar(PyValue::None),
        Value::Bool(b) => NodeValue::Scalar(PyValue::Bool(*b)),
        Value::Number(n) => NodeValue::Scalar(match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => PyValue::Int(i.into()),
            (None, Some(u), _) => PyValue::Int(u.into()),
            (_, _, Some(f)) => PyValue::Float(f),
            _ => PyValue::Str(n.to_string()),
        }),
        Value::String(s) => NodeValue::Scalar(PyValue::Str(s.clone())),
        Value::Array(items) => NodeValue::Seq(items.iter().map(json_to_node).collect()),
        Value::Object(map) => NodeValue::Map(
            map.iter()
                .map(|(k, v)| (json_to_node(&Value::String(k.clone())), json_to_node(v)))
                .collect(),
        ),
    };
    Node {
        value,
        mark: Mark::default(),
        plain: false,
    }
}

fn line(node: &Node) -> Option<usize> {
    Some(node.mark.line).filter(|l| *l > 0)
}

fn err(node: &Node, field: &str, message: impl Into<String>) -> SpecError {
    SpecError::field(field, message).at_line(line(node))
}

/// What a node is, for an error message; a scalar's value is shown, cut to
/// a few dozen characters.
fn kind(node: &Node) -> String {
    match &node.value {
        NodeValue::Scalar(v) => {
            let repr = v.repr();
            let shown: String = repr.chars().take(48).collect();
            let more = if shown.len() < repr.len() { "…" } else { "" };
            format!("{} `{shown}{more}`", v.type_name())
        }
        NodeValue::Seq(_) => "a list".to_string(),
        NodeValue::Map(_) => "a mapping".to_string(),
        NodeValue::Tuple(_) => "a tuple".to_string(),
        NodeValue::Object { .. } => "an ImageSpec".to_string(),
    }
}

/// A value that is not a typed ImageSpec (those belong only at the top and in `base_image`).
fn plain_value(v: &Node, field: &str) -> Result<PyValue, SpecError> {
    if v.holds_object() {
        return Err(err(
            v,
            field,
            "an ImageSpec can only be the spec itself or its base_image",
        ));
    }
    Ok(v.to_py())
}

/// The closest known field, for "did you mean".
/// An unknown field. Its name is shown only when it looks like one (a
/// Python identifier): a file that is no spec, such as a link to a secret,
/// parses as a mapping of its lines, and its content must not be echoed.
fn unknown_field(key: &Node, name: &str) -> SpecError {
    let identifier = name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !identifier {
        return err(
            key,
            "",
            "the file holds a key that is no field name (not shown, in case the file is no spec)",
        )
        .hint(format!(
            "a spec is a mapping of these fields: {}",
            FIELDS.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
        ));
    }
    let e = err(
        key,
        name,
        format!(
            "unknown field `{name}` (flytekit: ImageSpec.__init__() got an unexpected keyword argument '{name}')"
        ),
    );
    match suggest(name) {
        Some(s) => e.hint(format!("did you mean `{s}`?")),
        None => e.hint(format!(
            "known fields: {}",
            FIELDS.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
        )),
    }
}

fn suggest(unknown: &str) -> Option<&'static str> {
    FIELDS
        .iter()
        .map(|f| (strsim::jaro_winkler(unknown, f.name), f.name))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, f)| f)
}

struct Loader<'a> {
    /// `--fix-flytekit-quirks` (which `__post_init__` applies).
    fix_quirks: bool,
    /// The YAML text, for what a plain scalar was written as (`None`: JSON).
    text: Option<&'a str>,
}

/// The text a plain scalar was written as, from its start mark: the rest of
/// its line up to what ends a plain scalar (` #`, `: `, a flow indicator).
/// `None` when it cannot tell (an alias, a multi-line scalar's later lines
/// are not looked at; JSON has no marks).
fn written_at(text: &str, node: &Node, is_key: bool) -> Option<String> {
    let line = text.lines().nth(node.mark.line.checked_sub(1)?)?;
    let rest: String = line
        .chars()
        .skip(node.mark.column.saturating_sub(1))
        .collect();
    let mut rest = rest.trim_start();
    if let Some(anchored) = rest.strip_prefix('&') {
        rest = anchored.split_once([' ', '\t'])?.1.trim_start();
    }
    if rest.starts_with(['*', '!', '"', '\'', '|', '>']) {
        return None;
    }
    let end = [" #", "\t#", ": ", ":\t", ",", "[", "]", "{", "}"]
        .iter()
        .filter_map(|p| rest.find(p))
        .min()
        .unwrap_or(rest.len());
    let mut written = rest[..end].trim_end();
    if is_key {
        written = written.strip_suffix(':').unwrap_or(written).trim_end();
    }
    let value = match &node.value {
        NodeValue::Scalar(v) => v,
        _ => return None,
    };
    // An empty value's mark may sit on the next line: `KEY:` with nothing.
    let nulls = ["~", "null", "Null", "NULL", ""];
    if matches!(value, PyValue::None) && !nulls.contains(&written) {
        return Some(String::new());
    }
    Some(written.to_string())
}

impl Loader<'_> {
    /// Records a scalar YAML typed as something other than a string when
    /// `str()` of it is not the text written (or the text is unknown).
    fn note_typed(
        &self,
        node: &Node,
        (field, line): (String, Option<usize>),
        is_key: bool,
        notes: &mut Vec<TypedScalar>,
    ) {
        let NodeValue::Scalar(value) = &node.value else {
            return;
        };
        if matches!(value, PyValue::Str(_)) {
            return;
        }
        let written = self.text.and_then(|t| written_at(t, node, is_key));
        if written.as_deref() == Some(value.py_str().as_str()) {
            return;
        }
        notes.push(TypedScalar {
            field,
            line,
            is_key,
            written,
            value: value.clone(),
        });
    }
}

impl Loader<'_> {
    fn spec(&self, root: &Node) -> Result<(ImageSpec, Origin), SpecError> {
        let (entries, typed) = match &root.value {
            NodeValue::Map(entries) => (entries, false),
            NodeValue::Object { state, .. } => (state, true),
            _ => {
                return Err(err(
                    root,
                    "",
                    // Not the value: a file that is no spec (a link to a
                    // secret, say) must not be echoed.
                    format!(
                        "a spec must be a mapping of fields, not {}",
                        match &root.value {
                            NodeValue::Scalar(v) => format!("a {}", v.type_name()),
                            _ => kind(root),
                        }
                    ),
                ));
            }
        };
        let mut spec = ImageSpec::default();
        // (flytekit's `__post_init__` reads `_is_force_push` and `_fast_fail`
        // from the environment; the caller does that, once, at its edge.)
        let mut origin = Origin {
            typed,
            ..Origin::default()
        };
        for (key, value) in entries {
            let Some(field) = value_str(key) else {
                return Err(err(
                    key,
                    "",
                    format!(
                        "field names must be strings, not {}",
                        match &key.value {
                            NodeValue::Scalar(v) => format!("a {}", v.type_name()),
                            _ => kind(key),
                        }
                    ),
                ));
            };
            if !typed && !is_field(field) {
                return Err(unknown_field(key, field));
            }
            if typed && self.typed_state(&mut origin, field, value)? {
                continue;
            }
            self.field(&mut spec, &mut origin, field, value)?;
            if let Some(l) = line(key) {
                origin.field_lines.insert(field.to_string(), l);
            }
            item_lines(&mut origin, field, value);
        }
        let secrets = spec.secrets();
        super::validate::post_init(&mut spec, typed, self.fix_quirks)
            .map_err(|e| e.at_line(line(root)).masking(&secrets))?;
        Ok((spec, origin))
    }

    /// The entries of a typed dump that are not fields: flytekit's private
    /// attributes and its cached properties. Returns true when it took one.
    fn typed_state(&self, origin: &mut Origin, key: &str, v: &Node) -> Result<bool, SpecError> {
        let flag = |v: &Node| match &v.value {
            NodeValue::Scalar(PyValue::Bool(b)) => Ok(*b),
            _ => Err(err(
                v,
                key,
                format!("must be true or false, not {}", kind(v)),
            )),
        };
        match key {
            "_is_force_push" => origin.force_push = flag(v)?,
            "_fast_fail" => origin.fast_fail = flag(v)?,
            // `id` and `tag` are cached properties: a dump made after they were
            // computed carries them; the tag is checked against imagespec's.
            "id" => {}
            "tag" => origin.recorded_tag = want_str(v, key)?,
            // Where the flytekit plugin recorded the spec was written; not
            // a field, not hashed.
            "_imagespec_origin" => {}
            _ if is_field(key) => return Ok(false),
            _ => tracing::warn!(
                "the typed spec has the attribute `{}`, which is no ImageSpec field; \
                 flytekit ignores it, and so does imagespec",
                crate::text::printable(key)
            ),
        }
        Ok(true)
    }

    /// Reads one field as its [`Kind`] says, into the spec.
    fn field(
        &self,
        spec: &mut ImageSpec,
        origin: &mut Origin,
        field: &str,
        v: &Node,
    ) -> Result<(), SpecError> {
        let Some(field_kind) = super::fields::field(field).map(|f| f.kind) else {
            return Err(unknown_field(v, field));
        };
        let value = match field_kind {
            Kind::Name => FieldValue::Name(
                want_str(v, field)?
                    .ok_or_else(|| err(v, field, "name must be a string, not None"))?,
            ),
            Kind::Str | Kind::Path | Kind::Url => FieldValue::Str(want_str(v, field)?),
            Kind::StrList | Kind::PathList | Kind::UrlList => {
                FieldValue::StrList(want_str_list(v, field)?)
            }
            // Only python_version's typing is noted (the lints report it).
            Kind::Scalar if field == "python_version" => {
                FieldValue::Py(self.python_version(v, &mut origin.typed_scalars)?)
            }
            Kind::Scalar => FieldValue::Py(want_scalar(v, field)?),
            Kind::Env => FieldValue::Dict(self.want_env(v, &mut origin.typed_scalars)?),
            Kind::Dict => FieldValue::Dict(want_dict(v, field)?),
            Kind::SecretMounts => FieldValue::SecretMounts(want_secret_mounts(v)?),
            // Kept as the value it is: flytekit compares it with its enum,
            // and hashes it as it is (a string stays a string).
            Kind::Any => FieldValue::Py(match plain_value(v, field)? {
                PyValue::None => None,
                other => Some(other),
            }),
            Kind::BaseImage => FieldValue::BaseImage(match &v.value {
                NodeValue::Scalar(PyValue::None) => None,
                NodeValue::Scalar(PyValue::Str(s)) => Some(BaseImage::Name(s.clone())),
                NodeValue::Map(_) if origin.typed => {
                    return Err(err(
                        v,
                        field,
                        "a typed spec's base_image must be a string or a typed ImageSpec, not a plain mapping",
                    )
                    .hint("dump the base as an ImageSpec too (yaml.dump of the whole spec does)"))
                }
                NodeValue::Map(_) | NodeValue::Object { .. } => {
                    let (nested, nested_origin) =
                        self.spec(v).map_err(|e| e.nested_in("base_image"))?;
                    origin.base = Some(Box::new(nested_origin));
                    Some(BaseImage::Spec(Box::new(nested)))
                }
                _ => {
                    return Err(err(
                        v,
                        field,
                        format!(
                            "must be an image name or a nested spec (a mapping), not {}",
                            kind(v)
                        ),
                    ))
                }
            }),
        };
        spec.set_field(field, value);
        Ok(())
    }

    /// Any value, as flytekit takes any: it is hashed with `repr()` and
    /// written with `str()`. A scalar YAML typed as something other than a
    /// string whose `str()` is not what was written (the float `3.10` is
    /// `3.1`) is recorded for the lints; so is a JSON number (its text is
    /// not kept).
    fn python_version(
        &self,
        v: &Node,
        notes: &mut Vec<TypedScalar>,
    ) -> Result<Option<PyValue>, SpecError> {
        match &v.value {
            NodeValue::Scalar(PyValue::None) => Ok(None),
            NodeValue::Scalar(p) => {
                if v.plain || self.text.is_none() {
                    self.note_typed(v, ("python_version".into(), line(v)), false, notes);
                }
                Ok(Some(p.clone()))
            }
            _ => Ok(Some(plain_value(v, "python_version")?)),
        }
    }

    fn want_env(
        &self,
        v: &Node,
        notes: &mut Vec<TypedScalar>,
    ) -> Result<Option<PyDict>, SpecError> {
        let entries = match &v.value {
            NodeValue::Scalar(PyValue::None) => return Ok(None),
            NodeValue::Map(entries) => entries,
            _ => {
                return Err(err(
                    v,
                    "env",
                    format!("must be a mapping of names to values, not {}", kind(v)),
                ))
            }
        };
        let mut out = PyDict::new();
        for (k, val) in entries {
            let NodeValue::Scalar(key) = &k.value else {
                return Err(err(
                    k,
                    &format!("env.{}", k.to_py().py_str()),
                    format!("environment names must be single values, not {}", kind(k)),
                ));
            };
            // flytekit writes any value with str(); a list's `[1, 2]` is kept
            // as that text (and quoted in the ENV line, where flytekit's breaks).
            let field = format!("env.{}", key.py_str());
            let value = plain_value(val, &field)?;
            for (node, is_key) in [(k, true), (val, false)] {
                // The key's line: an empty value's mark is on the next line.
                if node.plain {
                    self.note_typed(node, (field.clone(), line(k)), is_key, notes);
                }
            }
            out.push((key.clone(), value));
        }
        Ok(Some(out))
    }
}

/// Records the line of each list item and mapping key of a field.
fn item_lines(origin: &mut Origin, field: &str, value: &Node) {
    match &value.value {
        NodeValue::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                if let Some(l) = line(item) {
                    origin.item_lines.insert(format!("{field}[{i}]"), l);
                }
            }
        }
        NodeValue::Map(entries) if field != "base_image" => {
            for (k, _) in entries {
                if let Some(l) = line(k) {
                    origin
                        .item_lines
                        .insert(format!("{field}.{}", k.to_py().py_str()), l);
                }
            }
        }
        _ => {}
    }
}

fn value_str(node: &Node) -> Option<&str> {
    match &node.value {
        NodeValue::Scalar(PyValue::Str(s)) => Some(s),
        _ => None,
    }
}

fn want_str(v: &Node, field: &str) -> Result<Option<String>, SpecError> {
    match &v.value {
        NodeValue::Scalar(PyValue::None) => Ok(None),
        NodeValue::Scalar(PyValue::Str(s)) => Ok(Some(s.clone())),
        _ => Err(err(v, field, format!("must be a string, not {}", kind(v)))
            .hint("quote the value in YAML to keep it a string")),
    }
}

fn want_scalar(v: &Node, field: &str) -> Result<Option<PyValue>, SpecError> {
    match &v.value {
        NodeValue::Scalar(PyValue::None) => Ok(None),
        NodeValue::Scalar(p) => Ok(Some(p.clone())),
        _ => Err(err(
            v,
            field,
            format!("must be a single value, not {}", kind(v)),
        )),
    }
}

fn want_str_list(v: &Node, field: &str) -> Result<Option<Vec<String>>, SpecError> {
    let items = match &v.value {
        NodeValue::Scalar(PyValue::None) => return Ok(None),
        NodeValue::Seq(items) => items,
        _ => {
            return Err(err(
                v,
                field,
                format!(
                    "{field} must be a list of strings or None (got {})",
                    kind(v)
                ),
            )
            .hint(format!("write `{field}: [\"...\"]`")))
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            value_str(item).map(str::to_string).ok_or_else(|| {
                err(
                    item,
                    &format!("{field}[{i}]"),
                    format!(
                        "{field} must be a list of strings or None (item {i} is {})",
                        kind(item)
                    ),
                )
                .hint("quote the item in YAML to keep it a string")
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn want_dict(v: &Node, field: &str) -> Result<Option<PyDict>, SpecError> {
    match &v.value {
        NodeValue::Scalar(PyValue::None) => Ok(None),
        NodeValue::Map(entries) => {
            let mut out = PyDict::new();
            for (k, val) in entries {
                // Keys are unique already: the loader merged repeats as Python's dict does.
                out.push((plain_value(k, field)?, plain_value(val, field)?));
            }
            Ok(Some(out))
        }
        _ => Err(err(
            v,
            field,
            format!("{field} must be a dictionary or None (got {})", kind(v)),
        )),
    }
}

fn want_secret_mounts(v: &Node) -> Result<Option<Vec<SecretMount>>, SpecError> {
    const FIELD: &str = "pip_secret_mounts";
    let items = match &v.value {
        NodeValue::Scalar(PyValue::None) => return Ok(None),
        NodeValue::Seq(items) => items,
        _ => {
            return Err(err(
                v,
                FIELD,
                format!(
                    "pip_secret_mounts must be a list of [src, dst] pairs (got {})",
                    kind(v)
                ),
            )
            .hint("write `pip_secret_mounts: [[\".netrc\", \"/root/.netrc\"]]`"))
        }
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        // A typed spec has flytekit's tuples; a plain one (an imagespec
        // extension: pyflyte cannot take them) has two-item lists.
        let pair = match &item.value {
            NodeValue::Seq(pair) | NodeValue::Tuple(pair) if pair.len() == 2 => {
                (value_str(&pair[0]), value_str(&pair[1]))
            }
            _ => (None, None),
        };
        match pair {
            (Some(src), Some(dst)) => out.push(SecretMount {
                src: src.to_string(),
                dst: dst.to_string(),
            }),
            _ => {
                return Err(err(
                    item,
                    &format!("{FIELD}[{i}]"),
                    format!("pip_secret_mounts must be a list of tuples of two strings or None (item {i} is {})", kind(item)),
                )
                .hint("write each entry as [\"local/secret/file\", \"/path/in/build\"]"))
            }
        }
    }
    Ok(Some(out))
}
