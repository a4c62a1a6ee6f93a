//! flytekit's `__post_init__` normalisation, and the checks a spec must pass
//! before its build context can be made.

use std::sync::OnceLock;

use regex::Regex;

use super::copy_mode::CopyMode;
use super::fields::{BaseImage, ImageSpec, CONFIG_BASE_IMAGE};
use crate::error::SpecError;
use crate::safety;
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
    // `user:token@host`: the message names the registry without its secret.
    let shown = match registry.rsplit_once('@') {
        Some((_, host)) => format!("****@{host}"),
        None => registry.to_string(),
    };
    let registry = crate::text::single_line(&shown);
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
pub fn validate_tag(tag: &str) -> Result<(), SpecError> {
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
pub(crate) fn post_init(
    spec: &mut ImageSpec,
    typed: bool,
    fix_quirks: bool,
) -> Result<(), SpecError> {
    if !typed {
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
        if !typed {
            *registry = registry.to_lowercase();
        }
        validate_registry(registry)?;
    }
    if spec.platform.is_none() && !typed {
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
    if fix_quirks {
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
        && !typed
        && !spec.source_copy_mode.as_ref().is_some_and(PyValue::truthy)
    {
        spec.source_copy_mode = Some(CopyMode::LoadedModules.to_py());
    }
    Ok(())
}

/// The longest line a list field may make (BuildKit reads 64 KiB a line;
/// the rest of the instruction needs room too).
const MAX_FIELD_LINE: usize = 60 * 1024;
/// Docker's limit on a repository name, registry included.
const MAX_REPOSITORY: usize = 255;

fn unsafe_value(field: &str, value: &str, why: &str) -> SpecError {
    SpecError::field(
        field,
        format!(
            "`{}` cannot go into the Dockerfile: {why}",
            value.escape_debug()
        ),
    )
}

/// `platform`: comma-separated `os/arch[/variant]`, as docker takes it.
fn check_platform(spec: &ImageSpec) -> Result<(), SpecError> {
    let Some(platform) = spec.platform.as_deref() else {
        return Ok(());
    };
    let part = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
    };
    for p in platform.split(',') {
        let parts: Vec<&str> = p.trim().split('/').collect();
        if !(2..=3).contains(&parts.len()) || !parts.iter().all(|x| part(x)) {
            return Err(SpecError::field(
                "platform",
                format!(
                    "`{}` is not a platform such as `linux/amd64` or `linux/arm64/v8`",
                    p.escape_debug()
                ),
            )
            .hint("write os/arch[/variant], several separated by commas"));
        }
    }
    Ok(())
}

fn refuse_control(field: &str, value: &str) -> Result<(), SpecError> {
    match crate::text::control_char(value) {
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
        // Each of these lists is written on one line of the Dockerfile.
        let line: usize = items.iter().map(|i| i.len() + 1).sum();
        if line > MAX_FIELD_LINE {
            return Err(SpecError::field(
                field,
                format!("{field} would make a Dockerfile line of {line} bytes, over the 64 KiB BuildKit reads"),
            )
            .hint("put long package lists into a requirements file"));
        }
    }
    for (i, command) in spec.commands().iter().enumerate() {
        if let Some(why) = safety::shell_text_problem(command) {
            return Err(unsafe_value(&format!("commands[{i}]"), command, why));
        }
        // The commands run as one line, joined with `&&` (as in flytekit): a
        // comment would comment out every command after it.
        if command.trim_start().starts_with('#') {
            return Err(unsafe_value(
                &format!("commands[{i}]"),
                command,
                "it is a shell comment: joined with `&&` to the commands after it, it would turn them into comment too",
            )
            .hint("remove the comment from commands (YAML comments, `# ...` outside the quotes, are fine)"));
        }
        // The commands follow the RUN's mounts: a leading `--word` would be
        // read as one more option of the RUN (`--network=host`, a mount).
        if i == 0 && command.trim_start().starts_with('-') {
            return Err(unsafe_value(
                "commands[0]",
                command,
                "it starts with `-`, which BuildKit reads as an option of RUN",
            )
            .hint("start the command with the program to run"));
        }
    }
    if let Some(args) = spec.pip_extra_args() {
        if let Some(why) = safety::shell_text_problem(args) {
            return Err(unsafe_value("pip_extra_args", args, why));
        }
    }
    for (i, entry) in spec.copy().iter().enumerate() {
        if let Some(why) = safety::copy_path_problem(entry) {
            return Err(unsafe_value(&format!("copy[{i}]"), entry, why)
                .hint("rename the file or folder, or copy a folder that holds it"));
        }
    }
    if let Some(BaseImage::Name(name)) = &spec.base_image {
        if let Some(why) = safety::image_ref_problem(name) {
            return Err(unsafe_value("base_image", name, why)
                .hint("name an image such as `debian:bookworm-slim` or `ghcr.io/org/image:tag`"));
        }
    }
    // The base image of a spec that names none (imagespec's own key).
    check_image_config(spec, CONFIG_BASE_IMAGE)?;
    for (field, items) in [
        ("packages", spec.packages()),
        ("runtime_packages", spec.runtime_packages()),
    ] {
        for (i, item) in items.iter().enumerate() {
            // Written into requirement files, whose readers may split lines there.
            if let Some(c) = item
                .chars()
                .find(|c| matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}' | '\u{0b}' | '\u{0c}'))
            {
                return Err(SpecError::field(
                    format!("{field}[{i}]"),
                    format!("`{}` holds the line separator {c:?}, which would split a requirements file's line", item.escape_debug()),
                ));
            }
        }
    }
    check_platform(spec)?;
    let full = match spec.registry() {
        Some(r) => r.len() + 1 + spec.name().len(),
        None => spec.name().len(),
    };
    if full > MAX_REPOSITORY {
        return Err(SpecError::field(
            "name",
            format!("the repository `{}` is {full} characters long, over docker's limit of {MAX_REPOSITORY}", spec.name()),
        )
        .hint("use a shorter name or registry path"));
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
        if m.src.contains(',') || m.src.contains('"') {
            return Err(SpecError::field(
                format!("pip_secret_mounts[{i}]"),
                format!(
                    "the secret file `{}` holds a comma or quote, which would break docker's `--secret id=...,src=...`",
                    m.src
                ),
            )
            .hint("rename the secret file"));
        }
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

/// Checks the image reference `builder_config[key]` that a plugin writes
/// after `FROM` (a helper stage, the default base), naming the field: the
/// same verdict for `tag` as for `context`.
pub fn check_image_config(spec: &ImageSpec, key: &str) -> Result<(), SpecError> {
    let Some(reference) = spec.builder_config_str(key) else {
        return Ok(());
    };
    match crate::safety::image_ref_problem(reference) {
        None => Ok(()),
        Some(why) => Err(SpecError::field(
            format!("builder_config.{key}"),
            format!(
                "`{}` cannot go into the Dockerfile: {why}",
                reference.escape_debug()
            ),
        )
        .hint("name an image reference such as `name:tag` or `registry:5000/path/name:tag`")),
    }
}
