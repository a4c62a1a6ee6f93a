//! The one table of flytekit's `ImageSpec` fields.
//!
//! [`image_spec_fields!`] below declares every field once, in flytekit's
//! declaration order: its name, its [`Kind`] (what a spec file may hold
//! there, and so how it is read and what the JSON Schema says) and how the
//! id and tag see it ([`Hashed`]). From that one list come the struct
//! [`ImageSpec`], [`FIELDS`], reading a field from YAML (the loader asks the
//! kind), which fields are set (flytekit's `vars(image_spec)`), and the
//! order and values of the dict flytekit hashes (the identity asks each
//! field's value). Adding a field is one line here plus its meaning in the
//! command line's field docs (which name the tools flytekit uses, and so
//! cannot live in a crate that names no plugin); a test there checks that
//! both list the same fields.

use imagespec_pycompat::PyValue;

/// `builder_config` key for the base image used when the spec names none.
pub const CONFIG_BASE_IMAGE: &str = "base_image";
/// `builder_config` key that turns on a `# syntax=` directive (e.g. `docker/dockerfile:1.5`).
pub const CONFIG_SYNTAX: &str = "dockerfile_syntax";

/// An ordered mapping, as a Python `dict` built from YAML keeps it.
pub type PyDict = Vec<(PyValue, PyValue)>;

/// `pip_secret_mounts` entry: a local secret file and where the install step sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SecretMount {
    /// The secret's file on the build machine (relative paths: to the spec's folder).
    pub src: String,
    /// Where the file appears during the install step.
    pub dst: String,
}

/// `base_image`: an image reference, or a spec that is built first.
#[derive(Debug, Clone, PartialEq)]
pub enum BaseImage {
    /// An image reference such as `debian:bookworm-slim`.
    Name(String),
    /// A nested spec; its image name becomes the base.
    Spec(Box<ImageSpec>),
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The image name: a string, never `None`.
    Name,
    /// A string, or `None`.
    Str,
    /// A path (a string; relative paths are taken from the spec's folder), or `None`.
    Path,
    /// A URL (a string), or `None`.
    Url,
    /// A list of strings, or `None`.
    StrList,
    /// A list of paths, or `None`.
    PathList,
    /// A list of URLs, or `None`.
    UrlList,
    /// One value of any type, kept as Python sees it (`python_version: 3.10`
    /// is the float 3.1), or `None`.
    Scalar,
    /// A mapping of names to single values (`env`), or `None`.
    Env,
    /// A mapping of any keys and values, or `None`.
    Dict,
    /// An image name, or a nested spec, or `None`.
    BaseImage,
    /// A list of `[source, target]` pairs (tuples in a typed dump), or `None`.
    SecretMounts,
    /// Any value, kept as it is (`source_copy_mode`: a string stays a
    /// string, a typed dump's enum member stays one), or `None`.
    Any,
}

/// How flytekit's `id` and `tag` see a field (`ImageSpec.id`, `.tag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hashed {
    /// Its value, as Python's `repr()` writes it, in both.
    Value,
    /// Neither (`builder`, `pip_secret_mounts`, `runtime_packages`).
    Excluded,
    /// The id hashes its value; the tag leaves it out (`registry_config`).
    IdOnly,
    /// The tag hashes the digest of the source files in its place.
    SourceDigest,
    /// The tag hashes the digest of the files it names in its place.
    CopyDigest,
    /// The tag hashes the sha1 of the file it names in its place.
    RequirementsDigest,
    /// A nested spec is hashed as the name of the image it was built as.
    BaseImageName,
}

/// One field of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Its name, as a spec file writes it.
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
    /// How the id and tag see it.
    pub hashed: Hashed,
}

/// A field's value, borrowed (`None` from [`ImageSpec::field`] when unset).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldRef<'a> {
    Str(&'a str),
    StrList(&'a [String]),
    Py(&'a PyValue),
    Dict(&'a PyDict),
    BaseImage(&'a BaseImage),
    SecretMounts(&'a [SecretMount]),
}

/// A field's value, as the loader read it (`None` inside: unset).
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Name(String),
    Str(Option<String>),
    StrList(Option<Vec<String>>),
    Py(Option<PyValue>),
    Dict(Option<PyDict>),
    BaseImage(Option<BaseImage>),
    SecretMounts(Option<Vec<SecretMount>>),
}

/// A field's storage: how it is set from a [`FieldValue`] and seen as a [`FieldRef`].
pub(crate) trait Slot {
    fn take(&mut self, value: FieldValue);
    fn view(&self) -> Option<FieldRef<'_>>;
}

impl Slot for String {
    fn take(&mut self, value: FieldValue) {
        if let FieldValue::Name(v) = value {
            *self = v;
        }
    }
    fn view(&self) -> Option<FieldRef<'_>> {
        Some(FieldRef::Str(self))
    }
}

macro_rules! slot {
    ($ty:ty, $variant:ident, $view:expr) => {
        impl Slot for Option<$ty> {
            fn take(&mut self, value: FieldValue) {
                if let FieldValue::$variant(v) = value {
                    *self = v;
                }
            }
            fn view(&self) -> Option<FieldRef<'_>> {
                self.as_ref().map($view)
            }
        }
    };
}
slot!(String, Str, |s: &String| FieldRef::Str(s));
slot!(Vec<String>, StrList, |v: &Vec<String>| FieldRef::StrList(v));
slot!(PyValue, Py, FieldRef::Py);
slot!(PyDict, Dict, |d: &PyDict| FieldRef::Dict(d));
slot!(BaseImage, BaseImage, FieldRef::BaseImage);
slot!(Vec<SecretMount>, SecretMounts, |v: &Vec<SecretMount>| {
    FieldRef::SecretMounts(v)
});

/// The Rust type of a field of a kind.
macro_rules! field_type {
    (Name) => { String };
    (Str) => { Option<String> };
    (Path) => { Option<String> };
    (Url) => { Option<String> };
    (StrList) => { Option<Vec<String>> };
    (PathList) => { Option<Vec<String>> };
    (UrlList) => { Option<Vec<String>> };
    (Scalar) => { Option<PyValue> };
    (Env) => { Option<PyDict> };
    (Dict) => { Option<PyDict> };
    (BaseImage) => { Option<BaseImage> };
    (SecretMounts) => { Option<Vec<SecretMount>> };
    (Any) => { Option<PyValue> };
}

/// Declares every field once (see the module docs).
macro_rules! image_spec_fields {
    ($( $(#[doc = $doc:literal])* $name:ident : $kind:ident, $hashed:ident; )*) => {
        /// Every field flytekit's `ImageSpec` takes, in declaration order.
        pub const FIELDS: &[Field] = &[
            $( Field { name: stringify!($name), kind: Kind::$kind, hashed: Hashed::$hashed }, )*
        ];

        /// A container image spec: flytekit's `ImageSpec`, field for field,
        /// and nothing else (where it was read from is an
        /// `Origin` beside it).
        ///
        /// Fields that flytekit leaves `None` when unset are `Option`s here,
        /// because flytekit's hash tells an absent field from an empty one
        /// (`packages: []` changes the tag). The accessors without `_raw`
        /// give the everyday view, where absent and empty are the same.
        #[derive(Debug, Clone, PartialEq)]
        pub struct ImageSpec {
            $( $(#[doc = $doc])* pub(crate) $name: field_type!($kind), )*
        }

        impl Default for ImageSpec {
            fn default() -> Self {
                ImageSpec {
                    $( $name: Default::default(), )*
                }
                .named("flytekit")
            }
        }

        impl ImageSpec {
            /// A field's value by name; `None` when it is unset (or no field).
            pub fn field(&self, name: &str) -> Option<FieldRef<'_>> {
                match name {
                    $( stringify!($name) => Slot::view(&self.$name), )*
                    _ => None,
                }
            }

            /// Sets a field by name (the loader's way in).
            pub(crate) fn set_field(&mut self, name: &str, value: FieldValue) {
                match name {
                    $( stringify!($name) => Slot::take(&mut self.$name, value), )*
                    _ => {}
                }
            }
        }
    };
}

image_spec_fields! {
    /// The image's repository name (lower-cased, as `__post_init__` does).
    name: Name, Value;
    /// The Python version, as YAML typed it.
    python_version: Scalar, Value;
    /// The builder asked for.
    builder: Str, Excluded;
    /// The folder whose files go into the image.
    source_root: Path, SourceDigest;
    /// Environment variables, in the spec's order (keys and values keep their YAML types).
    env: Env, Value;
    /// The registry (lower-cased).
    registry: Str, Value;
    /// Python packages.
    packages: StrList, Value;
    /// Conda packages.
    conda_packages: StrList, Value;
    /// Conda channels.
    conda_channels: StrList, Value;
    /// A requirements or lock file.
    requirements: Path, RequirementsDigest;
    /// Debian packages.
    apt_packages: StrList, Value;
    /// flytekit's `cuda`.
    cuda: Scalar, Value;
    /// flytekit's `cudnn`.
    cudnn: Scalar, Value;
    /// An image reference, or a nested spec built first.
    base_image: BaseImage, BaseImageName;
    /// The target platforms, comma-separated.
    platform: Str, Value;
    /// The package index.
    pip_index: Url, Value;
    /// Extra package indexes.
    pip_extra_index_url: UrlList, Value;
    /// Secret files mounted on the install steps.
    pip_secret_mounts: SecretMounts, Excluded;
    /// Extra installer arguments (shell text).
    pip_extra_args: Str, Value;
    /// A registry configuration file (not read).
    registry_config: Path, IdOnly;
    /// The entrypoint (`[]` removes the base image's).
    entrypoint: StrList, Value;
    /// Shell commands run late in the build.
    commands: StrList, Value;
    /// A Python format string for the tag (`{spec_hash}`).
    tag_format: Str, Value;
    /// Which source files are copied (the value as given: a string stays one).
    source_copy_mode: Any, Value;
    /// Files and folders copied to `/root`.
    copy: PathList, CopyDigest;
    /// The Python a base image has.
    python_exec: Path, Value;
    /// Packages installed when a task starts.
    runtime_packages: StrList, Excluded;
    /// Options for the builder.
    builder_options: Dict, Value;
    /// Helper images and settings of the builder.
    builder_config: Dict, Value;
}

impl Kind {
    /// A field of this kind as a JSON Schema (without its description).
    pub fn json_schema(self) -> serde_json::Value {
        use serde_json::json;
        let strings = json!({"type": "array", "items": {"type": "string"}});
        match self {
            Kind::Name => json!({"type": "string", "default": "flytekit"}),
            Kind::Str | Kind::Path | Kind::Url => json!({"type": ["string", "null"]}),
            Kind::StrList | Kind::PathList | Kind::UrlList => {
                json!({"anyOf": [strings, {"type": "null"}]})
            }
            Kind::Scalar => json!({"type": ["string", "number", "integer", "boolean", "null"]}),
            Kind::Env => json!({
                "type": ["object", "null"],
                "additionalProperties": {"type": ["string", "number", "integer", "boolean", "null"]}
            }),
            Kind::Dict => json!({"type": ["object", "null"]}),
            Kind::BaseImage => {
                json!({"anyOf": [{"type": "string"}, {"$ref": "#"}, {"type": "null"}]})
            }
            Kind::SecretMounts => json!({
                "anyOf": [
                    {"type": "array", "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}},
                    {"type": "null"}
                ]
            }),
            Kind::Any => json!({}),
        }
    }

    /// How plain YAML writes a field of this kind, for people.
    pub fn plain(self) -> &'static str {
        match self {
            Kind::Name | Kind::Str => "string",
            Kind::Path => "path (relative: to the spec's folder)",
            Kind::Url => "URL",
            Kind::StrList => "list of strings",
            Kind::PathList => "list of paths (relative: to the spec's folder)",
            Kind::UrlList => "list of URLs",
            Kind::Scalar => "scalar (kept as YAML types it: quote a version such as `\"3.10\"`)",
            Kind::Env => "mapping of names to values",
            Kind::Dict => "mapping",
            Kind::BaseImage => "string (an image) or mapping (a nested spec)",
            Kind::SecretMounts => "list of [source, target] pairs",
            Kind::Any => "any value (a string is kept as a string)",
        }
    }
}

impl Hashed {
    /// What the tag does with a field, for people.
    pub fn text(self) -> &'static str {
        match self {
            Hashed::Value => "yes, its value",
            Hashed::Excluded => "no",
            Hashed::IdOnly => "no (the `id` hashes it; the tag does not)",
            Hashed::SourceDigest | Hashed::CopyDigest | Hashed::RequirementsDigest => {
                "yes, through a digest of the files it names"
            }
            Hashed::BaseImageName => "yes; a nested spec through the name of its image",
        }
    }
}

/// The field named `name`.
pub fn field(name: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.name == name)
}
