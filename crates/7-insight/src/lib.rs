//! Above the pipeline: what imagespec says about a spec.
//!
//! [`lint`] finds the YAML and flytekit traps a spec falls into;
//! [`explain`] says why two tags differ, against another spec, the spec at a
//! git revision, or a pushed image's inputs label.

pub mod explain;
pub mod lint;
