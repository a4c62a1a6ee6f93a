//! One `imagespec build` of one spec walks and hashes its source tree once,
//! plus the one re-check after the build context is written (flytekit's
//! guard). The count is process-wide, so this binary holds this test alone.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use imagespec_core::builder::{
    BuildOptions, BuildOutcome, BuilderRegistration, Builders, ImageBuilder,
};
use imagespec_core::engine::Engine;
use imagespec_core::existence::Existence;
use imagespec_core::inputs::source_walks;
use imagespec_core::spec::load_file;
use imagespec_core::{BuildJob, Plugin, Result};
use imagespec_tests::{link_plugins, oracle_defaults, SpecExt};

/// Writes the context, as the Docker builder does before it runs docker.
struct ContextBuilder {
    checks: AtomicUsize,
}

impl Plugin for ContextBuilder {
    fn name(&self) -> &'static str {
        "context"
    }
}

#[async_trait]
impl ImageBuilder for ContextBuilder {
    async fn existence(&self, _job: &BuildJob) -> Result<Existence> {
        self.checks.fetch_add(1, Ordering::SeqCst);
        Ok(Existence::Missing {
            reason: "never built".into(),
            digest: None,
        })
    }

    async fn build_image(&self, job: &BuildJob, options: &BuildOptions) -> Result<BuildOutcome> {
        let out = tempfile::tempdir().unwrap();
        let written = imagespec_core::context::write_context(
            job,
            &options.defaults,
            &out.path().join("ctx"),
        )?;
        assert!(written.files.iter().any(|f| f == "src/pkg/a.py"));
        Ok(BuildOutcome {
            real_name: None,
            pushed: false,
            digest: None,
            context: None,
        })
    }
}

#[tokio::test]
async fn a_build_walks_the_source_tree_once_plus_the_recheck() {
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    for (rel, body) in [
        ("src/app.py", "a"),
        ("src/pkg/a.py", "b"),
        ("src/pkg/b.py", "c"),
    ] {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    let spec_file = dir.path().join("spec.yaml");
    std::fs::write(
        &spec_file,
        "name: walks\npython_version: '3.12'\nbuilder: context\nsource_root: src\nsource_copy_mode: all\n",
    )
    .unwrap();
    let builder: &'static ContextBuilder = Box::leak(Box::new(ContextBuilder {
        checks: AtomicUsize::new(0),
    }));
    let builders: &'static Builders = Box::leak(Box::new(
        Builders::new([BuilderRegistration::new(builder, 0)], "image builders").unwrap(),
    ));
    let options = BuildOptions {
        push: false,
        defaults: oracle_defaults(),
        keep_context: None,
        force_push: false,
        fast_fail: false,
        assume_exists_when_unknown: false,
        quiet: true,
        lock_dir: None,
    };

    let before = source_walks();
    let job = load_file(&spec_file).unwrap().job().unwrap();
    assert_eq!(
        source_walks() - before,
        1,
        "preparing the job walks the tree"
    );
    let report = Engine::new(builders, options, 1)
        .run(&[job], false)
        .await
        .unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(
        builder.checks.load(Ordering::SeqCst),
        1,
        "one existence check"
    );
    assert_eq!(
        source_walks() - before,
        2,
        "check, should_build and build reuse the job: one walk more, the re-check after the context is written"
    );
}
