//! The plugins a run uses, handed in.

use imagespec_core::builder::{Builders, ImageBuilder};
use imagespec_core::error::{Error, PluginKind, Result, SpecError};
use imagespec_core::existence::Checkers;
use imagespec_core::spec::ImageSpec;
use imagespec_core::store::Stores;
use imagespec_plan::installer::Installers;

/// The plugins a run uses, handed in: the builders, the installers the
/// planner chooses from, the registry checkers, and the image stores the
/// engine-free source push writes through.
#[derive(Debug, Clone)]
pub struct Plugins<'a> {
    /// The image builders.
    pub builders: Builders<'a>,
    /// The installers.
    pub installers: Installers<'a>,
    /// The registry checkers (the first one asks).
    pub checkers: Checkers<'a>,
    /// The image stores (the first one is used).
    pub stores: Stores<'a>,
}

impl Plugins<'static> {
    /// What `inventory` collected in this program.
    pub fn registered() -> Result<Plugins<'static>> {
        Ok(Plugins {
            builders: imagespec_core::builder::registry()?.clone(),
            installers: imagespec_plan::installer::registry()?.clone(),
            checkers: imagespec_core::existence::registry()?.clone(),
            stores: imagespec_core::store::registry()?.clone(),
        })
    }
}

impl<'a> Plugins<'a> {
    /// The builder a spec asks for by name, or the one with the highest
    /// priority.
    pub fn builder_for(&self, spec: &ImageSpec) -> Result<&'a dyn ImageBuilder> {
        match spec.builder() {
            Some(name) => self.builders.get(name).ok_or_else(|| {
                let known = self.builders.names();
                SpecError::field(
                    "builder",
                    format!("image builder `{name}` is not registered"),
                )
                .hint(if known.is_empty() {
                    "this imagespec was built without any builder; enable one with cargo features"
                        .to_string()
                } else {
                    format!("registered builders: {}", known.join(", "))
                })
                .missing_plugin(PluginKind::Builder, name)
                .into()
            }),
            None => self.builders.first().ok_or(Error::MissingPlugin {
                kind: PluginKind::Builder,
                needed_for: "building an image".into(),
                asked: None,
            }),
        }
    }
}
