//! Installers: the plugins that fill the slots of flytekit's Dockerfile
//! layout ([`crate`]).
//!
//! Each installer crate registers itself with
//! `inventory::submit!(InstallerRegistration::new(&MyInstaller, priority))`.
//! An installer has a [`Role`]:
//!
//! - `Python` and `Packages`: of the installers of the role that apply to a
//!   spec, the one with the highest priority is chosen (ties by name);
//! - `Toolbox`: every one that applies contributes (helper stages, the CA
//!   certificates, the tools the spec's `commands` can use), in registry order.
//!
//! They contribute in that order (Python first, so the others know where
//! Python lives). This crate names no installer.

use std::path::PathBuf;

use crate::model::PlanBuilder;
use imagespec_core::error::{Result, SpecError};
use imagespec_core::plugin::{Plugin, Registration, Registry};
use imagespec_core::spec::SpecRef;
use imagespec_inputs::Inputs;

/// What part of the image an installer provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The Python interpreter (one installer).
    Python,
    /// The Python packages (one installer).
    Packages,
    /// Helpers the layout needs whatever else is chosen (every installer that applies).
    Toolbox,
}

/// An installer plugin.
pub trait Installer: Plugin {
    /// The part of the image it provides.
    fn role(&self) -> Role;
    /// Whether it can serve this spec (decided from the spec alone).
    fn applies_to(&self, spec: SpecRef<'_>) -> bool;
    /// Files whose existence it needs to know (relative to the spec's folder,
    /// or absolute); [`Inputs`] looks at them once, with the spec's other files.
    fn side_files(&self, _spec: SpecRef<'_>) -> Vec<PathBuf> {
        Vec::new()
    }
    /// Checks of its own (e.g. a lock file needs its pyproject.toml), made
    /// before anything is written.
    fn validate(&self, _spec: SpecRef<'_>, _inputs: &Inputs) -> std::result::Result<(), SpecError> {
        Ok(())
    }
    /// Adds its stages, steps and files to the plan of a checked spec.
    fn contribute(&self, spec: SpecRef<'_>, plan: &mut PlanBuilder<'_>) -> Result<()>;
}

/// An installer's entry in `inventory`:
/// `inventory::submit!(InstallerRegistration::new(&MyInstaller, priority))`.
#[derive(Debug, Clone, Copy)]
pub struct InstallerRegistration(pub Registration<'static, dyn Installer>);

impl InstallerRegistration {
    /// For `inventory::submit!`.
    pub const fn new(plugin: &'static dyn Installer, priority: i32) -> Self {
        InstallerRegistration(Registration::new(plugin, priority))
    }
}

inventory::collect!(InstallerRegistration);

/// A set of installers (the registered ones, or an embedder's own): what
/// the planner is handed.
pub type Installers<'a> = Registry<'a, dyn Installer>;

/// The installers registered in this program, built once.
pub fn registry() -> Result<&'static Installers<'static>> {
    static REG: std::sync::OnceLock<std::result::Result<Installers<'static>, String>> =
        std::sync::OnceLock::new();
    REG.get_or_init(|| {
        Registry::new(
            inventory::iter::<InstallerRegistration>().map(|r| r.0),
            "installers",
        )
        .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| imagespec_core::Error::Other(e.clone()))
}

/// The installers of `installers` chosen for a spec: the Python one, the
/// packages one, then every toolbox one that applies.
pub fn selected<'a>(installers: &Installers<'a>, spec: SpecRef<'_>) -> Vec<&'a dyn Installer> {
    let all = installers.all();
    let applying = |role: Role| {
        all.iter()
            .map(|r| r.plugin)
            .filter(move |i| i.role() == role && i.applies_to(spec))
    };
    let mut out: Vec<&'a dyn Installer> = Vec::new();
    out.extend(applying(Role::Python).next());
    out.extend(applying(Role::Packages).next());
    out.extend(applying(Role::Toolbox));
    out
}

/// The side files the chosen installers of a spec ask about.
pub fn side_files(installers: &Installers<'_>, spec: SpecRef<'_>) -> Vec<PathBuf> {
    selected(installers, spec)
        .into_iter()
        .flat_map(|i| i.side_files(spec))
        .collect()
}

/// Runs the chosen installers' own checks.
pub fn validate(installers: &Installers<'_>, spec: SpecRef<'_>, inputs: &Inputs) -> Result<()> {
    for installer in selected(installers, spec) {
        installer.validate(spec, inputs)?;
    }
    Ok(())
}
