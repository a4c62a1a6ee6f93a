//! The plugin crates this binary was built with (cargo features).
//!
//! A crate that nothing references is dropped by the linker together with its
//! `inventory::submit!` registrations, so each one is referenced here.

/// Keeps every enabled plugin crate linked.
pub fn link() {
    #[cfg(feature = "uv")]
    imagespec_uv::link();
    #[cfg(feature = "poetry")]
    imagespec_poetry::link();
    #[cfg(feature = "micromamba")]
    imagespec_micromamba::link();
    #[cfg(feature = "docker")]
    imagespec_docker::link();
    #[cfg(feature = "registry")]
    imagespec_registry::link();
    #[cfg(feature = "noop")]
    imagespec_noop::link();
}

/// The cargo feature of `imagespec-cli` that would have provided what an
/// error says is missing, as a hint for the user.
pub fn feature_hint(err: &imagespec_core::Error) -> Option<String> {
    use imagespec_core::{Error, PluginKind};
    let feature = match err {
        Error::MissingPlugin { kind, needed_for } => match kind {
            PluginKind::Checker => "registry",
            PluginKind::PythonInstaller => "micromamba",
            PluginKind::PackagesInstaller if needed_for.contains("poetry.lock") => "poetry",
            PluginKind::PackagesInstaller => "uv",
            PluginKind::Builder => "docker",
        },
        Error::Spec(se) if se.location.field.ends_with("builder") => {
            if se.message.contains("`default`") {
                "docker"
            } else if se.message.contains("`noop`") {
                "noop"
            } else {
                return None;
            }
        }
        _ => return None,
    };
    Some(format!(
        "this imagespec was built without the `{feature}` feature; rebuild it with \
         `cargo install imagespec-cli --features {feature}` (or the default features)"
    ))
}
