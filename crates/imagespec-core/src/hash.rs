//! `id`, `tag` and `image_name`, byte-identical to flytekit 1.16's.
//!
//! flytekit hashes `str(d)`, where `d` is the dict of the spec's non-`None`
//! fields in declaration order (without `pip_secret_mounts`, `builder` and
//! `runtime_packages`): md5, unpadded URL-safe base64. The `tag` first replaces
//! `source_root`, `copy` and `requirements` by digests of what they name and a
//! nested base spec by its image name, and drops `registry_config`; then it
//! turns `-` into `_` and applies `tag_format`.

use base64::Engine as _;
use md5::{Digest as _, Md5};
use serde::Serialize;
use sha1::Sha1;

use crate::error::{Error, Result, SpecError};
use crate::pyvalue::PyValue;
use crate::source;
use crate::spec::{BaseImage, CopyMode, ImageSpec};

/// What a spec's name is made of, and the inputs that made it: the answer to
/// "why did my tag change?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// flytekit's `ImageSpec.id` (written into the image as `_F_IMG_ID`).
    pub id: String,
    /// flytekit's `ImageSpec.tag`.
    pub tag: String,
    /// `[registry/]name:tag`.
    pub image_name: String,
    /// The facts the tag hashed.
    pub inputs: TagInputs,
    /// The source files the digest covered, in digest order (reused for the
    /// build context, so the tree is listed once).
    #[serde(skip)]
    pub source_files: Vec<source::SourceFile>,
}

/// The file-derived values that replace paths before the tag is hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct TagInputs {
    /// md5 of the source files (copy mode `all` / `loaded_modules`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_digest: Option<String>,
    /// md5 of the `copy` entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy_digest: Option<String>,
    /// sha1 of the requirements file, stripped of surrounding white space.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirements_sha1: Option<String>,
    /// The image name of a nested base spec.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_image: Option<String>,
    /// Exactly the text whose md5 is the id.
    pub id_text: String,
    /// Exactly the text whose md5 is the tag (before `-` → `_` and tag_format).
    pub tag_text: String,
}

/// Field values that replace the spec's own in the hashed dict.
#[derive(Default)]
struct Overrides {
    base_image: Option<String>,
    source_root: Option<String>,
    copy: Option<String>,
    requirements: Option<String>,
    drop_registry_config: bool,
}

fn s(v: &str) -> PyValue {
    PyValue::Str(v.to_string())
}

fn list(v: &[String]) -> PyValue {
    PyValue::List(v.iter().map(|x| s(x)).collect())
}

/// The dict flytekit hashes, as a Python value.
fn hash_dict(spec: &ImageSpec, o: &Overrides) -> PyValue {
    let mut d: Vec<(PyValue, PyValue)> = Vec::new();
    let mut put = |k: &str, v: Option<PyValue>| {
        if let Some(v) = v {
            d.push((s(k), v));
        }
    };
    put("name", Some(s(&spec.name)));
    put("python_version", spec.python_version.clone());
    put(
        "source_root",
        o.source_root
            .as_deref()
            .or(spec.source_root.as_deref())
            .map(s),
    );
    put("env", spec.env.clone().map(PyValue::Dict));
    put("registry", spec.registry.as_deref().map(s));
    put("packages", spec.packages.as_deref().map(list));
    put("conda_packages", spec.conda_packages.as_deref().map(list));
    put("conda_channels", spec.conda_channels.as_deref().map(list));
    put(
        "requirements",
        o.requirements
            .as_deref()
            .or(spec.requirements.as_deref())
            .map(s),
    );
    put("apt_packages", spec.apt_packages.as_deref().map(list));
    put("cuda", spec.cuda.clone());
    put("cudnn", spec.cudnn.clone());
    let base = match (&o.base_image, &spec.base_image) {
        (Some(name), _) => Some(s(name)),
        (None, Some(BaseImage::Name(name))) => Some(s(name)),
        (None, Some(BaseImage::Spec(nested))) => Some(hash_dict(nested, &Overrides::default())),
        (None, None) => None,
    };
    put("base_image", base);
    put("platform", spec.platform.as_deref().map(s));
    put("pip_index", spec.pip_index.as_deref().map(s));
    put(
        "pip_extra_index_url",
        spec.pip_extra_index_url.as_deref().map(list),
    );
    put("pip_extra_args", spec.pip_extra_args.as_deref().map(s));
    if !o.drop_registry_config {
        put("registry_config", spec.registry_config.as_deref().map(s));
    }
    put("entrypoint", spec.entrypoint.as_deref().map(list));
    put("commands", spec.commands.as_deref().map(list));
    put("tag_format", spec.tag_format.as_deref().map(s));
    put("source_copy_mode", spec.source_copy_mode.clone());
    match &o.copy {
        Some(digest) => put("copy", Some(s(digest))),
        None => put("copy", spec.copy.as_deref().map(list)),
    }
    put("python_exec", spec.python_exec.as_deref().map(s));
    put(
        "builder_options",
        spec.builder_options.clone().map(PyValue::Dict),
    );
    put(
        "builder_config",
        spec.builder_config.clone().map(PyValue::Dict),
    );
    PyValue::Dict(d)
}

/// md5 → unpadded URL-safe base64, as flytekit's `id`.
fn md5_b64(text: &str) -> String {
    let digest = Md5::digest(text.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// Python's `bytes.strip()`: ASCII white space at both ends.
fn py_strip(bytes: &[u8]) -> &[u8] {
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let start = bytes.iter().position(|b| !ws(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !ws(b)).map_or(start, |e| e + 1);
    &bytes[start..end]
}

impl ImageSpec {
    /// A typed dump made after flytekit computed the spec's `tag` carries it
    /// (a cached property), and flytekit would use it as it is. imagespec
    /// computes the tag from the content instead, and refuses a dump whose
    /// recorded tag differs: the image would not hold what its tag says. (A
    /// recorded `id` is not compared: flytekit's `id` of a spec whose base is
    /// still a nested ImageSpec hashes the whole base, while the `id` written
    /// into the image is that of the spec with the base's name.)
    fn check_recorded(&self, tag: &str) -> Result<()> {
        let Some((_, Some(recorded))) = &self.recorded else {
            return Ok(());
        };
        if recorded == tag {
            return Ok(());
        }
        Err(SpecError::field(
            "tag",
            format!(
                "the typed spec records the tag `{recorded}`, but its content gives `{tag}`: \
                 the spec or its files changed after flytekit computed the tag"
            ),
        )
        .hint("dump the spec again (yaml.dump(image_spec)) from the process that builds it, or drop the recorded `tag`")
        .into())
    }

    /// The name a nested base spec stands for (reading its files), if there
    /// is one: what flytekit's engine puts in `base_image` once the base is
    /// built, its image name or the real name its builder answers with (a
    /// noop base stands for its own `base_image`).
    fn base_image_name(&self) -> Result<Option<String>> {
        let Some(BaseImage::Spec(base)) = &self.base_image else {
            return Ok(None);
        };
        let nested = |e: Error| match e {
            Error::Spec(se) => Error::Spec(se.nested_in("base_image")),
            other => other,
        };
        let identity = base.identity().map_err(nested)?;
        crate::builder::dependent_name(base, &identity.image_name)
            .map(Some)
            .map_err(nested)
    }

    /// flytekit's `id` alone: the spec as written, with a nested base replaced
    /// by its image name (what flytekit's build engine hands to the builder).
    /// Unlike the tag, it reads no file of this spec.
    pub fn id(&self) -> Result<String> {
        let text = hash_dict(
            self,
            &Overrides {
                base_image: self.base_image_name()?,
                ..Overrides::default()
            },
        )
        .repr();
        Ok(md5_b64(&text))
    }

    /// Computes id, tag and image name, reading the files the spec names.
    pub fn identity(&self) -> Result<Identity> {
        let base_name = self.base_image_name()?;
        let id_text = hash_dict(
            self,
            &Overrides {
                base_image: base_name.clone(),
                ..Overrides::default()
            },
        )
        .repr();
        let id = md5_b64(&id_text);

        let mut source_files = Vec::new();
        let mut inputs = TagInputs {
            base_image: base_name.clone(),
            ..TagInputs::default()
        };
        if let Some(mode) = self.source_copy_mode() {
            if mode != CopyMode::NoCopy {
                let Some(root) = self.source_root.as_ref().filter(|r| !r.is_empty()) else {
                    return Err(SpecError::field(
                        "source_root",
                        format!(
                            "Field source_root for image spec {} must be set when copy is set",
                            self.name
                        ),
                    )
                    .hint("set source_root, or set source_copy_mode to no_copy")
                    .into());
                };
                let files = source::list_source(self, root, mode)?;
                inputs.source_digest = Some(source::digest(&files)?);
                source_files = files;
            }
        }
        if !self.copy().is_empty() {
            let files = source::copy_digest_files(self)?;
            inputs.copy_digest = Some(source::digest(&files)?);
        }
        if let Some(req) = self.requirements.as_ref().filter(|r| !r.is_empty()) {
            let path = self.resolve(req);
            let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Error::Spec(
                    SpecError::field(
                        "requirements",
                        format!("the requirements file `{}` does not exist", path.display()),
                    )
                    .hint("paths in a spec file are relative to the spec file's folder"),
                ),
                _ => Error::io("read requirements file", &path, e),
            })?;
            inputs.requirements_sha1 = Some(hex::encode(Sha1::digest(py_strip(&bytes))));
        }

        let tag_text = hash_dict(
            self,
            &Overrides {
                base_image: base_name,
                source_root: inputs.source_digest.clone(),
                copy: inputs.copy_digest.clone(),
                requirements: inputs.requirements_sha1.clone(),
                drop_registry_config: true,
            },
        )
        .repr();
        let spec_hash = md5_b64(&tag_text).replace('-', "_");
        let tag = match &self.tag_format {
            Some(format) => format_tag(format, &spec_hash)?,
            None => spec_hash,
        };
        crate::spec::validate_tag(&tag)?;
        let image_name = match &self.registry {
            Some(registry) => format!("{registry}/{}:{tag}", self.name),
            None => format!("{}:{tag}", self.name),
        };
        inputs.id_text = id_text;
        inputs.tag_text = tag_text;
        self.check_recorded(&tag)?;
        Ok(Identity {
            id,
            tag,
            image_name,
            inputs,
            source_files,
        })
    }
}

fn format_error(format: &str, message: impl std::fmt::Display) -> Error {
    SpecError::field("tag_format", format!("cannot format `{format}`: {message}"))
        .hint("tag_format is a Python format string whose only field is `{spec_hash}`, e.g. `{spec_hash}-dev`")
        .into()
}

/// Python's `tag_format.format(spec_hash=hash)`, for the subset of the format
/// mini-language that can apply to one string field: `{spec_hash}`,
/// `{spec_hash[i]}`, conversions `!s` `!r` `!a`, and fill/align/width/precision.
pub fn format_tag(format: &str, hash: &str) -> Result<String> {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '}' => {
                return Err(format_error(
                    format,
                    "Single '}' encountered in format string",
                ))
            }
            '{' => {
                let mut field = String::new();
                let mut depth = 0usize;
                loop {
                    match chars.next() {
                        None => {
                            return Err(format_error(format, "expected '}' before end of string"))
                        }
                        Some('[') => {
                            depth += 1;
                            field.push('[');
                        }
                        Some(']') => {
                            depth = depth.saturating_sub(1);
                            field.push(']');
                        }
                        Some('{') if depth == 0 => {
                            return Err(format_error(
                                format,
                                "nested replacement fields are not supported",
                            ))
                        }
                        Some('}') if depth == 0 => break,
                        Some(ch) => field.push(ch),
                    }
                }
                out.push_str(&format_field(format, &field, hash)?);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

fn format_field(format: &str, field: &str, hash: &str) -> Result<String> {
    let (name_part, spec) = match field.find(':') {
        Some(i) => (&field[..i], &field[i + 1..]),
        None => (field, ""),
    };
    let (name_part, conversion) = match name_part.find('!') {
        Some(i) => (&name_part[..i], Some(&name_part[i + 1..])),
        None => (name_part, None),
    };
    let (name, index) = match name_part.find('[') {
        Some(i) if name_part.ends_with(']') => (
            &name_part[..i],
            Some(&name_part[i + 1..name_part.len() - 1]),
        ),
        _ => (name_part, None),
    };
    if name != "spec_hash" {
        let what = if name.is_empty() || name.chars().all(|c| c.is_ascii_digit()) {
            "positional fields are not available".to_string()
        } else {
            format!("KeyError: '{name}'")
        };
        return Err(format_error(format, what));
    }
    let mut value = hash.to_string();
    if let Some(index) = index {
        let chars: Vec<char> = value.chars().collect();
        let i: i64 = index
            .parse()
            .map_err(|_| format_error(format, "string indices must be integers"))?;
        let len = chars.len() as i64;
        let at = if i < 0 { i + len } else { i };
        if at < 0 || at >= len {
            return Err(format_error(format, "string index out of range"));
        }
        value = chars[at as usize].to_string();
    }
    value = match conversion {
        None | Some("s") => value,
        Some("r") | Some("a") => PyValue::Str(value).repr(),
        Some(other) => {
            return Err(format_error(
                format,
                format!("Unknown conversion specifier {other}"),
            ))
        }
    };
    apply_str_spec(format, &value, spec)
}

/// The string presentation of Python's format mini-language.
fn apply_str_spec(format: &str, value: &str, spec: &str) -> Result<String> {
    if spec.is_empty() {
        return Ok(value.to_string());
    }
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let is_align = |c: char| matches!(c, '<' | '>' | '^' | '=');
    let (mut fill, mut align) = (' ', '<');
    if chars.len() >= 2 && is_align(chars[1]) {
        fill = chars[0];
        align = chars[1];
        i = 2;
    } else if !chars.is_empty() && is_align(chars[0]) {
        align = chars[0];
        i = 1;
    }
    if align == '=' {
        return Err(format_error(
            format,
            "'=' alignment not allowed in string format specifier",
        ));
    }
    if i < chars.len() && matches!(chars[i], '+' | '-' | ' ') {
        return Err(format_error(
            format,
            "Sign not allowed in string format specifier",
        ));
    }
    if i < chars.len() && chars[i] == '0' {
        if i == 0 || !is_align(chars[i - 1]) {
            fill = '0';
        }
        i += 1;
    }
    let mut width = 0usize;
    while i < chars.len() && chars[i].is_ascii_digit() {
        width = width * 10 + chars[i].to_digit(10).unwrap_or(0) as usize;
        i += 1;
    }
    let mut precision = None;
    if i < chars.len() && chars[i] == '.' {
        i += 1;
        let mut p = 0usize;
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            p = p * 10 + chars[i].to_digit(10).unwrap_or(0) as usize;
            i += 1;
        }
        if i == start {
            return Err(format_error(format, "Format specifier missing precision"));
        }
        precision = Some(p);
    }
    if i < chars.len() && chars[i] == 's' {
        i += 1;
    }
    if i != chars.len() {
        return Err(format_error(
            format,
            format!("Invalid format specifier '{spec}' for object of type 'str'"),
        ));
    }
    let mut v: Vec<char> = value.chars().collect();
    if let Some(p) = precision {
        v.truncate(p);
    }
    let pad = width.saturating_sub(v.len());
    let (left, right) = match align {
        '>' => (pad, 0),
        '^' => (pad / 2, pad - pad / 2),
        _ => (0, pad),
    };
    let mut out = String::new();
    out.extend(std::iter::repeat_n(fill, left));
    out.extend(v);
    out.extend(std::iter::repeat_n(fill, right));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_format_mini_language() {
        let h = "AbC-d";
        assert_eq!(format_tag("{spec_hash}-dev", h).unwrap(), "AbC-d-dev");
        assert_eq!(format_tag("{{x}}{spec_hash}", h).unwrap(), "{x}AbC-d");
        assert_eq!(format_tag("{spec_hash[0]}", h).unwrap(), "A");
        assert_eq!(format_tag("{spec_hash[-1]}", h).unwrap(), "d");
        assert_eq!(format_tag("{spec_hash:.3}", h).unwrap(), "AbC");
        assert_eq!(format_tag("{spec_hash:_>7}", h).unwrap(), "__AbC-d");
        assert_eq!(format_tag("{spec_hash:^9}", h).unwrap(), "  AbC-d  ");
        assert_eq!(format_tag("{spec_hash!r}", h).unwrap(), "'AbC-d'");
        assert!(format_tag("{other}", h).is_err());
        assert!(format_tag("{}", h).is_err());
        assert!(format_tag("{spec_hash", h).is_err());
        assert!(format_tag("x}", h).is_err());
        assert!(format_tag("{spec_hash:+}", h).is_err());
    }

    #[test]
    fn strip_is_pythons_bytes_strip() {
        assert_eq!(py_strip(b" \t\na b\r\n\x0b\x0c"), b"a b");
        assert_eq!(py_strip(b"   "), b"");
        assert_eq!(py_strip(b""), b"");
    }
}
