//! The build engine: many specs at once, nested bases first, each image once.
//!
//! flytekit's `ImageBuildEngine` builds a nested base before its child, builds
//! each spec once per process, and maps the name a builder returns to the
//! name dependents use. This engine does the same for a whole run as one
//! graph, and runs independent builds concurrently (up to `jobs`).
//!
//! - Nodes are keyed by image name: specs that share a base (or are equal)
//!   share a node, so it is checked and built once.
//! - A child waits for its base; the base's real name (what its builder
//!   returned, else its image name) becomes the child's `base_image`, as
//!   flytekit's engine does, and so enters the child's tag.
//! - A failure fails its dependents (not attempted) and nothing else; the
//!   report has every image's outcome.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{watch, Semaphore};

use crate::builder::{BuildOptions, Builders};
use crate::error::{Error, Result};
use crate::existence::Decision;
use crate::job::BuildJob;

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

/// One image to make, and the node it waits for.
#[derive(Debug, Clone)]
struct Node {
    key: String,
    job: BuildJob,
    base: Option<usize>,
    requested: bool,
}

/// Runs builds.
#[derive(Debug, Clone)]
pub struct Engine {
    builders: &'static Builders,
    options: BuildOptions,
    jobs: usize,
}

/// What a finished node hands to its dependents: the name to build on, or why it failed.
type Outcome = Option<std::result::Result<String, String>>;

impl Engine {
    /// An engine with these builders and options, running at most `jobs` builds at once.
    pub fn new(builders: &'static Builders, options: BuildOptions, jobs: usize) -> Self {
        Engine {
            builders,
            options,
            jobs: jobs.max(1),
        }
    }

    /// The engine with the builders registered in this program.
    pub fn registered(options: BuildOptions, jobs: usize) -> Result<Self> {
        Ok(Engine::new(crate::builder::registry()?, options, jobs))
    }

    /// The graph: every job and its nested bases, once each, bases first.
    fn graph(jobs: &[BuildJob]) -> Vec<Node> {
        let mut nodes: Vec<Node> = Vec::new();
        for job in jobs {
            let chain: Vec<&BuildJob> = job.chain().collect();
            let mut below: Option<usize> = None;
            let depth = chain.len();
            for (i, j) in chain.into_iter().rev().enumerate() {
                let key = j.identity.image_name.clone();
                let requested = i == depth - 1;
                let index = match nodes.iter().position(|n| n.key == key) {
                    Some(found) => {
                        nodes[found].requested |= requested;
                        found
                    }
                    None => {
                        nodes.push(Node {
                            key,
                            job: j.clone(),
                            base: below,
                            requested,
                        });
                        nodes.len() - 1
                    }
                };
                below = Some(index);
            }
        }
        nodes
    }

    /// Checks, and unless `dry_run` builds, every prepared job and its bases.
    /// Build failures are in the report; an error means the run could not start.
    pub async fn run(&self, jobs: &[BuildJob], dry_run: bool) -> Result<Report> {
        let nodes = Engine::graph(jobs);
        let semaphore = Arc::new(Semaphore::new(self.jobs));
        let mut senders = Vec::new();
        let mut receivers: Vec<watch::Receiver<Outcome>> = Vec::new();
        for _ in &nodes {
            let (tx, rx) = watch::channel(None);
            senders.push(tx);
            receivers.push(rx);
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (index, (node, tx)) in nodes.iter().cloned().zip(senders).enumerate() {
            let base_rx = node
                .base
                .map(|b| (nodes[b].key.clone(), receivers[b].clone()));
            let engine = self.clone();
            let semaphore = semaphore.clone();
            // A `progress` span: the command line shows it as a spinner on a terminal.
            let span = tracing::info_span!("image", progress = true, name = %node.key);
            tasks.spawn(tracing::Instrument::instrument(
                async move {
                    let entry = engine
                        .run_node(node, base_rx, semaphore, dry_run, &tx)
                        .await;
                    (index, entry)
                },
                span,
            ));
        }
        let mut entries: Vec<Option<Entry>> = vec![None; nodes.len()];
        while let Some(joined) = tasks.join_next().await {
            let (index, entry) =
                joined.map_err(|e| Error::Other(format!("a build task failed: {e}")))?;
            entries[index] = Some(entry);
        }
        Ok(Report {
            entries: entries.into_iter().flatten().collect(),
        })
    }

    async fn run_node(
        &self,
        node: Node,
        base: Option<(String, watch::Receiver<Outcome>)>,
        semaphore: Arc<Semaphore>,
        dry_run: bool,
        done: &watch::Sender<Outcome>,
    ) -> Entry {
        let mut entry = Entry {
            image_name: node.key.clone(),
            requested: node.requested,
            action: Action::Failed,
            reason: String::new(),
            builder: None,
            pushed: false,
            real_name: None,
            digest: None,
            base: base.as_ref().map(|(k, _)| k.clone()),
            time: Duration::ZERO,
            error: None,
        };
        let mut job = node.job;
        if let Some((base_key, mut rx)) = base {
            let outcome: Outcome = match rx.wait_for(|o| o.is_some()).await {
                Ok(o) => o.clone(),
                Err(_) => None,
            };
            match outcome {
                Some(Ok(base_name)) => match job.with_base_built_as(&base_name) {
                    Ok(j) => job = j,
                    Err(e) => return fail(entry, e, done),
                },
                Some(Err(why)) => {
                    return finish(
                        entry,
                        Action::NotAttempted,
                        format!("its base {base_key} failed: {why}"),
                        done,
                    )
                }
                None => {
                    return finish(
                        entry,
                        Action::NotAttempted,
                        format!("its base {base_key} did not finish"),
                        done,
                    )
                }
            }
        }
        let _permit = semaphore.acquire_owned().await;
        let start = Instant::now();
        let result = self.check_and_build(&job, &mut entry, dry_run).await;
        entry.time = start.elapsed();
        match result {
            Ok(()) => {
                let name = entry
                    .real_name
                    .clone()
                    .unwrap_or_else(|| entry.image_name.clone());
                let _ = done.send(Some(Ok(name)));
                entry
            }
            Err(e) => {
                // The report carries it; the caller prints it (once).
                tracing::debug!("[{}] failed: {e}", entry.image_name);
                fail(entry, e, done)
            }
        }
    }

    async fn check_and_build(
        &self,
        job: &BuildJob,
        entry: &mut Entry,
        dry_run: bool,
    ) -> Result<()> {
        entry.image_name = job.identity.image_name.clone();
        let builder = crate::builder::for_spec_in(self.builders, &job.spec)?;
        entry.builder = Some(builder.name().to_string());
        builder.check(job)?;
        let pushing = self.options.push && job.spec.registry().is_some();
        // One process builds an image at a time: a second one waits here,
        // then finds the image and skips it.
        let _lock = match (&self.options.lock_dir, dry_run) {
            (Some(dir), false) => {
                let (dir, image) = (dir.clone(), entry.image_name.clone());
                Some(
                    tokio::task::spawn_blocking(move || crate::cache::lock_image(&dir, &image))
                        .await
                        .map_err(|e| Error::Other(format!("the lock task failed: {e}")))??,
                )
            }
            _ => None,
        };
        let decision = builder.should_build(job, &self.options).await?;
        match decision {
            Decision::Skip { reason } => {
                tracing::info!("[{}] {reason}", entry.image_name);
                entry.action = if dry_run {
                    Action::WouldSkip
                } else {
                    Action::Skipped
                };
                entry.reason = reason;
            }
            Decision::Build { reason } if dry_run => {
                entry.action = Action::WouldBuild;
                entry.pushed = pushing;
                entry.reason = reason;
                // What the build would answer with, so dependents are shown
                // (and hashed) on the name they would really build on.
                entry.real_name = builder
                    .planned_real_name(job)?
                    .filter(|r| *r != entry.image_name);
            }
            Decision::Build { reason } => {
                tracing::info!("[{}] {reason}", entry.image_name);
                let outcome = builder.build_image(job, &self.options).await?;
                entry.action = Action::Built;
                entry.pushed = outcome.pushed;
                entry.digest = outcome.digest;
                entry.real_name = outcome.real_name.filter(|r| *r != entry.image_name);
                entry.reason = reason;
            }
        }
        Ok(())
    }
}

fn fail(mut entry: Entry, e: Error, done: &watch::Sender<Outcome>) -> Entry {
    let reason = e.to_string();
    entry.error = Some(Failure(Arc::new(e)));
    finish(entry, Action::Failed, reason, done)
}

fn finish(
    mut entry: Entry,
    action: Action,
    reason: String,
    done: &watch::Sender<Outcome>,
) -> Entry {
    let _ = done.send(Some(Err(reason.clone())));
    entry.action = action;
    entry.reason = reason;
    entry
}
