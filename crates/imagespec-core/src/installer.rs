//! Installers: the plugins that put Python and packages into an image.
//!
//! Each installer crate registers itself with
//! `inventory::submit!(InstallerRegistration::new(&MyInstaller, priority))`.
//! For each [`Role`], the installer that applies to a spec with the highest
//! priority is chosen (ties broken by name, so the choice never depends on
//! link order). This crate names no installer.

use std::sync::OnceLock;

use crate::error::{Error, Result, SpecError};
use crate::spec::ImageSpec;

/// What part of the image an installer provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The Python interpreter (micromamba, when `python_exec` is not set).
    Python,
    /// The Python packages (uv, uv.lock, poetry.lock).
    Packages,
}

/// An installer plugin.
pub trait Installer: Send + Sync + 'static {
    /// Unique name, e.g. `uv`.
    fn name(&self) -> &'static str;
    /// The part of the image it provides.
    fn role(&self) -> Role;
    /// Whether it can serve this spec.
    fn applies_to(&self, spec: &ImageSpec) -> bool;
    /// Spec checks of its own (e.g. a lock file needs its pyproject.toml).
    fn validate(&self, _spec: &ImageSpec) -> std::result::Result<(), SpecError> {
        Ok(())
    }
    /// Adds its steps and files to the plan of a checked spec.
    fn contribute(&self, spec: &ImageSpec, plan: &mut crate::plan::PlanBuilder<'_>) -> Result<()>;
}

/// An installer's entry in the registry.
#[derive(Clone, Copy)]
pub struct InstallerRegistration {
    /// The installer.
    pub installer: &'static dyn Installer,
    /// Higher wins among the installers of a role that apply.
    pub priority: i32,
}

impl std::fmt::Debug for InstallerRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstallerRegistration")
            .field("name", &self.installer.name())
            .field("role", &self.installer.role())
            .field("priority", &self.priority)
            .finish()
    }
}

impl InstallerRegistration {
    /// For `inventory::submit!`.
    pub const fn new(installer: &'static dyn Installer, priority: i32) -> Self {
        InstallerRegistration {
            installer,
            priority,
        }
    }
}

inventory::collect!(InstallerRegistration);

/// The registered installers, sorted by role, then priority (highest first), then name.
/// A duplicate name is an error.
pub fn registry() -> Result<&'static [InstallerRegistration]> {
    static REG: OnceLock<std::result::Result<Vec<InstallerRegistration>, String>> = OnceLock::new();
    REG.get_or_init(|| {
        crate::plugin::unique_sorted(
            inventory::iter::<InstallerRegistration>()
                .copied()
                .collect(),
            "installers",
            |r| r.installer.name(),
            |r| (r.installer.role(), -r.priority, r.installer.name()),
        )
    })
    .as_ref()
    .map(Vec::as_slice)
    .map_err(|e| Error::Other(e.clone()))
}

/// The installer chosen for a role, if any applies.
pub fn select(spec: &ImageSpec, role: Role) -> Result<Option<&'static dyn Installer>> {
    Ok(registry()?
        .iter()
        .filter(|r| r.installer.role() == role)
        .find(|r| r.installer.applies_to(spec))
        .map(|r| r.installer))
}

/// The installers chosen for a spec, in role order.
pub fn selected(spec: &ImageSpec) -> Result<Vec<&'static dyn Installer>> {
    let mut out = Vec::new();
    for role in [Role::Python, Role::Packages] {
        out.extend(select(spec, role)?);
    }
    Ok(out)
}

/// Runs the chosen installers' own checks on a spec.
pub fn check(spec: &ImageSpec) -> Result<()> {
    for installer in selected(spec)? {
        installer.validate(spec)?;
    }
    Ok(())
}

/// The lock file a spec's `requirements` names, if its file name is `lock_name`.
pub fn requirements_file_named<'a>(spec: &'a ImageSpec, lock_name: &str) -> Option<&'a str> {
    spec.requirements().filter(|r| {
        std::path::Path::new(r)
            .file_name()
            .is_some_and(|n| n == lock_name)
    })
}

/// flytekit's checks for a lock-file installer: no `packages` beside the lock
/// file, and a `pyproject.toml` in the lock file's folder.
pub fn check_lock_file(spec: &ImageSpec, lock_name: &str) -> std::result::Result<(), SpecError> {
    let Some(req) = requirements_file_named(spec, lock_name) else {
        return Ok(());
    };
    if spec.packages_raw().is_some() {
        return Err(SpecError::field(
            "packages",
            format!("Support for {lock_name} files and packages is mutually exclusive"),
        )
        .hint(format!(
            "add the packages to the project whose {lock_name} you give, or remove `packages`"
        )));
    }
    let lock = spec.resolve(req);
    let pyproject = lock
        .parent()
        .map(|d| d.join("pyproject.toml"))
        .unwrap_or_default();
    if !pyproject.is_file() {
        return Err(SpecError::field(
            "requirements",
            format!("To use {lock_name}, a pyproject.toml file must be in the same directory as the lock file"),
        )
        .hint(format!("put the project's pyproject.toml next to `{}`", lock.display())));
    }
    Ok(())
}
