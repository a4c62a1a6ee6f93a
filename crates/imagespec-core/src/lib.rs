//! imagespec-core: the spec model and everything that is a pure function of it.
pub mod pyvalue;
pub mod yaml;
