//! The spec model: every field of flytekit 1.16's `ImageSpec`, with its meaning.
//!
//! An [`ImageSpec`] is immutable once made. It is normalised the way flytekit's
//! `__post_init__` normalises it (lower-cased name and registry, the default
//! platform, the copy mode that a source root implies), so that hashing it gives
//! flytekit's tag. Change one with the builder-style `with_*` methods, which
//! return a new spec, as flytekit's do.

mod load;
mod validate;

use std::path::{Path, PathBuf};

use crate::error::SpecError;
use imagespec_pycompat::PyValue;

pub use load::FIELDS;
pub use load::{load_file, load_file_with, load_str, load_str_with, SpecFormat};
pub use validate::validate_registry;
pub(crate) use validate::validate_tag;

/// An ordered mapping, as a Python `dict` built from YAML keeps it.
pub type PyDict = Vec<(PyValue, PyValue)>;

/// A member of flytekit's `CopyFileDetection` enum: which source files go into the image.
///
/// A spec holds `source_copy_mode` as the Python value it was given (see
/// [`ImageSpec::source_copy_mode_raw`]): plain YAML gives a string, and
/// flytekit compares it with the enum, which no string equals. So a string
/// (any value but a member) copies every file; only the typed form
/// (`!!python/object/apply:flytekit.constants.CopyFileDetection`), or the
/// `LOADED_MODULES` that a `source_root` without a mode implies, is a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CopyMode {
    /// flytekit: the Python modules the running process imported from under
    /// source_root. pyflyte reads a spec file before it imports the user's
    /// workflow, so this is normally nothing; a caller that knows the loaded
    /// modules passes them ([`LoadOptions::loaded_modules`]).
    LoadedModules,
    /// Every file under source_root that no ignore file excludes.
    All,
    /// Nothing.
    NoCopy,
}

impl CopyMode {
    /// The spellings `--fix-flytekit-quirks` reads as members.
    pub const NAMES: [&'static str; 3] = ["all", "no_copy", "loaded_modules"];

    /// Parses `all` / `no_copy` / `loaded_modules` (any case; flytekit's member
    /// names `ALL`, `NO_COPY`, `LOADED_MODULES`, `CopyFileDetection.X`, and the
    /// CLI spellings `none` and `auto` too).
    pub fn parse(s: &str) -> Option<CopyMode> {
        let s = s.trim();
        let s = s.strip_prefix("CopyFileDetection.").unwrap_or(s);
        match s.to_ascii_lowercase().as_str() {
            "all" => Some(CopyMode::All),
            "no_copy" | "none" => Some(CopyMode::NoCopy),
            "loaded_modules" | "auto" => Some(CopyMode::LoadedModules),
            _ => None,
        }
    }

    /// The member with this value (`CopyFileDetection(value)`).
    pub fn from_value(value: i64) -> Option<CopyMode> {
        match value {
            1 => Some(CopyMode::LoadedModules),
            2 => Some(CopyMode::All),
            3 => Some(CopyMode::NoCopy),
            _ => None,
        }
    }

    /// The member a Python value is, if it is one.
    pub fn from_py(value: &PyValue) -> Option<CopyMode> {
        match value {
            PyValue::Enum {
                class: "CopyFileDetection",
                value,
                ..
            } => CopyMode::from_value(*value),
            _ => None,
        }
    }

    /// The enum member as flytekit's hash sees it.
    pub fn to_py(self) -> PyValue {
        let (member, value) = match self {
            CopyMode::LoadedModules => ("LOADED_MODULES", 1),
            CopyMode::All => ("ALL", 2),
            CopyMode::NoCopy => ("NO_COPY", 3),
        };
        PyValue::Enum {
            class: "CopyFileDetection",
            member,
            value,
        }
    }
}

/// How specs are read: imagespec's optional fixes of flytekit's traps, and
/// facts only the caller knows. Not part of the hash; a nested base inherits
/// its parent's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// `--fix-flytekit-quirks`: read a `source_copy_mode` string as the enum
    /// member it names, apply ignore files relative to a relative source_root,
    /// match loaded modules against the resolved source_root, and walk copied
    /// folders in sorted order. Tags then differ from flytekit's.
    pub fix_flytekit_quirks: bool,
    /// The module files (`module.__file__`) the calling Python process has
    /// loaded, for `loaded_modules`. `None`: pyflyte's case, nothing loaded
    /// from under source_root.
    pub loaded_modules: Option<Vec<String>>,
    /// `--allow-outside-links`: follow links in `copy` entries and under
    /// source_root wherever they lead, as flytekit does. Off: a link that
    /// resolves outside the spec's folder (for `copy`) or source_root is
    /// refused, so a spec cannot pull in `/etc` through a link.
    pub allow_outside_links: bool,
    /// Where digests of unchanged trees are remembered (a stat cache, see
    /// [`crate::inputs`]); `None`: every tree is hashed (`--no-cache`).
    pub digest_cache: Option<std::path::PathBuf>,
    /// `--base-dir`: the folder relative paths in a spec file are taken
    /// from, instead of the file's own folder. flytekit takes them from the
    /// current folder of the Python process; a program that hands a spec
    /// over in a temporary file (the flytekit plugin) passes that folder.
    pub base_dir: Option<PathBuf>,
    /// `--display-name`: how messages name a spec read from a file, instead
    /// of the file (a temporary file another program wrote is no use to the
    /// user). Its lines are not shown either.
    pub display_name: Option<String>,
    /// Reads of absolute paths under the first folder go to the same place
    /// under the second: `explain --against git:REV` reads a revision's
    /// files from the tree it wrote out, while the spec keeps the paths it
    /// holds (and is hashed with them).
    pub read_root: Option<(PathBuf, PathBuf)>,
    /// `--allow-outside-paths`: read files the spec names outside its
    /// project (see [`crate::inputs::outside_project`]), as flytekit does.
    /// Off: such a path is refused, naming the field, so that a spec from
    /// elsewhere cannot put `~/.ssh` or `/etc/passwd` into an image.
    pub allow_outside_paths: bool,
    /// The project's folder, when the caller knows it better than
    /// [`crate::inputs::project_root`] (`explain` reading a revision's tree).
    pub project_root: Option<PathBuf>,
}

/// `pip_secret_mounts` entry: a local secret file and where the install step sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SecretMount {
    /// The secret's file on the build machine (relative paths: to the spec's folder).
    pub src: String,
    /// Where the file appears during the install step.
    pub dst: String,
}

/// A plain YAML scalar that YAML 1.1 (PyYAML's `safe_load`, as pyflyte reads
/// a spec) typed as something other than a string, where what flytekit
/// writes (`str()` of the value) is not the text written: `yes` is `True`,
/// `0755` is 493, `3.10` is 3.1, `~` is `None`. The loader records them (in
/// `env` names and values, and `python_version`); [`crate::lint`] reports them.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedScalar {
    /// The field: `python_version`, `env.FLAG` (the name as Python's `str()` writes it).
    pub field: String,
    /// Its line in the spec file, when known.
    pub line: Option<usize>,
    /// A mapping key (an env name) rather than a value.
    pub is_key: bool,
    /// The text as written, when the loader could tell (not for JSON).
    pub written: Option<String>,
    /// What YAML made of it.
    pub value: PyValue,
}

/// `base_image`: an image reference, or a spec that is built first.
#[derive(Debug, Clone, PartialEq)]
pub enum BaseImage {
    /// An image reference such as `debian:bookworm-slim`.
    Name(String),
    /// A nested spec; its image name becomes the base.
    Spec(Box<ImageSpec>),
}

/// A container image spec, field for field flytekit's `ImageSpec`.
///
/// Fields that flytekit leaves `None` when unset are `Option`s here, because
/// flytekit's hash tells an absent field from an empty one (`packages: []`
/// changes the tag). The accessors without `_raw` give the everyday view,
/// where absent and empty are the same.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSpec {
    pub(crate) name: String,
    pub(crate) python_version: Option<PyValue>,
    pub(crate) builder: Option<String>,
    pub(crate) source_root: Option<String>,
    pub(crate) env: Option<PyDict>,
    pub(crate) registry: Option<String>,
    pub(crate) packages: Option<Vec<String>>,
    pub(crate) conda_packages: Option<Vec<String>>,
    pub(crate) conda_channels: Option<Vec<String>>,
    pub(crate) requirements: Option<String>,
    pub(crate) apt_packages: Option<Vec<String>>,
    pub(crate) cuda: Option<PyValue>,
    pub(crate) cudnn: Option<PyValue>,
    pub(crate) base_image: Option<BaseImage>,
    pub(crate) platform: Option<String>,
    pub(crate) pip_index: Option<String>,
    pub(crate) pip_extra_index_url: Option<Vec<String>>,
    pub(crate) pip_secret_mounts: Option<Vec<SecretMount>>,
    pub(crate) pip_extra_args: Option<String>,
    pub(crate) registry_config: Option<String>,
    pub(crate) entrypoint: Option<Vec<String>>,
    pub(crate) commands: Option<Vec<String>>,
    pub(crate) tag_format: Option<String>,
    pub(crate) source_copy_mode: Option<PyValue>,
    pub(crate) copy: Option<Vec<String>>,
    pub(crate) python_exec: Option<String>,
    pub(crate) runtime_packages: Option<Vec<String>>,
    pub(crate) builder_options: Option<PyDict>,
    pub(crate) builder_config: Option<PyDict>,

    /// The folder relative paths resolve against: the spec file's folder.
    pub(crate) base_dir: PathBuf,
    /// The spec file, for error messages.
    pub(crate) file: Option<PathBuf>,
    /// flytekit's `_is_force_push`.
    pub(crate) force_push: bool,
    /// flytekit's `_fast_fail` (a typed spec carries it; else the environment decides).
    pub(crate) fast_fail: bool,
    /// Read from a typed dump (`!!python/object:...ImageSpec`): the object was
    /// restored without `__post_init__`, so nothing was normalised.
    pub(crate) typed: bool,
    /// The `tag` a typed dump carried (flytekit's cached property): checked
    /// against what imagespec computes.
    pub(crate) recorded_tag: Option<String>,
    /// How the spec was read.
    pub(crate) options: std::sync::Arc<LoadOptions>,
    /// The line each top-level field was written on, for error messages.
    pub(crate) field_lines: std::collections::BTreeMap<String, usize>,
    /// The line of each list item (`packages[2]`) and mapping key (`env.FLAG`).
    pub(crate) item_lines: std::collections::BTreeMap<String, usize>,
    /// The plain scalars YAML typed into something else than was written.
    pub(crate) typed_scalars: Vec<TypedScalar>,
}

impl Default for ImageSpec {
    fn default() -> Self {
        ImageSpec {
            name: "flytekit".to_string(),
            python_version: None,
            builder: None,
            source_root: None,
            env: None,
            registry: None,
            packages: None,
            conda_packages: None,
            conda_channels: None,
            requirements: None,
            apt_packages: None,
            cuda: None,
            cudnn: None,
            base_image: None,
            platform: None,
            pip_index: None,
            pip_extra_index_url: None,
            pip_secret_mounts: None,
            pip_extra_args: None,
            registry_config: None,
            entrypoint: None,
            commands: None,
            tag_format: None,
            source_copy_mode: None,
            copy: None,
            python_exec: None,
            runtime_packages: None,
            builder_options: None,
            builder_config: None,
            base_dir: PathBuf::from("."),
            file: None,
            force_push: false,
            fast_fail: false,
            typed: false,
            recorded_tag: None,
            options: Default::default(),
            field_lines: Default::default(),
            item_lines: Default::default(),
            typed_scalars: Vec::new(),
        }
    }
}

fn slice(v: &Option<Vec<String>>) -> &[String] {
    v.as_deref().unwrap_or(&[])
}

fn dict(v: &Option<PyDict>) -> &[(PyValue, PyValue)] {
    v.as_deref().unwrap_or(&[])
}

impl ImageSpec {
    /// A spec named `name`, everything else unset, paths relative to the
    /// current folder. Fails when the name is invalid.
    pub fn new(name: impl Into<String>) -> Result<Self, SpecError> {
        ImageSpec {
            name: name.into(),
            ..ImageSpec::default()
        }
        .normalized()
    }

    /// Applies flytekit's `__post_init__` and imagespec's checks. Every
    /// constructor and builder method ends here.
    pub(crate) fn normalized(mut self) -> Result<Self, SpecError> {
        validate::post_init(&mut self)?;
        Ok(self)
    }

    // ---- accessors -------------------------------------------------------

    /// The image name, lower-cased.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// `python_version` as the spec typed it (a YAML float stays a float).
    pub fn python_version_raw(&self) -> Option<&PyValue> {
        self.python_version.as_ref()
    }
    /// `python_version` as flytekit writes it into the Dockerfile (`str()`).
    pub fn python_version(&self) -> Option<String> {
        self.python_version.as_ref().map(PyValue::py_str)
    }
    /// The builder the spec asks for, if any.
    pub fn builder(&self) -> Option<&str> {
        self.builder.as_deref()
    }
    /// `source_root` as written.
    pub fn source_root(&self) -> Option<&str> {
        self.source_root.as_deref()
    }
    /// `env` in the spec's order (keys and values keep their YAML types).
    pub fn env(&self) -> &[(PyValue, PyValue)] {
        dict(&self.env)
    }
    /// The registry, lower-cased.
    pub fn registry(&self) -> Option<&str> {
        self.registry.as_deref()
    }
    /// Python packages.
    pub fn packages(&self) -> &[String] {
        slice(&self.packages)
    }
    /// `packages`, telling absent (`None`) from empty.
    pub fn packages_raw(&self) -> Option<&[String]> {
        self.packages.as_deref()
    }
    /// Conda packages.
    pub fn conda_packages(&self) -> &[String] {
        slice(&self.conda_packages)
    }
    /// Conda channels.
    pub fn conda_channels(&self) -> &[String] {
        slice(&self.conda_channels)
    }
    /// `requirements` as written.
    pub fn requirements(&self) -> Option<&str> {
        self.requirements.as_deref()
    }
    /// Debian packages.
    pub fn apt_packages(&self) -> &[String] {
        slice(&self.apt_packages)
    }
    /// `cuda` (always an error for the default builder, as in flytekit).
    pub fn cuda(&self) -> Option<&PyValue> {
        self.cuda.as_ref()
    }
    /// `cudnn` (always an error for the default builder, as in flytekit).
    pub fn cudnn(&self) -> Option<&PyValue> {
        self.cudnn.as_ref()
    }
    /// `base_image`.
    pub fn base_image(&self) -> Option<&BaseImage> {
        self.base_image.as_ref()
    }
    /// The target platform(s), defaulted as flytekit defaults them.
    pub fn platform(&self) -> &str {
        self.platform.as_deref().unwrap_or("linux/amd64")
    }
    /// Each platform of a comma-separated `platform`.
    pub fn platforms(&self) -> Vec<&str> {
        self.platform()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect()
    }
    /// `pip_index`.
    pub fn pip_index(&self) -> Option<&str> {
        self.pip_index.as_deref()
    }
    /// `pip_extra_index_url`.
    pub fn pip_extra_index_url(&self) -> &[String] {
        slice(&self.pip_extra_index_url)
    }
    /// `pip_secret_mounts`.
    pub fn pip_secret_mounts(&self) -> &[SecretMount] {
        self.pip_secret_mounts.as_deref().unwrap_or(&[])
    }
    /// `pip_extra_args`.
    pub fn pip_extra_args(&self) -> Option<&str> {
        self.pip_extra_args.as_deref()
    }
    /// `registry_config`.
    pub fn registry_config(&self) -> Option<&str> {
        self.registry_config.as_deref()
    }
    /// `entrypoint`: `None` keeps the base image's, `Some([])` removes it.
    pub fn entrypoint(&self) -> Option<&[String]> {
        self.entrypoint.as_deref()
    }
    /// Shell commands run at the end of the build.
    pub fn commands(&self) -> &[String] {
        slice(&self.commands)
    }
    /// `tag_format`, e.g. `{spec_hash}-dev`.
    pub fn tag_format(&self) -> Option<&str> {
        self.tag_format.as_deref()
    }
    /// What `source_copy_mode` does, as flytekit's comparisons decide it:
    /// `None` when unset, the member for an enum member, and
    /// [`CopyMode::All`] for any other value (a string never equals a member).
    pub fn source_copy_mode(&self) -> Option<CopyMode> {
        self.source_copy_mode
            .as_ref()
            .map(|v| CopyMode::from_py(v).unwrap_or(CopyMode::All))
    }
    /// `source_copy_mode` as the Python value it is (and is hashed as).
    pub fn source_copy_mode_raw(&self) -> Option<&PyValue> {
        self.source_copy_mode.as_ref()
    }
    /// True when the spec came from a typed dump (`yaml.dump(image_spec)`).
    pub fn is_typed(&self) -> bool {
        self.typed
    }
    /// The `tag` a typed dump recorded, if any.
    pub fn recorded_tag(&self) -> Option<&str> {
        self.recorded_tag.as_deref()
    }
    /// imagespec's own checks (nothing a user writes may change the
    /// Dockerfile's instructions): the same verdict for every command.
    pub fn check(&self) -> Result<(), SpecError> {
        validate::check(self)
    }
    /// flytekit's `_fast_fail`, as a typed spec carries it.
    pub fn is_fast_fail(&self) -> bool {
        self.fast_fail
    }
    /// How the spec was read.
    pub fn load_options(&self) -> &LoadOptions {
        &self.options
    }
    /// Files and folders copied to `/root`.
    pub fn copy(&self) -> &[String] {
        slice(&self.copy)
    }
    /// `python_exec`.
    pub fn python_exec(&self) -> Option<&str> {
        self.python_exec.as_deref()
    }
    /// `runtime_packages`.
    pub fn runtime_packages(&self) -> &[String] {
        slice(&self.runtime_packages)
    }
    /// `builder_options`.
    pub fn builder_options(&self) -> &[(PyValue, PyValue)] {
        dict(&self.builder_options)
    }
    /// `builder_config`.
    pub fn builder_config(&self) -> &[(PyValue, PyValue)] {
        dict(&self.builder_config)
    }
    /// A string value of `builder_config`, e.g. a helper image.
    pub fn builder_config_str(&self, key: &str) -> Option<&str> {
        self.builder_config()
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .and_then(|(_, v)| v.as_str())
    }
    /// True when force push was asked for (`force_push()`).
    pub fn is_force_push(&self) -> bool {
        self.force_push
    }
    /// The fields whose value is not `None`, in declaration order (flytekit's
    /// `vars(image_spec)` without the private attributes).
    pub fn set_fields(&self) -> Vec<&'static str> {
        let set = [
            true,
            self.python_version.is_some(),
            self.builder.is_some(),
            self.source_root.is_some(),
            self.env.is_some(),
            self.registry.is_some(),
            self.packages.is_some(),
            self.conda_packages.is_some(),
            self.conda_channels.is_some(),
            self.requirements.is_some(),
            self.apt_packages.is_some(),
            self.cuda.is_some(),
            self.cudnn.is_some(),
            self.base_image.is_some(),
            self.platform.is_some(),
            self.pip_index.is_some(),
            self.pip_extra_index_url.is_some(),
            self.pip_secret_mounts.is_some(),
            self.pip_extra_args.is_some(),
            self.registry_config.is_some(),
            self.entrypoint.is_some(),
            self.commands.is_some(),
            self.tag_format.is_some(),
            self.source_copy_mode.is_some(),
            self.copy.is_some(),
            self.python_exec.is_some(),
            self.runtime_packages.is_some(),
            self.builder_options.is_some(),
            self.builder_config.is_some(),
        ];
        FIELDS
            .iter()
            .zip(set)
            .filter_map(|(f, s)| s.then_some(*f))
            .collect()
    }

    /// The folder that relative paths in this spec resolve against.
    pub fn base_dir(&self) -> &Path {
        &self.base_dir
    }
    /// The file this spec was loaded from, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }
    /// The line a field was written on, when the spec came from YAML.
    /// Takes a field path such as `copy[2]` or `base_image.packages`; a
    /// path into a nested base (`base_image.base_image.copy[0]`) is the
    /// line in that base.
    pub fn line_of(&self, field_path: &str) -> Option<usize> {
        if let Some((nested, rest)) = self.nested_path(field_path) {
            return nested.line_of(rest).or_else(|| self.line_of("base_image"));
        }
        let top = field_path.split(['.', '[']).next().unwrap_or(field_path);
        self.field_lines.get(top).copied()
    }

    /// The line of a list item (`packages[2]`) or mapping key (`env.FLAG`,
    /// named as `str()` writes it), else of its field ([`ImageSpec::line_of`]).
    pub fn item_line(&self, path: &str) -> Option<usize> {
        if let Some((nested, rest)) = self.nested_path(path) {
            return nested
                .item_line(rest)
                .or_else(|| self.line_of("base_image"));
        }
        self.item_lines
            .get(path)
            .copied()
            .or_else(|| self.line_of(path))
    }

    /// For `base_image.REST` when the base is a nested spec: that spec and REST.
    fn nested_path<'p>(&self, path: &'p str) -> Option<(&ImageSpec, &'p str)> {
        let rest = path.strip_prefix("base_image.")?;
        match &self.base_image {
            Some(BaseImage::Spec(nested)) => Some((nested, rest)),
            _ => None,
        }
    }

    /// Drops the line tables (of this spec and its nested bases): for a spec
    /// whose file the user never saw, no line is shown.
    pub(crate) fn forget_lines(&mut self) {
        self.field_lines.clear();
        self.item_lines.clear();
        for t in &mut self.typed_scalars {
            t.line = None;
        }
        if let Some(BaseImage::Spec(nested)) = &mut self.base_image {
            nested.forget_lines();
        }
    }
    /// The plain scalars YAML 1.1 typed into a value whose `str()` is not
    /// what was written (see [`TypedScalar`]), in the file's order.
    pub fn typed_scalars(&self) -> &[TypedScalar] {
        &self.typed_scalars
    }

    /// Resolves a path from the spec against the spec's folder (and, for an
    /// absolute path, through [`LoadOptions::read_root`]).
    pub fn resolve(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if !p.is_absolute() {
            return self.base_dir.join(p);
        }
        match &self.options.read_root {
            Some((from, to)) => match p.strip_prefix(from) {
                Ok(rest) => to.join(rest),
                Err(_) => p.to_path_buf(),
            },
            None => p.to_path_buf(),
        }
    }

    // ---- builder-style updates (flytekit's with_* methods) ----------------

    /// A new spec with more Python packages.
    pub fn with_packages<I: IntoIterator<Item = S>, S: Into<String>>(
        &self,
        packages: I,
    ) -> Result<Self, SpecError> {
        let mut s = self.clone();
        extend(&mut s.packages, packages);
        s.normalized()
    }
    /// A new spec with more apt packages.
    pub fn with_apt_packages<I: IntoIterator<Item = S>, S: Into<String>>(
        &self,
        packages: I,
    ) -> Result<Self, SpecError> {
        let mut s = self.clone();
        extend(&mut s.apt_packages, packages);
        s.normalized()
    }
    /// A new spec with more build commands.
    pub fn with_commands<I: IntoIterator<Item = S>, S: Into<String>>(
        &self,
        commands: I,
    ) -> Result<Self, SpecError> {
        let mut s = self.clone();
        extend(&mut s.commands, commands);
        s.normalized()
    }
    /// A new spec with more files or folders to copy.
    pub fn with_copy<I: IntoIterator<Item = S>, S: Into<String>>(
        &self,
        paths: I,
    ) -> Result<Self, SpecError> {
        let mut s = self.clone();
        extend(&mut s.copy, paths);
        s.normalized()
    }
    /// A new spec with more runtime packages.
    pub fn with_runtime_packages<I: IntoIterator<Item = S>, S: Into<String>>(
        &self,
        packages: I,
    ) -> Result<Self, SpecError> {
        let mut s = self.clone();
        extend(&mut s.runtime_packages, packages);
        s.normalized()
    }
    /// A new spec with more builder options (later keys replace earlier ones).
    pub fn with_builder_options<I: IntoIterator<Item = (String, PyValue)>>(
        &self,
        options: I,
    ) -> Result<Self, SpecError> {
        let mut s = self.clone();
        let map = s.builder_options.get_or_insert_with(Vec::new);
        for (k, v) in options {
            dict_insert(map, PyValue::Str(k), v);
        }
        s.normalized()
    }
    /// A new spec with force push on: build and push even when the image exists.
    pub fn force_push(&self) -> Self {
        let mut s = self.clone();
        s.force_push = true;
        s
    }
    /// A new spec with `base_image` set.
    pub fn with_base_image(&self, base: BaseImage) -> Result<Self, SpecError> {
        let mut s = self.clone();
        s.base_image = Some(base);
        s.normalized()
    }
    /// A new spec with `python_version` set (as a string).
    pub fn with_python_version(&self, version: impl Into<String>) -> Result<Self, SpecError> {
        let mut s = self.clone();
        s.python_version = Some(PyValue::Str(version.into()));
        s.normalized()
    }
    /// A new spec with the registry set.
    pub fn with_registry(&self, registry: impl Into<String>) -> Result<Self, SpecError> {
        let mut s = self.clone();
        s.registry = Some(registry.into());
        s.normalized()
    }
    /// A new spec whose relative paths resolve against `dir`.
    pub fn with_base_dir(&self, dir: impl Into<PathBuf>) -> Self {
        let mut s = self.clone();
        s.base_dir = dir.into();
        s
    }
}

fn extend<I: IntoIterator<Item = S>, S: Into<String>>(field: &mut Option<Vec<String>>, items: I) {
    field
        .get_or_insert_with(Vec::new)
        .extend(items.into_iter().map(Into::into));
}

/// Inserts into a Python-ordered dict: an existing key keeps its place.
pub(crate) fn dict_insert(map: &mut PyDict, key: PyValue, value: PyValue) {
    if let Some(slot) = map.iter_mut().find(|(k, _)| k.py_eq(&key)) {
        slot.1 = value;
    } else {
        map.push((key, value));
    }
}
