//! The engine with in-process test builders: builder choice, nested order,
//! each image once, real names, concurrency, failures, dry runs. Builds
//! "take" time on tokio's paused clock, so the tests wait for nothing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use imagespec_core::builder::{BuildOutcome, BuildRequest, Builders, ImageBuilder, Target};
use imagespec_core::existence::Existence;
use imagespec_core::spec::{load_str, SpecFormat};
use imagespec_core::{BaseImage, Plugin, Result};
use imagespec_engine::{Action, Engine, EngineOptions, Plugins};
use imagespec_identity::BuildJob;
use imagespec_tests::{link_plugins, oracle_defaults, SpecExt};

/// What a test builder saw.
#[derive(Debug, Default)]
struct Recorder {
    /// (image name, base image name) of every build, in order.
    builds: Mutex<Vec<(String, Option<String>)>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

#[derive(Debug)]
struct TestBuilder {
    name: &'static str,
    rec: Arc<Recorder>,
    /// Image names (without tag) that already exist.
    existing: Vec<&'static str>,
    /// Image names (without tag) whose build fails.
    failing: Vec<&'static str>,
    /// The real name returned for these image names.
    real: Vec<(&'static str, &'static str)>,
    delay: Duration,
    /// Whether what it built exists afterwards (as in a registry).
    remembers: bool,
}

impl TestBuilder {
    fn new(name: &'static str, rec: &Arc<Recorder>) -> TestBuilder {
        TestBuilder {
            name,
            rec: Arc::clone(rec),
            existing: vec![],
            failing: vec![],
            real: vec![],
            delay: Duration::from_millis(20),
            remembers: false,
        }
    }
}

impl Plugin for TestBuilder {
    fn name(&self) -> &'static str {
        self.name
    }
}

#[async_trait]
impl ImageBuilder for TestBuilder {
    /// It builds from no context: the engine's logic alone is under test.
    fn needs_context(&self) -> bool {
        false
    }

    async fn existence(&self, target: &Target<'_>) -> Result<Option<Existence>> {
        let built = self
            .rec
            .builds
            .lock()
            .unwrap()
            .iter()
            .any(|(n, _)| n == target.image_name);
        Ok(Some(
            if self.existing.contains(&target.spec.name()) || (self.remembers && built) {
                Existence::Exists {
                    digest: "sha256:test".into(),
                }
            } else {
                Existence::Missing {
                    reason: "test".into(),
                    digest: None,
                }
            },
        ))
    }

    async fn build_image(&self, request: &BuildRequest<'_>) -> Result<BuildOutcome> {
        let target = &request.target;
        let name = target.spec.name();
        let now = self.rec.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.rec.max_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        self.rec.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.rec.builds.lock().unwrap().push((
            target.image_name.to_string(),
            target.base_image.map(str::to_string),
        ));
        if self.failing.contains(&name) {
            return Err(imagespec_core::Error::Other(format!(
                "{name} failed on purpose"
            )));
        }
        Ok(BuildOutcome {
            real_name: self
                .real
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, r)| r.to_string()),
            pushed: false,
            digest: None,
            context: None,
        })
    }
}

fn recorder() -> Arc<Recorder> {
    Arc::new(Recorder::default())
}

/// The plugins of a run: these builders, borrowed, and the registered
/// installers.
fn set_of<'a>(builders: &[(&'a TestBuilder, i32)]) -> Plugins<'a> {
    link_plugins();
    let mut set = Builders::empty();
    for (b, priority) in builders {
        set = set.with(*b, *priority);
    }
    Plugins::registered().unwrap().with_builders(set)
}

fn options() -> EngineOptions {
    EngineOptions {
        push: true,
        defaults: oracle_defaults().into(),
        quiet: true,
        ..EngineOptions::default()
    }
}

/// The specs prepared (inputs read, identity computed), as the CLI does.
fn jobs(engine: &Engine<'_>, specs: &[imagespec_core::Loaded]) -> Vec<BuildJob> {
    specs
        .iter()
        .map(|s| engine.prepare(s.view()).unwrap())
        .collect()
}

fn spec(yaml: &str) -> imagespec_core::Loaded {
    link_plugins();
    load_str(yaml, SpecFormat::Yaml, None, std::path::Path::new(".")).unwrap()
}

/// A child spec on a nested base spec.
fn child(name: &str, base: &str, builder: &str) -> imagespec_core::Loaded {
    spec(&format!(
        "name: {name}\npython_version: \"3.12\"\nbuilder: {builder}\nbase_image:\n  name: {base}\n  python_version: \"3.12\"\n  builder: {builder}\n  base_image: debian:bookworm-slim\n"
    ))
}

fn built(rec: &Recorder) -> Vec<(String, Option<String>)> {
    rec.builds.lock().unwrap().clone()
}

#[test]
fn the_highest_priority_builder_is_the_default_and_names_select() {
    let rec = recorder();
    let (low, high, also) = (
        TestBuilder::new("low", &rec),
        TestBuilder::new("high", &rec),
        TestBuilder::new("also-high", &rec),
    );
    let plugins = set_of(&[(&low, 1), (&high, 5), (&also, 5)]);
    assert_eq!(
        plugins.builders.names(),
        ["also-high", "high", "low"],
        "priority, then name"
    );
    let for_spec = |yaml: &str| plugins.builder_for(&spec(yaml));
    assert_eq!(for_spec("name: a\n").unwrap().name(), "also-high");
    assert_eq!(for_spec("name: a\nbuilder: low\n").unwrap().name(), "low");

    let err = match for_spec("name: a\nbuilder: envd\n") {
        Err(e) => e.to_string(),
        Ok(b) => panic!("`envd` resolved to {}", b.name()),
    };
    assert!(err.contains("`envd` is not registered"), "{err}");
    assert!(
        err.contains("registered builders: also-high, high, low"),
        "{err}"
    );
}

#[test]
fn duplicate_builder_names_are_an_error() {
    let rec = recorder();
    let (one, two) = (
        TestBuilder::new("same", &rec),
        TestBuilder::new("same", &rec),
    );
    let err = Builders::new(
        [
            imagespec_core::Registration::new(&one as &dyn ImageBuilder, 1),
            imagespec_core::Registration::new(&two as &dyn ImageBuilder, 2),
        ],
        "image builders",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("two image builders are registered under the name `same`"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_nested_base_is_built_first_and_its_name_goes_into_the_child() {
    let rec = recorder();
    let t = TestBuilder::new("t", &rec);
    let plugins = set_of(&[(&t, 0)]);
    let engine = Engine::new(&plugins, options(), 4);
    let c = child("child", "base", "t");
    let base_name = match c.base_image() {
        Some(BaseImage::Spec(b)) => b.job().unwrap().identity.image_name,
        _ => unreachable!(),
    };
    let report = engine
        .run(&jobs(&engine, std::slice::from_ref(&c)), false)
        .await
        .unwrap();
    assert!(report.ok(), "{report:?}");
    let builds = built(&rec);
    assert_eq!(builds.len(), 2);
    assert_eq!(builds[0].0, base_name, "the base first");
    assert_eq!(
        builds[1].0,
        c.identity().unwrap().image_name,
        "then the child, same tag as flytekit's"
    );
    assert_eq!(
        builds[1].1.as_deref(),
        Some(base_name.as_str()),
        "built on the base's image name"
    );
    assert_eq!(report.entries.iter().filter(|e| e.requested).count(), 1);
    assert_eq!(report.entries[1].base.as_deref(), Some(base_name.as_str()));
}

#[tokio::test(start_paused = true)]
async fn a_shared_base_is_built_exactly_once_across_ten_specs() {
    let rec = recorder();
    let t = TestBuilder::new("t", &rec);
    let plugins = set_of(&[(&t, 0)]);
    let engine = Engine::new(&plugins, options(), 4);
    let specs: Vec<imagespec_core::Loaded> = (0..10)
        .map(|i| child(&format!("c{i}"), "shared", "t"))
        .collect();
    let report = engine.run(&jobs(&engine, &specs), false).await.unwrap();
    assert!(report.ok());
    let builds = built(&rec);
    let base_builds = builds
        .iter()
        .filter(|(n, _)| n.starts_with("shared:"))
        .count();
    assert_eq!(base_builds, 1, "{builds:?}");
    assert_eq!(builds.len(), 11);
    assert_eq!(report.entries.len(), 11);
    assert_eq!(report.entries.iter().filter(|e| e.requested).count(), 10);
    // The same spec twice is one image too.
    let rec2 = recorder();
    let t2 = TestBuilder::new("t", &rec2);
    let plugins2 = set_of(&[(&t2, 0)]);
    let engine2 = Engine::new(&plugins2, options(), 2);
    let s = spec("name: twice\nbuilder: t\n");
    engine2
        .run(&jobs(&engine2, &[s.clone(), s]), false)
        .await
        .unwrap();
    assert_eq!(built(&rec2).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_name_a_builder_returns_is_what_dependents_use() {
    let rec = recorder();
    let mut b = TestBuilder::new("t", &rec);
    b.real = vec![("base", "mirror.example/base:real")];
    let plugins = set_of(&[(&b, 0)]);
    let engine = Engine::new(&plugins, options(), 2);
    let c = child("child", "base", "t");
    let report = engine
        .run(&jobs(&engine, std::slice::from_ref(&c)), false)
        .await
        .unwrap();
    assert!(report.ok());
    let builds = built(&rec);
    assert_eq!(builds[1].1.as_deref(), Some("mirror.example/base:real"));
    assert_eq!(
        report.entries[0].real_name.as_deref(),
        Some("mirror.example/base:real")
    );
    // As in flytekit, the real name enters the child's tag.
    let with_real = c
        .with_base_image(BaseImage::Name("mirror.example/base:real".into()))
        .unwrap();
    assert_eq!(
        report.entries[1].image_name,
        with_real.identity().unwrap().image_name
    );
    assert_ne!(
        report.entries[1].image_name,
        c.identity().unwrap().image_name
    );
}

#[tokio::test(start_paused = true)]
async fn builds_run_concurrently_up_to_jobs() {
    let rec = recorder();
    let mut b = TestBuilder::new("t", &rec);
    b.delay = Duration::from_millis(150);
    let plugins3 = set_of(&[(&b, 0)]);
    let engine = Engine::new(&plugins3, options(), 3);
    let specs: Vec<imagespec_core::Loaded> = (0..7)
        .map(|i| spec(&format!("name: p{i}\nbuilder: t\n")))
        .collect();
    let report = engine.run(&jobs(&engine, &specs), false).await.unwrap();
    assert!(report.ok());
    assert_eq!(built(&rec).len(), 7);
    assert_eq!(
        rec.max_in_flight.load(Ordering::SeqCst),
        3,
        "three at once, never more"
    );

    let rec1 = recorder();
    let mut b1 = TestBuilder::new("t", &rec1);
    b1.delay = Duration::from_millis(30);
    let plugins1 = set_of(&[(&b1, 0)]);
    let engine1 = Engine::new(&plugins1, options(), 1);
    engine1.run(&jobs(&engine1, &specs), false).await.unwrap();
    assert_eq!(rec1.max_in_flight.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn one_failure_fails_its_dependents_and_nothing_else() {
    let rec = recorder();
    let mut b = TestBuilder::new("t", &rec);
    b.failing = vec!["badbase", "lonely"];
    let plugins = set_of(&[(&b, 0)]);
    let engine = Engine::new(&plugins, options(), 2);
    let specs = vec![
        child("c1", "badbase", "t"),
        spec("name: fine\nbuilder: t\n"),
        spec("name: lonely\nbuilder: t\n"),
        child("c2", "goodbase", "t"),
    ];
    let report = engine.run(&jobs(&engine, &specs), false).await.unwrap();
    assert!(!report.ok());
    let action = |prefix: &str| {
        report
            .entries
            .iter()
            .find(|e| e.image_name.starts_with(prefix))
            .map(|e| e.action)
            .unwrap_or_else(|| panic!("{prefix} in {report:?}"))
    };
    assert_eq!(action("badbase:"), Action::Failed);
    assert_eq!(action("c1:"), Action::NotAttempted);
    assert_eq!(action("fine:"), Action::Built);
    assert_eq!(action("lonely:"), Action::Failed);
    assert_eq!(action("goodbase:"), Action::Built);
    assert_eq!(action("c2:"), Action::Built);
    let table = report.table();
    assert!(
        table.contains("not attempted") && table.contains("failed") && table.contains("built"),
        "{table}"
    );
}

#[tokio::test(start_paused = true)]
async fn existing_images_are_skipped_and_dry_runs_build_nothing() {
    let rec = recorder();
    let mut b = TestBuilder::new("t", &rec);
    b.existing = vec!["base", "there"];
    let plugins = set_of(&[(&b, 0)]);
    let engine = Engine::new(&plugins, options(), 2);
    let specs = vec![
        child("child", "base", "t"),
        spec("name: there\nbuilder: t\n"),
    ];
    let dry = engine.run(&jobs(&engine, &specs), true).await.unwrap();
    assert!(built(&rec).is_empty(), "a dry run builds nothing");
    let actions: Vec<Action> = dry.entries.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [Action::WouldSkip, Action::WouldBuild, Action::WouldSkip]
    );

    let mut forced = options();
    forced.policy.force_push = true;
    let forced = Engine::new(&plugins, forced, 2);
    let report = forced.run(&jobs(&forced, &specs), false).await.unwrap();
    assert!(
        report.entries.iter().all(|e| e.action == Action::Built),
        "force push builds existing images"
    );
    let report = engine.run(&jobs(&engine, &specs), false).await.unwrap();
    let actions: Vec<Action> = report.entries.iter().map(|e| e.action).collect();
    assert_eq!(actions, [Action::Skipped, Action::Built, Action::Skipped]);
}

/// Two runs of the same spec at once (two `imagespec build` processes): the
/// lock on the image makes the second wait, find the image, and skip it.
#[tokio::test]
async fn two_runs_at_once_build_an_image_once_and_both_succeed() {
    let rec = recorder();
    let mut b = TestBuilder::new("t", &rec);
    b.remembers = true;
    b.delay = Duration::from_millis(100);
    let plugins = set_of(&[(&b, 0)]);
    let locks = tempfile::tempdir().unwrap();
    let mut opts = options();
    opts.lock_dir = Some(locks.path().to_path_buf());
    let (first, second) = (
        Engine::new(&plugins, opts.clone(), 1),
        Engine::new(&plugins, opts, 1),
    );
    let job = jobs(&first, &[spec("name: once\nbuilder: t\n")]);
    let (one, two) = tokio::join!(first.run(&job, false), second.run(&job, false));
    let (one, two) = (one.unwrap(), two.unwrap());
    assert!(one.ok() && two.ok());
    assert_eq!(built(&rec).len(), 1, "built once");
    let mut actions = [one.entries[0].action, two.entries[0].action];
    actions.sort_by_key(|a| a.label());
    assert_eq!(actions, [Action::Built, Action::Skipped]);
}
