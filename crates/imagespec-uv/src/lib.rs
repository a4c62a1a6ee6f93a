//! The uv installers: `uv pip install` from requirements and packages (into a
//! venv when the spec sets `python_exec`), and `uv sync` from a `uv.lock`.

use imagespec_core::installer::{
    check_lock_file, requirements_file_named, Installer, InstallerRegistration, Role,
};
use imagespec_core::{ImageSpec, SpecError};

/// Registration priority of [`UvInstaller`]: the fallback for every spec.
pub const UV_PRIORITY: i32 = 0;
/// Registration priority of [`UvLockInstaller`]: wins when `requirements` is a `uv.lock`.
pub const UV_LOCK_PRIORITY: i32 = 20;

/// `uv pip install --requirement requirements_uv.txt`.
#[derive(Debug, Clone, Copy)]
pub struct UvInstaller;

impl Installer for UvInstaller {
    fn name(&self) -> &'static str {
        "uv"
    }
    fn role(&self) -> Role {
        Role::Packages
    }
    fn applies_to(&self, _spec: &ImageSpec) -> bool {
        true
    }
}

/// `uv sync --locked --no-dev --no-install-project` from a `uv.lock`.
#[derive(Debug, Clone, Copy)]
pub struct UvLockInstaller;

impl Installer for UvLockInstaller {
    fn name(&self) -> &'static str {
        "uv-lock"
    }
    fn role(&self) -> Role {
        Role::Packages
    }
    fn applies_to(&self, spec: &ImageSpec) -> bool {
        requirements_file_named(spec, "uv.lock").is_some()
    }
    fn validate(&self, spec: &ImageSpec) -> Result<(), SpecError> {
        check_lock_file(spec, "uv.lock")
    }
}

imagespec_core::inventory::submit!(InstallerRegistration::new(&UvInstaller, UV_PRIORITY));
imagespec_core::inventory::submit!(InstallerRegistration::new(
    &UvLockInstaller,
    UV_LOCK_PRIORITY
));

/// Referenced by binaries so the linker keeps this crate's registrations.
pub fn link() {}
