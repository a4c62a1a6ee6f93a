//! What a spec says: its fields as the pipeline reads them, and flytekit's
//! builder-style `with_*` updates.

use imagespec_pycompat::PyValue;

use super::copy_mode::CopyMode;
use super::fields::{BaseImage, ImageSpec, PyDict, SecretMount, FIELDS};
use crate::error::SpecError;
use crate::redact::Secrets;

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
        super::validate::post_init(&mut self, false, false)?;
        Ok(self)
    }

    /// The spec with this name (not checked).
    pub(crate) fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
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
    /// imagespec's own checks (nothing a user writes may change the
    /// Dockerfile's instructions): the same verdict for every command.
    pub fn check(&self) -> Result<(), SpecError> {
        super::validate::check(self)
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
    /// The fields whose value is not `None`, in declaration order (flytekit's
    /// `vars(image_spec)` without the private attributes).
    pub fn set_fields(&self) -> Vec<&'static str> {
        FIELDS
            .iter()
            .filter(|f| self.field(f.name).is_some())
            .map(|f| f.name)
            .collect()
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
}

fn extend<I: IntoIterator<Item = S>, S: Into<String>>(field: &mut Option<Vec<String>>, items: I) {
    field
        .get_or_insert_with(Vec::new)
        .extend(items.into_iter().map(Into::into));
}

/// Inserts into a Python-ordered dict: an existing key keeps its place.
fn dict_insert(map: &mut PyDict, key: PyValue, value: PyValue) {
    if let Some(slot) = map.iter_mut().find(|(k, _)| k.py_eq(&key)) {
        slot.1 = value;
    } else {
        map.push((key, value));
    }
}

impl ImageSpec {
    /// The secrets the spec holds, nested bases included: the userinfo of a
    /// `user:token@host` registry, the credentials of URLs in the package
    /// fields and commands, and `env` values that are credentials (a name
    /// such as `HF_TOKEN`, or a URL with credentials).
    pub fn secrets(&self) -> Secrets {
        let spec = self;
        let mut out = Secrets::new();
        let mut level = Some(spec);
        while let Some(spec) = level {
            if let Some((userinfo, _)) = spec.registry().and_then(|r| r.rsplit_once('@')) {
                out.add_userinfo(userinfo);
            }
            for text in spec
                .pip_index()
                .into_iter()
                .chain(spec.pip_extra_args())
                .chain(spec.pip_extra_index_url().iter().map(String::as_str))
                .chain(spec.packages().iter().map(String::as_str))
                .chain(spec.commands().iter().map(String::as_str))
            {
                out.add_urls_in(text);
            }
            for (k, v) in spec.env() {
                let value = v.py_str();
                if !crate::redact::urls_with_credentials(&value).is_empty() {
                    out.add_urls_in(&value);
                } else if crate::redact::env_value_is_secret(&k.py_str(), v) {
                    out.add(&value);
                }
            }
            level = match spec.base_image() {
                Some(BaseImage::Spec(nested)) => Some(nested),
                _ => None,
            };
        }
        out
    }
}
