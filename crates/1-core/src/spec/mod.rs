//! The spec model: every field of flytekit 1.16's `ImageSpec`, with its meaning.
//!
//! An [`ImageSpec`] is immutable once made. It is normalised the way flytekit's
//! `__post_init__` normalises it (lower-cased name and registry, the default
//! platform, the copy mode that a source root implies), so that hashing it gives
//! flytekit's tag. Change one with the builder-style `with_*` methods, which
//! return a new spec, as flytekit's do.

mod access;
mod copy_mode;
mod fields;
mod load;
mod origin;
mod validate;

pub use copy_mode::CopyMode;
pub use fields::{
    field, BaseImage, Field, FieldRef, FieldValue, Hashed, ImageSpec, Kind, PyDict, SecretMount,
    CONFIG_BASE_IMAGE, CONFIG_SYNTAX, FIELDS,
};
pub use load::{load_file, load_file_with, load_str, load_str_with, SpecFormat};
pub use origin::{Loaded, Origin, ReadOptions, SpecRef, TypedScalar};
pub use validate::validate_tag;
pub use validate::{check_image_config, validate_registry};

/// The options of the past: [`ReadOptions`].
pub type LoadOptions = ReadOptions;
