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

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{watch, Semaphore};

use imagespec_context::prepare::ContextOptions;
use imagespec_core::builder::{BuildContext, BuildRequest, Builders, ImageBuilder, Target};
use imagespec_core::error::{Error, PluginKind, Result, SpecError};
use imagespec_core::existence::{decide, Checkers, Decision, Existence, Policy};
use imagespec_core::knobs::PythonDefaults;
use imagespec_core::spec::{ImageSpec, SpecRef};
use imagespec_identity::job::{BuildJob, Preparer};
use imagespec_plan::installer::Installers;

/// The plugins a run uses, handed in: the builders, the installers the
/// planner chooses from, and the registry checkers.
#[derive(Debug, Clone)]
pub struct Plugins<'a> {
    /// The image builders.
    pub builders: Builders<'a>,
    /// The installers.
    pub installers: Installers<'a>,
    /// The registry checkers (the first one asks).
    pub checkers: Checkers<'a>,
}

impl Plugins<'static> {
    /// What `inventory` collected in this program.
    pub fn registered() -> Result<Plugins<'static>> {
        Ok(Plugins {
            builders: imagespec_core::builder::registry()?.clone(),
            installers: imagespec_plan::installer::registry()?.clone(),
            checkers: imagespec_core::existence::registry()?.clone(),
        })
    }
}

impl<'a> Plugins<'a> {
    /// The builder a spec asks for by name, or the one with the highest
    /// priority.
    pub fn builder_for(&self, spec: &ImageSpec) -> Result<&'a dyn ImageBuilder> {
        match spec.builder() {
            Some(name) => self.builders.get(name).ok_or_else(|| {
                let known = self.builders.names();
                SpecError::field(
                    "builder",
                    format!("image builder `{name}` is not registered"),
                )
                .hint(if known.is_empty() {
                    "this imagespec was built without any builder; enable one with cargo features"
                        .to_string()
                } else {
                    format!("registered builders: {}", known.join(", "))
                })
                .missing_plugin(PluginKind::Builder, name)
                .into()
            }),
            None => self.builders.first().ok_or(Error::MissingPlugin {
                kind: PluginKind::Builder,
                needed_for: "building an image".into(),
                asked: None,
            }),
        }
    }
}

/// How a run goes: what the command line (or a program) decided, read once.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Push images whose spec has a registry.
    pub push: bool,
    /// The values flytekit takes from its Python process.
    pub defaults: PythonDefaults,
    /// Where contexts go.
    pub context: ContextOptions,
    /// What to do when an image exists or its existence cannot be told (a
    /// typed spec's own `_is_force_push` and `_fast_fail` add to it).
    pub policy: Policy,
    /// Print nothing but errors (`-q`).
    pub quiet: bool,
    /// Where the locks that keep two processes from building one image at
    /// once live (`None`: no locking).
    pub lock_dir: Option<PathBuf>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            push: true,
            defaults: PythonDefaults {
                default_python: "3.12".into(),
                flytekit_requirement: format!(
                    "flytekit=={}",
                    imagespec_core::knobs::FLYTEKIT_VERSION
                ),
            },
            context: ContextOptions::default(),
            policy: Policy::default(),
            quiet: false,
            lock_dir: None,
        }
    }
}

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

/// Runs the pipeline: prepares jobs, checks them, and builds them.
#[derive(Debug, Clone)]
pub struct Engine<'p> {
    plugins: &'p Plugins<'p>,
    options: EngineOptions,
    jobs: usize,
}

/// What a finished node hands to its dependents: the name to build on, or why it failed.
type Outcome = Option<std::result::Result<String, String>>;

/// A Dockerfile and commands a build would use (`build --dry-run --show`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    /// The Dockerfile (for a builder that builds from a context).
    pub dockerfile: Option<String>,
    /// The builder's commands.
    pub commands: Option<Vec<String>>,
}

impl<'p> Engine<'p> {
    /// An engine with these plugins and options, running at most `jobs` builds at once.
    pub fn new(plugins: &'p Plugins<'p>, options: EngineOptions, jobs: usize) -> Self {
        Engine {
            plugins,
            options,
            jobs: jobs.max(1),
        }
    }

    /// The plugins.
    pub fn plugins(&self) -> &'p Plugins<'p> {
        self.plugins
    }

    /// Checks `spec`, reads its inputs and computes its identity, its
    /// nested bases first, each base standing for the name its builder will
    /// answer with (flytekit's real-name mapping).
    pub fn prepare(&self, spec: SpecRef<'_>) -> Result<BuildJob> {
        let side_files =
            |s: SpecRef<'_>| imagespec_plan::installer::side_files(&self.plugins.installers, s);
        let real_name = |job: &BuildJob| -> Result<Option<String>> {
            match self.plugins.builder_for(&job.spec) {
                Ok(builder) => Ok(builder.planned_real_name(&self.target(job))?),
                // An unknown builder is reported when the job is checked.
                Err(_) => Ok(None),
            }
        };
        BuildJob::prepare(
            spec,
            &Preparer {
                side_files: &side_files,
                real_name: &real_name,
            },
        )
    }

    /// What a builder is told about a job's image.
    pub fn target<'j>(&self, job: &'j BuildJob) -> Target<'j> {
        Target {
            spec: job.spec.view(),
            image_name: &job.identity.image_name,
            base_image: job.inputs.base.as_ref().map(|b| b.name.as_str()),
            platforms: job
                .spec
                .platforms()
                .iter()
                .map(|p| p.trim().to_string())
                .collect(),
            push: self.options.push && job.spec.registry().is_some(),
        }
    }

    /// The name dependents of a job build on: the real name its builder will
    /// answer with, else its image name.
    pub fn dependent_name(&self, job: &BuildJob) -> Result<String> {
        let planned = match self.plugins.builder_for(&job.spec) {
            Ok(builder) => builder.planned_real_name(&self.target(job))?,
            Err(_) => None,
        };
        Ok(planned.unwrap_or_else(|| job.identity.image_name.clone()))
    }

    /// Every check a job and its nested bases must pass before anything is
    /// built: each names a builder this program has, passes its checks and,
    /// for a builder that builds from a context, flytekit's context checks.
    /// An error names the nested field (`base_image.cuda`) and is located in
    /// the spec's file.
    pub fn check(&self, job: &BuildJob) -> Result<()> {
        self.check_chain(job, |j| self.check_level(j))
    }

    /// flytekit's checks of a Docker build context, for a job and its nested
    /// bases, whatever builder they name (`imagespec context`).
    pub fn check_context(&self, job: &BuildJob) -> Result<()> {
        self.check_chain(job, |j| {
            imagespec_plan::context_checks(j, &self.plugins.installers)
        })
    }

    /// Writes the build context of a job into `output` (see
    /// [`imagespec_context::write_context`]), after [`Engine::check_context`].
    pub fn write_context(
        &self,
        job: &BuildJob,
        output: &std::path::Path,
        how: imagespec_context::Materialize,
    ) -> Result<imagespec_context::WrittenContext> {
        self.check_context(job)?;
        imagespec_context::write_context_with(
            job,
            &self.plugins.installers,
            &self.options.defaults,
            output,
            how,
        )
        .map_err(|e| job.spec.locate(e))
    }

    fn check_chain(&self, job: &BuildJob, check: impl Fn(&BuildJob) -> Result<()>) -> Result<()> {
        let mut prefix = String::new();
        for j in job.chain() {
            check(j).map_err(|e| {
                let e = match e {
                    Error::Spec(se) if !prefix.is_empty() => Error::Spec(se.nested_in(&prefix)),
                    other => other,
                };
                job.spec.locate(e)
            })?;
            prefix = match prefix.is_empty() {
                true => "base_image".to_string(),
                false => format!("{prefix}.base_image"),
            };
        }
        Ok(())
    }

    fn check_level(&self, job: &BuildJob) -> Result<()> {
        let builder = self.plugins.builder_for(&job.spec)?;
        let target = self.target(job);
        builder.check(&target)?;
        if builder.needs_context() {
            imagespec_plan::context_checks(job, &self.plugins.installers)?;
        }
        Ok(())
    }

    /// Whether each job's image exists, asked concurrently, in order.
    pub async fn exists(&self, jobs: &[BuildJob]) -> Vec<Result<Existence>> {
        let asks = jobs.iter().map(|job| {
            let span = tracing::info_span!(
                "checking",
                progress = true,
                image = %job.identity.image_name
            );
            tracing::Instrument::instrument(
                async move {
                    let builder = self
                        .plugins
                        .builder_for(&job.spec)
                        .map_err(|e| job.spec.locate(e))?;
                    self.existence(builder, &self.target(job)).await
                },
                span,
            )
        });
        futures_util::future::join_all(asks).await
    }

    /// The image's existence: the builder's own answer, else the registry's.
    async fn existence(
        &self,
        builder: &dyn ImageBuilder,
        target: &Target<'_>,
    ) -> Result<Existence> {
        if let Some(answer) = builder.existence(target).await? {
            return Ok(answer);
        }
        if target.spec.registry().is_none() {
            return Ok(Existence::Missing {
                reason: "no registry to look in".into(),
                digest: None,
            });
        }
        match self.plugins.checkers.first() {
            Some(checker) => Ok(checker.check(target.image_name, &target.platforms).await),
            None => Err(Error::MissingPlugin {
                kind: PluginKind::Checker,
                needed_for: format!(
                    "checking whether `{}` exists in its registry",
                    target.image_name
                ),
                asked: None,
            }),
        }
    }

    /// flytekit's `should_build`: the image's existence through [`decide`].
    async fn should_build(&self, builder: &dyn ImageBuilder, job: &BuildJob) -> Result<Decision> {
        if !builder.checks_existence() {
            return Ok(Decision::Build {
                reason: format!("the `{}` builder uses base_image as it is", builder.name()),
            });
        }
        let target = self.target(job);
        let policy = Policy {
            force_push: self.options.policy.force_push || job.spec.origin.force_push,
            fast_fail: self.options.policy.fast_fail || job.spec.origin.fast_fail,
            ..self.options.policy
        };
        let existence = match self.existence(builder, &target).await {
            // Forced builds need no answer.
            Err(Error::MissingPlugin { .. }) if policy.force_push => {
                return Ok(Decision::Build {
                    reason:
                        "forced (--force-push); existence not checked: no registry checker built in"
                            .into(),
                })
            }
            other => other?,
        };
        decide(target.image_name, &existence, policy)
    }

    /// The plan of a job, with this run's installers and defaults.
    pub fn plan(&self, job: &BuildJob) -> Result<imagespec_plan::BuildPlan> {
        imagespec_plan::plan(job, &self.plugins.installers, &self.options.defaults)
    }

    /// The Dockerfile and builder commands of a job (`--show`).
    pub async fn show(&self, job: &BuildJob, dockerfile: bool, commands: bool) -> Result<Shown> {
        let builder = self.plugins.builder_for(&job.spec)?;
        let plan = match builder.needs_context() {
            true => Some(self.plan(job)?),
            false => None,
        };
        let dockerfile = match (&plan, dockerfile) {
            (Some(plan), true) => Some(imagespec_plan::render::render(plan)?),
            _ => None,
        };
        let commands = match commands {
            true => {
                let context = plan.as_ref().map(imagespec_context::prepare::planned);
                let masked = job.secrets();
                let request = self.request(builder, job, context.as_ref(), &masked)?;
                Some(builder.planned_commands(&request).await?)
            }
            false => None,
        };
        Ok(Shown {
            dockerfile,
            commands,
        })
    }

    fn request<'r>(
        &self,
        builder: &dyn ImageBuilder,
        job: &'r BuildJob,
        context: Option<&'r BuildContext>,
        masked: &'r imagespec_core::redact::Secrets,
    ) -> Result<BuildRequest<'r>> {
        let target = self.target(job);
        let real_name = builder.planned_real_name(&target)?;
        Ok(BuildRequest {
            target,
            context,
            real_name,
            masked,
            quiet: self.options.quiet,
        })
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

    /// Checks every prepared job and its bases ([`Engine::check`]: an error
    /// there means nothing was built), then, unless `dry_run`, builds them.
    /// Build failures are in the report.
    pub async fn run(&self, jobs: &[BuildJob], dry_run: bool) -> Result<Report> {
        for job in jobs {
            self.check(job)?;
        }
        let report = self.run_checked(jobs, dry_run).await;
        // The kept build contexts stay within their bounds.
        if let (false, Some(cache)) = (dry_run, &self.options.context.cache) {
            match imagespec_context::cache::prune_contexts(cache, Default::default()) {
                Ok(p) if p.contexts > 0 => tracing::info!(
                    "pruned {} kept build context(s) ({} bytes)",
                    p.contexts,
                    p.bytes
                ),
                Ok(_) => {}
                Err(e) => tracing::debug!("kept build contexts not pruned: {e}"),
            }
        }
        Ok(report)
    }

    async fn run_checked(&self, jobs: &[BuildJob], dry_run: bool) -> Report {
        let nodes = Engine::graph(jobs);
        let semaphore = Arc::new(Semaphore::new(self.jobs));
        let mut senders = Vec::new();
        let mut receivers: Vec<watch::Receiver<Outcome>> = Vec::new();
        for _ in &nodes {
            let (tx, rx) = watch::channel(None);
            senders.push(tx);
            receivers.push(rx);
        }
        // Every node at once, each waiting for its base and a permit; the
        // builds wait on their engines (and the contexts are written on
        // blocking threads), so one task drives them all, borrowing the plugins.
        let runs = nodes.iter().cloned().zip(senders).map(|(node, tx)| {
            let base_rx = node
                .base
                .map(|b| (nodes[b].key.clone(), receivers[b].clone()));
            let semaphore = semaphore.clone();
            // A `progress` span: the command line shows it as a spinner on a terminal.
            let span = tracing::info_span!("image", progress = true, name = %node.key);
            tracing::Instrument::instrument(
                async move { self.run_node(node, base_rx, semaphore, dry_run, &tx).await },
                span,
            )
        });
        Report {
            entries: futures_util::future::join_all(runs).await,
        }
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
        let builder = self.plugins.builder_for(&job.spec)?;
        entry.builder = Some(builder.name().to_string());
        let pushing = self.target(job).push;
        // One process builds an image at a time: a second one waits here,
        // then finds the image and skips it.
        let _lock = match (&self.options.lock_dir, dry_run) {
            (Some(dir), false) => {
                let (dir, image) = (dir.clone(), entry.image_name.clone());
                Some(
                    tokio::task::spawn_blocking(move || {
                        imagespec_context::cache::lock_image(&dir, &image)
                    })
                    .await
                    .map_err(|e| Error::Other(format!("the lock task failed: {e}")))??,
                )
            }
            _ => None,
        };
        let decision = self.should_build(builder, job).await?;
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
                    .planned_real_name(&self.target(job))?
                    .filter(|r| *r != entry.image_name);
            }
            Decision::Build { reason } => {
                tracing::info!("[{}] {reason}", entry.image_name);
                let outcome = self.build(builder, job).await?;
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

impl Engine<'_> {
    /// Prepares the context (for a builder that builds from one) and hands
    /// it to the builder: the only place a builder runs.
    async fn build(
        &self,
        builder: &dyn ImageBuilder,
        job: &BuildJob,
    ) -> Result<imagespec_core::builder::BuildOutcome> {
        for note in builder.notes(&self.target(job)) {
            tracing::warn!("[{}] {note}", job.identity.image_name);
        }
        let context = match builder.needs_context() {
            true => {
                let plan = self.plan(job)?;
                let (job, options) = (job.clone(), self.options.context.clone());
                Some(
                    tokio::task::spawn_blocking(move || {
                        imagespec_context::prepare::prepare(&job, &plan, &options)
                    })
                    .await
                    .map_err(|e| Error::Other(format!("the context task failed: {e}")))??,
                )
            }
            false => None,
        };
        let masked = job.secrets();
        let request = self.request(builder, job, context.as_ref(), &masked)?;
        builder.build_image(&request).await
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
