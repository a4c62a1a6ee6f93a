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
    #[cfg(feature = "podman")]
    imagespec_podman::link();
    #[cfg(feature = "registry")]
    imagespec_registry::link();
    #[cfg(feature = "noop")]
    imagespec_noop::link();
}

/// The cargo feature of `imagespec-cli` that would have provided what an
/// error says is missing, as a hint for the user: from what the error
/// carries (the kind of plugin, and the name asked for), never its text.
pub fn feature_hint(err: &imagespec_core::Error) -> Option<String> {
    use imagespec_core::{Error, PluginKind};
    let (kind, asked) = match err {
        Error::MissingPlugin { kind, asked, .. } => (*kind, asked.as_deref()),
        Error::Spec(se) => {
            let (kind, name) = se.carried.missing.as_ref()?;
            (*kind, Some(name.as_str()))
        }
        _ => return None,
    };
    let feature = match (kind, asked) {
        (PluginKind::Checker, _) => "registry",
        (PluginKind::PythonInstaller, _) => "micromamba",
        (PluginKind::PackagesInstaller, Some("poetry.lock")) => "poetry",
        (PluginKind::PackagesInstaller, _) => "uv",
        (PluginKind::Builder, None | Some("default")) => "docker",
        (PluginKind::Builder, Some("noop")) => "noop",
        (PluginKind::Builder, Some("podman")) => "podman",
        (PluginKind::Builder, Some(_)) => return None,
    };
    Some(format!(
        "this imagespec was built without the `{feature}` feature; rebuild it with \
         `cargo install imagespec-cli --features {feature}` (or the default features)"
    ))
}

/// `--version`'s long form: the version, then the plugins compiled in.
pub fn long_version() -> String {
    let mut out = env!("CARGO_PKG_VERSION").to_string();
    out.push_str(&format!(
        " (computes flytekit {}'s image names)",
        imagespec_core::knobs::FLYTEKIT_VERSION
    ));
    let names = |r: imagespec_core::Result<Vec<String>>| match r {
        Ok(names) if names.is_empty() => "none".to_string(),
        Ok(names) => names.join(", "),
        Err(e) => format!("(cannot list: {e})"),
    };
    let builders = imagespec_core::builder::registry().map(|r| {
        r.all()
            .iter()
            .map(|b| b.plugin.name().to_string())
            .collect()
    });
    let installers = imagespec_plan::installer::registry().map(|r| {
        r.all()
            .iter()
            .map(|i| {
                let role = serde_json::to_value(i.plugin.role()).unwrap_or_default();
                format!("{} ({})", i.plugin.name(), role.as_str().unwrap_or("?"))
            })
            .collect()
    });
    let checkers = imagespec_core::existence::registry()
        .map(|r| r.names().into_iter().map(str::to_string).collect());
    out.push_str(&format!("\nbuilders: {}", names(builders)));
    out.push_str(&format!("\ninstallers: {}", names(installers)));
    out.push_str(&format!("\ncheckers: {}", names(checkers)));
    out
}
