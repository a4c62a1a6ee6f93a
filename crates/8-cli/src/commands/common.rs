//! What the commands share: the plugins they configure, preparing specs,
//! lint lines, the environment flytekit reads, the async runtime.

use std::path::Path;

use imagespec_core::spec::LoadOptions;
use imagespec_core::Loaded;
use imagespec_engine::{Engine, Plugins};
use imagespec_identity::BuildJob;
use imagespec_insight::lint::Lint;

use crate::printer::Printer;
use crate::status::LintFailure;

/// What to do with lint findings while preparing a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lints {
    /// Print them as warnings.
    Warn,
    /// Print them as warnings, then fail (exit 5) if there are any.
    Strict,
    /// Say nothing (the caller reports them).
    Quiet,
}

impl Lints {
    pub(crate) fn strict(strict: bool) -> Lints {
        match strict {
            true => Lints::Strict,
            false => Lints::Warn,
        }
    }
}

/// The plugins this program was built with; the Docker builder, when the
/// command configures it, in place of the registered one.
#[derive(Debug, Default)]
pub(crate) struct Configured {
    #[cfg(feature = "docker")]
    docker: Option<imagespec_docker::DockerBuilder>,
    #[cfg(feature = "podman")]
    podman: Option<imagespec_podman::PodmanBuilder>,
    #[cfg(feature = "registry")]
    registry: Option<imagespec_registry::OciChecker>,
    /// `--builder`: the builder of specs that name none.
    default_builder: Option<String>,
}

impl Configured {
    /// The registered plugins as they are.
    pub(crate) fn registered() -> Configured {
        Configured::default()
    }

    /// With the Docker builder configured by the command line (flags and
    /// their environment variables, read once, here).
    #[cfg(feature = "docker")]
    pub(crate) fn with_docker(
        mut self,
        args: &imagespec_docker::DockerArgs,
    ) -> crate::error::Result<Configured> {
        self.docker = Some(imagespec_docker::DockerBuilder::new(
            imagespec_docker::DockerSettings::from_args(args)?,
        ));
        Ok(self)
    }

    /// With the builder choice and the Podman builder configured by the
    /// command line.
    pub(crate) fn with_builder(
        mut self,
        args: &crate::cli::BuilderArgs,
    ) -> crate::error::Result<Configured> {
        self.default_builder = args.name.clone();
        #[cfg(feature = "podman")]
        {
            self.podman = Some(imagespec_podman::PodmanBuilder::new(
                imagespec_podman::PodmanSettings::from_args(&args.podman)
                    .map_err(imagespec_core::Error::from)?,
            ));
        }
        Ok(self)
    }

    /// With the registry checker configured by its environment variables,
    /// read once, here (a bad value is an error naming the variable).
    pub(crate) fn with_registry(self) -> crate::error::Result<Configured> {
        #[cfg(feature = "registry")]
        {
            let config = imagespec_registry::CheckConfig::from_env()?;
            return Ok(Configured {
                registry: Some(imagespec_registry::OciChecker::new(config)),
                ..self
            });
        }
        #[allow(unreachable_code)]
        Ok(self)
    }

    /// The set handed to the engine.
    pub(crate) fn plugins(&self) -> crate::error::Result<Plugins<'_>> {
        #[allow(unused_mut)]
        let mut plugins: Plugins<'_> = Plugins::registered()?;
        #[cfg(feature = "docker")]
        if let Some(docker) = &self.docker {
            plugins.builders = plugins.builders.with(docker, imagespec_docker::PRIORITY);
        }
        #[cfg(feature = "podman")]
        if let Some(podman) = &self.podman {
            plugins.builders = plugins.builders.with(podman, imagespec_podman::PRIORITY);
        }
        #[cfg(feature = "registry")]
        if let Some(registry) = &self.registry {
            plugins.checkers = plugins.checkers.with(registry, 0);
            plugins.stores = plugins.stores.with(registry, 0);
        }
        Ok(plugins.with_default_builder(self.default_builder.clone()))
    }
}

/// Loads and prepares a spec (its inputs read and its identity computed,
/// nested bases first), errors located in its file, lint findings handled
/// as `lints` says.
pub(crate) fn prepare(
    engine: &Engine<'_>,
    path: &Path,
    options: &LoadOptions,
    printer: &Printer,
    lints: Lints,
) -> crate::error::Result<BuildJob> {
    let job = {
        // Listing and hashing a big tree takes a while: a spinner on a terminal.
        let _reading =
            tracing::info_span!("reading", progress = true, spec = %path.display()).entered();
        let spec = imagespec_core::spec::load_file_with(path, options)?;
        // What the spec holds is masked from here on, its own errors included.
        printer.masker.add(&spec.secrets());
        let job = engine.prepare(spec.view()).map_err(|e| spec.locate(e))?;
        printer.masker.add(&job.secrets());
        job
    };
    if lints != Lints::Quiet {
        let found = imagespec_insight::lint::lint(&job);
        for lint in &found {
            printer.warning(&lint_line(&shown_path(&job.spec, path), lint));
        }
        if lints == Lints::Strict && !found.is_empty() {
            return Err(LintFailure {
                file: path.display().to_string(),
                count: found.len(),
            }
            .into());
        }
    }
    Ok(job)
}

/// [`prepare`] for every spec file, in order.
pub(crate) fn prepare_all(
    engine: &Engine<'_>,
    paths: &[std::path::PathBuf],
    options: &LoadOptions,
    printer: &Printer,
    lints: Lints,
) -> crate::error::Result<Vec<BuildJob>> {
    paths
        .iter()
        .map(|p| prepare(engine, p, options, printer, lints))
        .collect()
}

/// One finding: `file:line: field `x` [code]: message`, then `  instead: fix`.
pub(crate) fn lint_line(path: &Path, lint: &Lint) -> String {
    let at = match lint.line {
        Some(line) => format!("{}:{line}", path.display()),
        None => path.display().to_string(),
    };
    let effect = match lint.changes_tag {
        true => "\n  (fixing it changes the tag: the image is built again under a new name)",
        false => "",
    };
    format!(
        "{at}: field `{}` [{}]: {}\n  instead: {}{effect}",
        lint.field, lint.code, lint.message, lint.fix
    )
}

/// How messages name a spec's file: `--display-name` when given, else the path.
pub(crate) fn shown_path(spec: &Loaded, path: &Path) -> std::path::PathBuf {
    match &spec.options.display_name {
        Some(name) => std::path::PathBuf::from(name),
        None => path.to_path_buf(),
    }
}

/// flytekit's variable: build and push even when the image exists.
pub(crate) const ENV_FORCE_PUSH: &str = "FLYTE_FORCE_PUSH_IMAGE_SPEC";
/// flytekit's variable: fail instead of assuming an image exists when the check cannot tell.
pub(crate) const ENV_FAST_FAIL: &str = "FLYTE_IMG_FAST_FAIL";
/// Environment variable that turns pushing off (`false`/`0`).
pub(crate) const ENV_PUSH: &str = "IMAGESPEC_PUSH";
/// flytekit's variable with the same meaning.
pub(crate) const ENV_FLYTE_PUSH: &str = "FLYTE_PUSH_IMAGE_SPEC";

/// flytekit's `str2bool` on an environment variable: unset is false, and
/// anything but `false`, `0`, `off`, `no` (any case) is true.
pub(crate) fn env_flag(name: &str) -> bool {
    match std::env::var(name) {
        Ok(v) => !matches!(v.to_lowercase().as_str(), "false" | "0" | "off" | "no"),
        Err(_) => false,
    }
}

/// Whether pushing is on by the environment: `IMAGESPEC_PUSH`, else
/// `FLYTE_PUSH_IMAGE_SPEC`, each read exactly as flytekit reads its
/// variable (`os.getenv(name, "True").lower() in ("true", "1")`): unset
/// is on; set, only `true` (any case) and `1` are on.
pub(crate) fn push_from_env() -> bool {
    match std::env::var(ENV_PUSH).or_else(|_| std::env::var(ENV_FLYTE_PUSH)) {
        Ok(v) => push_value(&v),
        Err(_) => true,
    }
}

/// flytekit's test of `FLYTE_PUSH_IMAGE_SPEC`: `value.lower() in ("true", "1")`.
pub(crate) fn push_value(value: &str) -> bool {
    matches!(value.to_lowercase().as_str(), "true" | "1")
}

/// A multi-threaded runtime for the commands that wait on registries and builds.
pub(crate) fn runtime() -> crate::error::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| crate::error::CliError::io("cannot start the async runtime", e))
}

#[cfg(test)]
mod tests {
    use super::push_value;

    #[test]
    fn push_values_are_read_as_flytekit_reads_them() {
        // `os.getenv("FLYTE_PUSH_IMAGE_SPEC", "True").lower() in ("true", "1")`
        for on in ["true", "True", "TRUE", "1"] {
            assert!(push_value(on), "{on}");
        }
        for off in ["false", "0", "", "yes", "on", " true", "true ", "2"] {
            assert!(!push_value(off), "{off:?}");
        }
    }
}
