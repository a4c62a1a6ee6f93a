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
    /// The builder of specs that name none (`--builder`,
    /// `IMAGESPEC_BUILDER`); `None`: the first available one by priority.
    pub default_builder: Option<String>,
    /// The first available builder, once asked.
    chosen: std::sync::Arc<std::sync::OnceLock<Option<usize>>>,
}

impl Plugins<'static> {
    /// What `inventory` collected in this program.
    pub fn registered() -> Result<Plugins<'static>> {
        Ok(Plugins {
            builders: imagespec_core::builder::registry()?.clone(),
            installers: imagespec_plan::installer::registry()?.clone(),
            checkers: imagespec_core::existence::registry()?.clone(),
            stores: imagespec_core::store::registry()?.clone(),
            default_builder: None,
            chosen: Default::default(),
        })
    }
}

impl<'a> Plugins<'a> {
    /// A set of plugins (a program's own; [`Plugins::registered`] for
    /// what `inventory` collected).
    pub fn new(
        builders: Builders<'a>,
        installers: Installers<'a>,
        checkers: Checkers<'a>,
        stores: Stores<'a>,
    ) -> Plugins<'a> {
        Plugins {
            builders,
            installers,
            checkers,
            stores,
            default_builder: None,
            chosen: Default::default(),
        }
    }

    /// These plugins with these builders in place of theirs.
    pub fn with_builders(self, builders: Builders<'a>) -> Plugins<'a> {
        Plugins {
            builders,
            chosen: Default::default(),
            ..self
        }
    }

    /// These plugins, with `name` building the specs that name no builder.
    pub fn with_default_builder(mut self, name: Option<String>) -> Plugins<'a> {
        self.default_builder = name.filter(|n| !n.is_empty());
        self
    }

    /// The builder a spec asks for by name; for a spec that names none, the
    /// run's default builder, else the first by priority that is available
    /// on this machine (else the first: its build says what is missing).
    pub fn builder_for(&self, spec: &ImageSpec) -> Result<&'a dyn ImageBuilder> {
        if let (None, Some(name)) = (spec.builder(), &self.default_builder) {
            return self.builders.get(name).ok_or_else(|| Error::MissingPlugin {
                kind: PluginKind::Builder,
                needed_for: format!(
                    "--builder / IMAGESPEC_BUILDER `{name}` (registered builders: {})",
                    self.builders.names().join(", ")
                ),
                asked: Some(name.clone()),
            });
        }
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
            None => {
                let all = self.builders.all();
                let chosen = self.chosen.get_or_init(|| {
                    let mut why_not = Vec::new();
                    let found = all.iter().position(|r| match r.plugin.available() {
                        Ok(()) => true,
                        Err(why) => {
                            why_not.push(format!("`{}`: {why}", r.plugin.name()));
                            false
                        }
                    });
                    match found {
                        Some(i) if !why_not.is_empty() => tracing::info!(
                            "building with `{}` ({})",
                            all[i].plugin.name(),
                            why_not.join("; ")
                        ),
                        None if !all.is_empty() => tracing::debug!(
                            "no builder says it is available ({}); using `{}`",
                            why_not.join("; "),
                            all[0].plugin.name()
                        ),
                        _ => {}
                    }
                    found.or((!all.is_empty()).then_some(0))
                });
                chosen.map(|i| all[i].plugin).ok_or(Error::MissingPlugin {
                    kind: PluginKind::Builder,
                    needed_for: "building an image".into(),
                    asked: None,
                })
            }
        }
    }
}
