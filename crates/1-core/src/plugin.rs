//! The one plugin registry type, shared by builders, installers and
//! existence checkers.
//!
//! A plugin crate registers with
//! `inventory::submit!(Registration::<dyn ImageBuilder>::new(&MyBuilder, 5))`
//! (or the kind's alias, [`crate::builder::BuilderRegistration`], ...). A
//! [`Registry`] is built once from what was collected: every name once (a
//! duplicate is an error naming it), sorted by priority (highest first),
//! then by name, so the order never depends on link order.

use std::collections::BTreeSet;
use std::fmt;

use crate::error::{Error, Result};

/// What every plugin says about itself.
pub trait Plugin: Send + Sync + 'static {
    /// Unique name within its kind, e.g. `default` (flytekit's builder name).
    fn name(&self) -> &'static str;
}

/// A plugin's entry: the plugin and its priority. Registered with
/// `inventory` it borrows a `static`; an embedder's set may borrow a plugin
/// it owns (`'a`), such as a builder configured at start-up.
pub struct Registration<'a, T: ?Sized + 'a> {
    /// The plugin.
    pub plugin: &'a T,
    /// Higher wins where one plugin is chosen among several.
    pub priority: i32,
}

impl<T: ?Sized> Clone for Registration<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for Registration<'_, T> {}

impl<'a, T: ?Sized> Registration<'a, T> {
    /// For `inventory::submit!` (with a `static`), or a set of one's own.
    pub const fn new(plugin: &'a T, priority: i32) -> Self {
        Registration { plugin, priority }
    }
}

impl<T: ?Sized + Plugin> fmt::Debug for Registration<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("name", &self.plugin.name())
            .field("priority", &self.priority)
            .finish()
    }
}

/// A set of plugins of one kind: unique names, sorted by priority (highest
/// first), then by name. A value: whoever runs the pipeline holds one per
/// kind and passes it in ([`Registry::registered`] gives what `inventory`
/// collected).
pub struct Registry<'a, T: ?Sized + 'a> {
    sorted: Vec<Registration<'a, T>>,
}

impl<T: ?Sized> Clone for Registry<'_, T> {
    fn clone(&self) -> Self {
        Registry {
            sorted: self.sorted.clone(),
        }
    }
}

impl<T: ?Sized + Plugin> fmt::Debug for Registry<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.sorted).finish()
    }
}

impl<'a, T: ?Sized + Plugin> Registry<'a, T> {
    /// Sorts the registrations; `kind` names the plugins in the error for a
    /// duplicate name (`image builders`, `installers`, `registry checkers`).
    pub fn new(
        registrations: impl IntoIterator<Item = Registration<'a, T>>,
        kind: &str,
    ) -> Result<Self> {
        let mut sorted: Vec<Registration<'a, T>> = registrations.into_iter().collect();
        let mut seen = BTreeSet::new();
        for r in &sorted {
            if !seen.insert(r.plugin.name()) {
                return Err(Error::Other(format!(
                    "two {kind} are registered under the name `{}`; rename one of them",
                    r.plugin.name()
                )));
            }
        }
        sorted.sort_by(|a, b| (-a.priority, a.plugin.name()).cmp(&(-b.priority, b.plugin.name())));
        Ok(Registry { sorted })
    }

    /// An empty set.
    pub fn empty() -> Self {
        Registry { sorted: Vec::new() }
    }

    /// The same set with `plugin` in place of the one of its name (or
    /// added): how a program puts a builder it configured at start-up in
    /// place of the registered one.
    pub fn with(mut self, plugin: &'a T, priority: i32) -> Self {
        self.sorted.retain(|r| r.plugin.name() != plugin.name());
        self.sorted.push(Registration::new(plugin, priority));
        self.sorted
            .sort_by(|a, b| (-a.priority, a.plugin.name()).cmp(&(-b.priority, b.plugin.name())));
        self
    }

    /// Every registration, in order.
    pub fn all(&self) -> &[Registration<'a, T>] {
        &self.sorted
    }

    /// The plugin with this name.
    pub fn get(&self, name: &str) -> Option<&'a T> {
        self.sorted
            .iter()
            .find(|r| r.plugin.name() == name)
            .map(|r| r.plugin)
    }

    /// The plugin with the highest priority.
    pub fn first(&self) -> Option<&'a T> {
        self.sorted.first().map(|r| r.plugin)
    }

    /// The names, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.sorted.iter().map(|r| r.plugin.name()).collect()
    }
}

/// The registry of what `inventory` collected for a kind of plugin (whose
/// registration type has an `inventory::collect!`), built once per program;
/// `$kind` names it in errors.
#[macro_export]
macro_rules! collected {
    ($t:ty, $kind:expr) => {{
        static REG: std::sync::OnceLock<
            std::result::Result<$crate::plugin::Registry<'static, $t>, String>,
        > = std::sync::OnceLock::new();
        REG.get_or_init(|| {
            $crate::plugin::Registry::new(
                $crate::inventory::iter::<$crate::plugin::Registration<'static, $t>>().copied(),
                $kind,
            )
            .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| $crate::error::Error::Other(e.clone()))
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    struct P(&'static str);
    impl Plugin for P {
        fn name(&self) -> &'static str {
            self.0
        }
    }
    static A: P = P("a");
    static B: P = P("b");
    static C: P = P("c");

    #[test]
    fn sorted_by_priority_then_name_and_duplicates_refused() {
        let r = Registry::<P>::new(
            [
                Registration::new(&C, 1),
                Registration::new(&B, 5),
                Registration::new(&A, 1),
            ],
            "things",
        )
        .unwrap();
        assert_eq!(r.names(), ["b", "a", "c"]);
        assert_eq!(r.first().map(|p| p.0), Some("b"));
        assert_eq!(
            format!("{r:?}"),
            "[Registration { name: \"b\", priority: 5 }, Registration { name: \"a\", priority: 1 }, \
             Registration { name: \"c\", priority: 1 }]"
        );
        let dup = Registry::<P>::new(
            [Registration::new(&A, 1), Registration::new(&A, 2)],
            "things",
        );
        assert!(dup
            .unwrap_err()
            .to_string()
            .contains("two things are registered under the name `a`"));
    }
}
