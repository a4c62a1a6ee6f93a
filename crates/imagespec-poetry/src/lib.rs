//! The poetry installer: `poetry install --no-root` from a `poetry.lock`.

use imagespec_core::installer::{
    check_lock_file, requirements_file_named, Installer, InstallerRegistration, Role,
};
use imagespec_core::{ImageSpec, SpecError};

/// Registration priority: wins over the uv fallback when `requirements` is a `poetry.lock`.
pub const POETRY_LOCK_PRIORITY: i32 = 20;

/// `poetry install --no-root` from a `poetry.lock`.
#[derive(Debug, Clone, Copy)]
pub struct PoetryLockInstaller;

impl Installer for PoetryLockInstaller {
    fn name(&self) -> &'static str {
        "poetry-lock"
    }
    fn role(&self) -> Role {
        Role::Packages
    }
    fn applies_to(&self, spec: &ImageSpec) -> bool {
        requirements_file_named(spec, "poetry.lock").is_some()
    }
    fn validate(&self, spec: &ImageSpec) -> Result<(), SpecError> {
        check_lock_file(spec, "poetry.lock")
    }
}

imagespec_core::inventory::submit!(InstallerRegistration::new(
    &PoetryLockInstaller,
    POETRY_LOCK_PRIORITY
));

/// Referenced by binaries so the linker keeps this crate's registrations.
pub fn link() {}
