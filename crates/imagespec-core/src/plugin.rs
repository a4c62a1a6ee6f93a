//! What the plugin registries (builders, installers) share: every name once,
//! then a deterministic order that never depends on link order.

use std::collections::BTreeSet;

/// Sorts `items` by `key`, after checking that `name` is unique; `kind` names
/// the plugins in the error (`image builders`, `installers`).
pub(crate) fn unique_sorted<T, K: Ord>(
    mut items: Vec<T>,
    kind: &str,
    name: impl Fn(&T) -> &'static str,
    key: impl Fn(&T) -> K,
) -> Result<Vec<T>, String> {
    let mut seen = BTreeSet::new();
    for item in &items {
        if !seen.insert(name(item)) {
            return Err(format!(
                "two {kind} are registered under the name `{}`; rename one of them",
                name(item)
            ));
        }
    }
    items.sort_by_key(key);
    Ok(items)
}
