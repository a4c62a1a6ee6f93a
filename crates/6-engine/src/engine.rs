//! The engine: many jobs as one graph.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{watch, Semaphore};

use imagespec_core::builder::{BuildContext, BuildRequest, ImageBuilder, Target};
use imagespec_core::error::{Error, PluginKind, Result};
use imagespec_core::existence::{decide, Decision, Existence, Policy};
use imagespec_core::spec::SpecRef;
use imagespec_identity::job::{BuildJob, Preparer};

use crate::options::EngineOptions;
use crate::plugins::Plugins;
use crate::report::{Action, BuildPath, Entry, Failure, Report};

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
    /// Remembered existence answers, when the options ask for them.
    remembered: Option<Arc<crate::remembered::Remembered>>,
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
        let remembered = options
            .remember
            .clone()
            .map(|o| Arc::new(crate::remembered::Remembered::new(o)));
        Engine {
            plugins,
            options,
            jobs: jobs.max(1),
            remembered,
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
            self.options.defaults.get()?,
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
        let remembered = self.remembered.as_deref();
        if let Some(digest) = remembered.and_then(|r| r.get(target.image_name, &target.platforms)) {
            tracing::debug!(image = %target.image_name, "exists (remembered)");
            return Ok(Existence::Exists { digest });
        }
        match self.plugins.checkers.first() {
            Some(checker) => {
                let answer = checker.check(target.image_name, &target.platforms).await;
                if let Some(r) = remembered {
                    match &answer {
                        Existence::Exists { digest } => {
                            r.put(target.image_name, &target.platforms, digest)
                        }
                        Existence::Missing { .. } => r.forget(target.image_name),
                        Existence::Unknown { .. } => {}
                    }
                }
                Ok(answer)
            }
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
        imagespec_plan::plan(job, &self.plugins.installers, self.options.defaults.get()?)
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
    ) -> Result<BuildRequest<'r>>
    where
        'p: 'r,
    {
        let target = self.target(job);
        let real_name = builder.planned_real_name(&target)?;
        Ok(BuildRequest {
            target,
            context,
            real_name,
            masked,
            quiet: self.options.quiet,
            registry: self.plugins.checkers.first(),
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
            path: None,
            uploaded: None,
            layers_reused: None,
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
                if let Some(route) = self.source_route(builder, job).await {
                    entry.path = Some(match &route {
                        Ok(_) => BuildPath::SourcePush,
                        Err(_) => BuildPath::Engine,
                    });
                    entry.reason = match route {
                        Ok(plan) => format!("{}; {}", entry.reason, plan.describe()),
                        Err(why) => format!("{}; the engine would build it: {why}", entry.reason),
                    };
                }
                // What the build would answer with, so dependents are shown
                // (and hashed) on the name they would really build on.
                entry.real_name = builder
                    .planned_real_name(&self.target(job))?
                    .filter(|r| *r != entry.image_name);
            }
            Decision::Build { reason } => {
                tracing::info!("[{}] {reason}", entry.image_name);
                entry.action = Action::Built;
                entry.reason = reason;
                if let Some(route) = self.source_route(builder, job).await {
                    match route {
                        Ok(plan) => {
                            let pushed = self.source_push(job, plan).await?;
                            self.remember_pushed(job, &pushed.digest);
                            entry.pushed = true;
                            entry.digest = Some(pushed.digest);
                            entry.path = Some(BuildPath::SourcePush);
                            entry.uploaded = Some(pushed.uploaded);
                            entry.layers_reused = Some(pushed.layers_reused);
                            return Ok(());
                        }
                        Err(why) => {
                            tracing::info!("[{}] built with the engine: {why}", entry.image_name)
                        }
                    }
                }
                let outcome = self.build(builder, job).await?;
                entry.path = Some(BuildPath::Engine);
                entry.pushed = outcome.pushed;
                entry.digest = outcome.digest.clone();
                entry.real_name = outcome.real_name.filter(|r| *r != entry.image_name);
                if outcome.pushed {
                    match &outcome.digest {
                        Some(digest) => self.remember_pushed(job, digest),
                        None => {
                            if let Some(r) = &self.remembered {
                                r.forget(&job.identity.image_name)
                            }
                        }
                    }
                    self.remember_engine_push(job, outcome.digest).await;
                }
            }
        }
        Ok(())
    }
}

impl Engine<'_> {
    /// Whether the engine-free source push can make a job's image: `None`
    /// when it is off or does not apply (no registry, no push, a builder
    /// that makes no context, no store); else its plan, or why the engine
    /// builds instead.
    async fn source_route(
        &self,
        builder: &dyn ImageBuilder,
        job: &BuildJob,
    ) -> Option<std::result::Result<crate::push::Plan, String>> {
        let options = self.options.source_push.as_ref()?;
        let target = self.target(job);
        if !target.push || !builder.needs_context() {
            return None;
        }
        if options.engine_only {
            return Some(Err("`--engine` asks for it".into()));
        }
        let store = self.plugins.stores.first()?;
        Some(crate::push::plan(store, options, job, &target.platforms).await)
    }

    async fn source_push(
        &self,
        job: &BuildJob,
        plan: crate::push::Plan,
    ) -> Result<crate::push::Pushed> {
        let (Some(options), Some(store)) = (&self.options.source_push, self.plugins.stores.first())
        else {
            return Err(Error::Other(
                "internal: the source push without its options".into(),
            ));
        };
        let platforms = self.target(job).platforms;
        let pushed = crate::push::push(store, options, job, &platforms, plan).await?;
        tracing::info!(
            "[{}] pushed the source change without an engine: {} bytes sent, {} layers kept",
            job.identity.image_name,
            pushed.uploaded,
            pushed.layers_reused
        );
        Ok(pushed)
    }

    /// Remembers that a job's image exists now (it was just pushed).
    fn remember_pushed(&self, job: &BuildJob, digest: &str) {
        if let Some(r) = &self.remembered {
            r.put(
                &job.identity.image_name,
                &self.target(job).platforms,
                digest,
            );
        }
    }

    /// Remembers an image an engine pushed, for the next source push (its
    /// digest asked of the registry when the builder did not say it).
    async fn remember_engine_push(&self, job: &BuildJob, digest: Option<String>) {
        let (Some(options), Some(store)) = (&self.options.source_push, self.plugins.stores.first())
        else {
            return;
        };
        let digest = match digest {
            Some(d) => d,
            None => match store.manifest(&job.identity.image_name).await {
                Ok(m) => m.digest,
                Err(e) => {
                    tracing::debug!(
                        "the push of {} is not remembered: {e}",
                        job.identity.image_name
                    );
                    return;
                }
            },
        };
        let platforms = self.target(job).platforms;
        match crate::push::record_engine_push(job, &digest) {
            Ok(record) => crate::push::remember(options, job, &platforms, &record),
            Err(e) => tracing::debug!(
                "the push of {} is not remembered: {e}",
                job.identity.image_name
            ),
        }
    }

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
