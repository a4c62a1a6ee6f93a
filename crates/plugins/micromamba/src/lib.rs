//! The micromamba installers, as flytekit's layout has them:
//!
//! - `micromamba` (Python): Python (and conda packages) from conda channels,
//!   for every spec that does not bring its own `python_exec`;
//! - `micromamba-tools` (toolbox): the micromamba helper stage
//!   (`builder_config.micromamba_image`), and the CA certificates from it
//!   for a base image that has none.

use imagespec_core::pyvalue::PyValue;
use imagespec_core::{Plugin, Result, SpecError, SpecRef};
use imagespec_inputs::Inputs;
use imagespec_plan::installer::{Installer, InstallerRegistration, Role};
use imagespec_plan::{sh, Mount, PlanBuilder, PythonRuntime, Slot, Step, Word};

/// flytekit's `DEFAULT_MICROMAMBA_IMAGE`.
pub const DEFAULT_MICROMAMBA_IMAGE: &str = "mambaorg/micromamba:2.0.3-debian12-slim";
/// `builder_config` key for the micromamba helper image.
pub const CONFIG_MICROMAMBA_IMAGE: &str = "micromamba_image";
/// Stage alias of the micromamba helper image.
pub const MICROMAMBA_STAGE: &str = "micromamba";
/// Registration priority of [`MicromambaTools`]: its stage comes after uv's, as in flytekit.
pub const MICROMAMBA_TOOLS_PRIORITY: i32 = 10;

/// Registration priority.
pub const MICROMAMBA_PRIORITY: i32 = 10;
/// The conda prefix of the runtime environment.
pub const RUNTIME_PREFIX: &str = "/opt/micromamba/envs/runtime";

/// `micromamba create -n runtime python=X conda-packages...`.
#[derive(Debug, Clone, Copy)]
pub struct MicromambaInstaller;

impl Plugin for MicromambaInstaller {
    fn name(&self) -> &'static str {
        "micromamba"
    }
}

impl Installer for MicromambaInstaller {
    fn role(&self) -> Role {
        Role::Python
    }
    fn applies_to(&self, spec: SpecRef<'_>) -> bool {
        spec.python_exec().is_none()
    }
    /// flytekit pastes `python_version` into `python=...` with `str()`; a
    /// list or mapping there makes no version (and, unquoted, several shell
    /// words), so it is refused.
    fn validate(&self, spec: SpecRef<'_>, _inputs: &Inputs) -> std::result::Result<(), SpecError> {
        match spec.python_version_raw() {
            Some(v @ (PyValue::List(_) | PyValue::Tuple(_) | PyValue::Dict(_))) => {
                Err(SpecError::field(
                    "python_version",
                    format!(
                        "`{}` is a {}, not a version for micromamba to install",
                        v.repr(),
                        v.type_name()
                    ),
                )
                .hint("write the version as a string, e.g. python_version: \"3.12\""))
            }
            _ => Ok(()),
        }
    }
    fn contribute(&self, spec: SpecRef<'_>, plan: &mut PlanBuilder<'_>) -> Result<()> {
        // flytekit: `image_spec.python_version if image_spec.python_version else <its own>`.
        let python = spec
            .python_version_raw()
            .filter(|v| v.truthy())
            .map(PyValue::py_str)
            .unwrap_or_else(|| plan.defaults().default_python.clone());
        // The same arguments for `create` and, when the env exists, `install`.
        let mut args = vec![sh(
            "-n runtime --root-prefix /opt/micromamba -c conda-forge",
        )];
        for channel in spec.conda_channels() {
            args.push(sh("-c"));
            args.push(Word::Arg(channel.clone()));
        }
        args.push(Word::Arg(format!("python={python}")));
        // An empty entry is left out: flytekit's joined text has nothing there.
        args.extend(
            spec.conda_packages()
                .iter()
                .filter(|p| !p.is_empty())
                .map(|p| Word::Arg(p.clone())),
        );
        let mut script = vec![sh(
            "micromamba config set use_lockfiles False && ( micromamba create",
        )];
        script.extend(args.iter().cloned());
        script.push(sh("|| micromamba install"));
        script.extend(args);
        script.push(sh(") && chown -R flytekit /opt/micromamba"));
        let mut mounts = vec![
            Mount::Cache {
                target: "/opt/micromamba/pkgs".into(),
                id: "micromamba".into(),
            },
            Mount::From {
                from: MICROMAMBA_STAGE.into(),
                source: "/usr/bin/micromamba".into(),
                target: "/usr/bin/micromamba".into(),
            },
        ];
        // A channel may need a secret (a `.condarc` with a token, say).
        mounts.extend(imagespec_plan::spec_secret_mounts(spec));
        plan.add_steps(Slot::Python, [Step::Run { mounts, script }]);
        plan.set_python(PythonRuntime {
            exec: format!("{RUNTIME_PREFIX}/bin/python"),
            bin_dir: format!("{RUNTIME_PREFIX}/bin"),
        });
        Ok(())
    }
}

/// The micromamba helper stage, and the CA certificates from it.
#[derive(Debug, Clone, Copy)]
pub struct MicromambaTools;

impl Plugin for MicromambaTools {
    fn name(&self) -> &'static str {
        "micromamba-tools"
    }
}

impl Installer for MicromambaTools {
    fn role(&self) -> Role {
        Role::Toolbox
    }
    fn applies_to(&self, _spec: SpecRef<'_>) -> bool {
        true
    }
    fn validate(&self, spec: SpecRef<'_>, _inputs: &Inputs) -> std::result::Result<(), SpecError> {
        imagespec_core::spec::check_image_config(spec.spec, CONFIG_MICROMAMBA_IMAGE)
    }
    fn contribute(&self, spec: SpecRef<'_>, plan: &mut PlanBuilder<'_>) -> Result<()> {
        plan.add_stage(
            MICROMAMBA_STAGE,
            spec.builder_config_str(CONFIG_MICROMAMBA_IMAGE)
                .unwrap_or(DEFAULT_MICROMAMBA_IMAGE),
        );
        plan.add_steps(
            Slot::Certificates,
            [Step::Run {
                mounts: vec![Mount::From {
                    from: MICROMAMBA_STAGE.into(),
                    source: "/etc/ssl/certs/ca-certificates.crt".into(),
                    target: "/tmp/ca-certificates.crt".into(),
                }],
                script: vec![sh(
                    "[ -f /etc/ssl/certs/ca-certificates.crt ] || mkdir -p /etc/ssl/certs/ && cp /tmp/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt",
                )],
            }],
        );
        Ok(())
    }
}

imagespec_core::inventory::submit!(InstallerRegistration::new(
    &MicromambaInstaller,
    MICROMAMBA_PRIORITY
));
imagespec_core::inventory::submit!(InstallerRegistration::new(
    &MicromambaTools,
    MICROMAMBA_TOOLS_PRIORITY
));

/// Referenced by binaries so the linker keeps this crate's registrations.
pub fn link() {}
