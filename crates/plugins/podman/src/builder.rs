//! The `podman` builder.

use async_trait::async_trait;
use imagespec_core::builder::{
    BuildOutcome, BuildRequest, BuilderRegistration, ImageBuilder, Target,
};
use imagespec_core::existence::Existence;
use imagespec_core::{Plugin, Result};

use crate::command::{self, BuildCommand};
use crate::error::PodmanError;
use crate::preflight;
use crate::settings::{PodmanSettings, PRIORITY};
use crate::steps::BuildahSteps;

/// Podman as a builder named `podman`: it runs `podman build` on a
/// prepared context, then `podman push`.
#[derive(Debug, Clone, Default)]
pub struct PodmanBuilder {
    /// `None`: from the environment, read when it builds (the registered
    /// builder, for a program that configures none).
    settings: Option<PodmanSettings>,
}

impl PodmanBuilder {
    /// The builder `inventory` registers: settings from the environment.
    pub const REGISTERED: PodmanBuilder = PodmanBuilder { settings: None };

    /// A builder with these settings (a program's, read once at start-up).
    pub fn new(settings: PodmanSettings) -> PodmanBuilder {
        PodmanBuilder {
            settings: Some(settings),
        }
    }

    /// Its settings.
    pub fn settings(&self) -> std::result::Result<PodmanSettings, PodmanError> {
        match &self.settings {
            Some(s) => Ok(s.clone()),
            None => PodmanSettings::from_env(),
        }
    }
}

impl Plugin for PodmanBuilder {
    fn name(&self) -> &'static str {
        "podman"
    }
}

#[async_trait]
impl ImageBuilder for PodmanBuilder {
    /// Available when a podman binary is there (podman needs no daemon).
    fn available(&self) -> std::result::Result<(), String> {
        let settings = self.settings().map_err(|e| e.to_string())?;
        match settings.resolve() {
            Some(_) => Ok(()),
            None => Err(format!("no `{}` found", settings.podman.display())),
        }
    }

    fn check(&self, target: &Target<'_>) -> std::result::Result<(), imagespec_core::SpecError> {
        if target.platforms.len() > 1 {
            return Err(imagespec_core::SpecError::field(
                "platform",
                format!(
                    "`{}` asks for {} platforms, and the podman builder builds one",
                    target.platforms.join(","),
                    target.platforms.len()
                ),
            )
            .hint(
                "build with the default builder (BuildKit through buildx with a `docker-container` \
                 builder), or give each platform its own spec",
            ));
        }
        Ok(())
    }

    /// Without a registry: podman's local image store. With one: the
    /// registry's answer (the engine asks).
    async fn existence(&self, target: &Target<'_>) -> Result<Option<Existence>> {
        if target.spec.registry().is_some() {
            return Ok(None);
        }
        let settings = self.settings()?;
        let out = settings
            .podman()
            .args(["image", "exists", target.image_name])
            .stdin(std::process::Stdio::null())
            .output()
            .await;
        Ok(Some(match out {
            Err(e) => Existence::Unknown {
                reason: format!("cannot run `{}`: {e}", settings.podman.display()),
            },
            Ok(o) if o.status.success() => Existence::Exists {
                digest: String::new(),
            },
            Ok(o) if o.status.code() == Some(1) => Existence::Missing {
                reason: "not in podman's local image store".into(),
                digest: None,
            },
            Ok(o) => Existence::Unknown {
                reason: format!(
                    "podman did not answer: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                ),
            },
        }))
    }

    async fn planned_commands(&self, request: &BuildRequest<'_>) -> Result<Vec<String>> {
        let context = request.context_for("podman")?;
        let settings = self.settings()?;
        preflight::refuse_registry_cache(&settings)?;
        let podman = settings.podman.display().to_string();
        let quote = |words: Vec<String>| {
            words
                .iter()
                .map(|w| imagespec_core::text::shell_quote(w))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut lines = vec![quote(
            std::iter::once(podman.clone())
                .chain(BuildCommand::of(request, context, &settings).args())
                .collect(),
        )];
        if request.target.push {
            let digest = std::path::Path::new("<digest-file>");
            lines.push(quote(
                std::iter::once(podman)
                    .chain(command::push_args(request.target.image_name, digest))
                    .collect(),
            ));
        }
        Ok(lines)
    }

    async fn build_image(&self, request: &BuildRequest<'_>) -> Result<BuildOutcome> {
        let target = &request.target;
        let context = request.context_for("podman")?;
        let settings = self.settings()?;
        let found = preflight::check(&settings, &target.platforms).await?;
        let settings = PodmanSettings {
            podman: found.podman.clone(),
            named: true,
            ..settings
        };
        let (image, quiet, masked) = (target.image_name, request.quiet, request.masked);
        tracing::info!(image = %image, podman = %found.version, "building with podman");
        let mut build = settings.podman_supervised();
        build.args(BuildCommand::of(request, context, &settings).args());
        imagespec_builder_run::run_streaming(
            build,
            image,
            quiet,
            masked,
            &mut BuildahSteps::default(),
        )
        .await
        .map_err(|e| PodmanError::of_run(e, "build", image))?;

        let mut digest = None;
        if target.push {
            // The digest file: in a folder of its own, made and removed here.
            let dir = tempfile::Builder::new()
                .prefix("imagespec-podman-")
                .tempdir()
                .map_err(|e| PodmanError::Io(format!("cannot create a temporary folder: {e}")))?;
            let file = dir.path().join("digest");
            let mut push = settings.podman_supervised();
            push.args(command::push_args(image, &file));
            imagespec_builder_run::run_streaming(
                push,
                image,
                quiet,
                masked,
                &mut imagespec_builder_run::NoSteps,
            )
            .await
            .map_err(|e| PodmanError::of_run(e, "push", image))?;
            digest = std::fs::read_to_string(&file)
                .ok()
                .map(|d| d.trim().to_string())
                .filter(|d| d.starts_with("sha256:"));
        }
        Ok(BuildOutcome {
            real_name: None,
            pushed: target.push,
            digest,
            context: context.kept.clone(),
        })
    }
}

imagespec_core::inventory::submit!(BuilderRegistration::new(
    &PodmanBuilder::REGISTERED,
    PRIORITY
));

/// Referenced by binaries so the linker keeps this crate's registration.
pub fn link() {}
