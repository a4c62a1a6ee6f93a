//! The micromamba installer: Python (and conda packages) from conda channels,
//! for every spec that does not bring its own `python_exec`.

use imagespec_core::installer::{Installer, InstallerRegistration, Role};
use imagespec_core::ImageSpec;

/// Registration priority.
pub const MICROMAMBA_PRIORITY: i32 = 10;

/// `micromamba create -n runtime python=X conda-packages...`.
#[derive(Debug, Clone, Copy)]
pub struct MicromambaInstaller;

impl Installer for MicromambaInstaller {
    fn name(&self) -> &'static str {
        "micromamba"
    }
    fn role(&self) -> Role {
        Role::Python
    }
    fn applies_to(&self, spec: &ImageSpec) -> bool {
        spec.python_exec().is_none()
    }
}

imagespec_core::inventory::submit!(InstallerRegistration::new(
    &MicromambaInstaller,
    MICROMAMBA_PRIORITY
));

/// Referenced by binaries so the linker keeps this crate's registrations.
pub fn link() {}
