//! What a run reports: one entry per image.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use imagespec_core::error::Error;

/// What happened to one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Built (and pushed when it has a registry and pushing is on).
    Built,
    /// Not built: it exists.
    Skipped,
    /// The check or the build failed.
    Failed,
    /// Not attempted: its base failed.
    NotAttempted,
    /// Dry run: would be built.
    WouldBuild,
    /// Dry run: would be skipped.
    WouldSkip,
}

impl Action {
    /// How the summary names it.
    pub fn label(self) -> &'static str {
        match self {
            Action::Built => "built",
            Action::Skipped => "skipped",
            Action::Failed => "failed",
            Action::NotAttempted => "not attempted",
            Action::WouldBuild => "would build",
            Action::WouldSkip => "would skip",
        }
    }
}

/// How an image is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildPath {
    /// Its builder runs its engine on a prepared context.
    Engine,
    /// The source change, pushed as a layer without an engine.
    SourcePush,
}

/// One image of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// flytekit's image name (with the real name of its base, if built in this run).
    pub image_name: String,
    /// True for a spec the run was asked for; false for a nested base.
    pub requested: bool,
    /// What happened.
    pub action: Action,
    /// Why.
    pub reason: String,
    /// The builder used.
    pub builder: Option<String>,
    /// Whether it was (or would be) pushed.
    pub pushed: bool,
    /// The name its builder returned, when it differs from `image_name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real_name: Option<String>,
    /// The pushed digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The base this image waited for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// How it was (or would be) built: by its builder's engine, or pushed
    /// without one (`source_push`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<BuildPath>,
    /// Bytes the source push sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uploaded: Option<u64>,
    /// Layers of the earlier image the source push kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers_reused: Option<usize>,
    /// Time spent on this image (check and build), not waiting.
    #[serde(serialize_with = "seconds")]
    pub time: Duration,
    /// The error, for a failed image (its kind kept: an invalid spec stays one).
    #[serde(skip)]
    pub error: Option<Failure>,
}

impl Entry {
    /// What the summary says happened: the action, with `+pushed` (or
    /// `+push` for a dry run) when the image went (or would go) to its registry.
    pub fn summary(&self) -> String {
        match (self.action, self.pushed) {
            (Action::Built, true) => "built+pushed".to_string(),
            (Action::WouldBuild, true) => "would build+push".to_string(),
            (action, _) => action.label().to_string(),
        }
    }
}

/// A failed image's error, shared by the report's copies.
#[derive(Debug, Clone)]
pub struct Failure(pub Arc<Error>);

impl PartialEq for Failure {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.to_string() == other.0.to_string()
    }
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 10.0).round() / 10.0)
}

/// The outcome of a run, in the order the specs were given (bases before their children).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// One entry per distinct image.
    pub entries: Vec<Entry>,
}

impl Report {
    /// True when nothing failed.
    pub fn ok(&self) -> bool {
        self.entries
            .iter()
            .all(|e| !matches!(e.action, Action::Failed | Action::NotAttempted))
    }

    /// The entry for a requested spec's key, in request order.
    pub fn requested(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.requested)
    }

    /// A plain-text table: image, action, time.
    pub fn table(&self) -> String {
        let width = self
            .entries
            .iter()
            .map(|e| e.image_name.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let mut out = format!("{:<width$}  {:<17}  {:>7}\n", "IMAGE", "ACTION", "TIME");
        for e in &self.entries {
            out.push_str(&format!(
                "{:<width$}  {:<17}  {:>6.1}s\n",
                e.image_name,
                e.summary(),
                e.time.as_secs_f64()
            ));
        }
        out
    }
}
