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
