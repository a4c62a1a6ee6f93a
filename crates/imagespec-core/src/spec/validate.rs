//! flytekit's `__post_init__` normalisation, and the checks a spec must pass
//! before its build context can be made.

use std::sync::OnceLock;

use regex::Regex;

use super::{BaseImage, CopyMode, ImageSpec};
use crate::error::SpecError;
use imagespec_pycompat::PyValue;

/// flytekit's registry pattern, applied to the lower-cased registry.
fn registry_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(localhost:\d{1,5}|([a-z\d\._-]+)(:\d{1,5})?)(/[\w\.-]+)*$")
            .expect("valid regex")
    })
}

/// Docker's grammar for a repository path (lower-case components joined by `/`).
fn name_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$",
        )
        .expect("valid regex")
    })
}

/// Docker's grammar for a tag.
fn tag_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$").expect("valid regex"))
}

/// Checks a (lower-cased) registry the way flytekit does.
pub fn validate_registry(registry: &str) -> Result<(), SpecError> {
    if registry_pattern().is_match(registry) {
        return Ok(());
    }
    Err(SpecError::field(
        "registry",
        format!(
            "Invalid container registry name: '{registry}'.\n Expected formats:\n\
             - 'localhost:30000' (for local registries)\n\
             - 'ghcr.io/username' (for GitHub Container Registry)\n\
             - 'docker.io/username' (for docker hub)"
        ),
    )
    .hint("give the registry host, optionally with a port and a path, without a tag"))
}

/// Checks the tag that the hash and `tag_format` produced.
pub(crate) fn validate_tag(tag: &str) -> Result<(), SpecError> {
    if tag_pattern().is_match(tag) {
        Ok(())
    } else {
        Err(SpecError::field(
            "tag_format",
            format!("the tag `{tag}` is not a valid image tag (letters, digits, `_`, `.` and `-`, at most 128, not starting with `.` or `-`)"),
        )
        .hint("change tag_format so that `{spec_hash}` is surrounded only by those characters"))
    }
}

/// flytekit's `ImageSpec.__post_init__`, plus imagespec's own checks of what
/// would otherwise fail late (a name docker refuses, a newline in a field).
///
/// A typed spec (`yaml.dump(image_spec)`) was restored without
/// `__post_init__`, as PyYAML restores objects, so it is checked but not
/// normalised: its name, registry, platform and copy mode stay as dumped.
pub(crate) fn post_init(spec: &mut ImageSpec) -> Result<(), SpecError> {
    if !spec.typed {
        spec.name = spec.name.to_lowercase();
    }
    if !name_pattern().is_match(&spec.name) {
        return Err(SpecError::field(
            "name",
            format!("`{}` is not a valid image name", spec.name),
        )
        .hint("use lower-case letters, digits and `.`, `_`, `-` separators (and `/` between path parts)"));
    }
    if let Some(registry) = &mut spec.registry {
        if !spec.typed {
            *registry = registry.to_lowercase();
        }
        validate_registry(registry)?;
    }
    if spec.platform.is_none() && !spec.typed {
        let local = spec
            .registry
            .as_deref()
            .is_some_and(|r| r.starts_with("localhost:"));
        let arm = matches!(std::env::consts::ARCH, "aarch64" | "arm64");
        spec.platform = Some(
            if local && arm {
                "linux/arm64"
            } else {
                "linux/amd64"
            }
            .to_string(),
        );
    }
    if spec.options.fix_flytekit_quirks {
        // The enum member the user meant, instead of a string no member equals.
        if let Some(mode) = spec
            .source_copy_mode
            .as_ref()
            .and_then(PyValue::as_str)
            .and_then(CopyMode::parse)
        {
            spec.source_copy_mode = Some(mode.to_py());
        }
    }
    // flytekit: `self.source_copy_mode = self.source_copy_mode or LOADED_MODULES`
    // when a source_root is set, so any false value (None, '', 0, []) becomes the member.
    if spec.source_root.is_some()
        && !spec.typed
        && !spec.source_copy_mode.as_ref().is_some_and(PyValue::truthy)
    {
        spec.source_copy_mode = Some(CopyMode::LoadedModules.to_py());
    }
    Ok(())
}

fn refuse_control(field: &str, value: &str) -> Result<(), SpecError> {
    match crate::safety::control_char(value) {
        None => Ok(()),
        Some(c) => Err(SpecError::field(
            field,
            format!(
                "`{}` contains the control character {:?}, which could inject a Dockerfile instruction",
                value.escape_debug(),
                c
            ),
        )
        .hint("remove newlines, carriage returns, NUL and other control characters from the value")),
    }
}

/// imagespec's own checks of a spec, beside flytekit's: nothing a user
/// writes may change the Dockerfile's instructions. Refuses a newline,
/// carriage return, NUL or other control character in any field that
/// reaches the Dockerfile or the context, an unusable env name and a secret
/// target that would add mount options, naming the field. Nested bases
/// included.
pub(crate) fn check(spec: &ImageSpec) -> Result<(), SpecError> {
    let lists: [(&str, &[String]); 9] = [
        ("packages", spec.packages()),
        ("conda_packages", spec.conda_packages()),
        ("conda_channels", spec.conda_channels()),
        ("apt_packages", spec.apt_packages()),
        ("pip_extra_index_url", spec.pip_extra_index_url()),
        ("entrypoint", spec.entrypoint().unwrap_or(&[])),
        ("commands", spec.commands()),
        ("copy", spec.copy()),
        ("runtime_packages", spec.runtime_packages()),
    ];
    for (field, items) in lists {
        for (i, item) in items.iter().enumerate() {
            refuse_control(&format!("{field}[{i}]"), item)?;
        }
    }
    let singles = [
        ("python_version", spec.python_version()),
        ("source_root", spec.source_root.clone()),
        ("requirements", spec.requirements.clone()),
        ("platform", spec.platform.clone()),
        ("pip_index", spec.pip_index.clone()),
        ("pip_extra_args", spec.pip_extra_args.clone()),
        ("python_exec", spec.python_exec.clone()),
        (
            "base_image",
            match &spec.base_image {
                Some(BaseImage::Name(n)) => Some(n.clone()),
                _ => None,
            },
        ),
    ];
    for (field, value) in singles {
        if let Some(v) = value {
            refuse_control(field, &v)?;
        }
    }
    for (k, v) in spec.env() {
        let key = k.py_str();
        refuse_control(&format!("env.{}", key.escape_debug()), &key)?;
        refuse_control(&format!("env.{key}"), &v.py_str())?;
        if let Some(why) = crate::safety::env_name_problem(&key) {
            return Err(SpecError::field(
                format!("env.{key}"),
                format!("`{key}` is not a usable environment variable name: {why}"),
            )
            .hint("use letters, digits and `_` in environment variable names"));
        }
    }
    for (i, m) in spec.pip_secret_mounts().iter().enumerate() {
        refuse_control(&format!("pip_secret_mounts[{i}]"), &m.src)?;
        refuse_control(&format!("pip_secret_mounts[{i}]"), &m.dst)?;
        if crate::safety::mount_value_problem(&m.dst).is_some() {
            return Err(SpecError::field(
                format!("pip_secret_mounts[{i}]"),
                format!(
                    "the target `{}` must be a path without commas, quotes or spaces",
                    m.dst
                ),
            )
            .hint("a comma would add options to the secret mount"));
        }
    }
    for (k, v) in spec.builder_config() {
        if let Some(s) = v.as_str() {
            refuse_control(&format!("builder_config.{}", k.py_str()), s)?;
        }
    }
    if let Some(BaseImage::Spec(base)) = &spec.base_image {
        check(base).map_err(|e| e.nested_in("base_image"))?;
    }
    Ok(())
}
